package testenv

import (
	"errors"
	"fmt"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// DeleteQueues deletes the named queues, with any messages left in them, on
// the broker at brokerURL; a queue that does not exist is no error.
func DeleteQueues(brokerURL string, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	conn, err := amqp.Dial(brokerURL)
	if err != nil {
		return fmt.Errorf("delete queues: %w", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("delete queues: %w", err)
	}
	var errs []error
	for _, q := range names {
		if _, err := ch.QueueDelete(q, false, false, false); err != nil {
			errs = append(errs, fmt.Errorf("delete queue %s: %w", q, err))
			if ch, err = conn.Channel(); err != nil { // a failed delete closes the channel
				return errors.Join(append(errs, err)...)
			}
		}
	}
	return errors.Join(errs...)
}

// DeleteQueuesAfter deletes the named queues on the test broker in
// t.Cleanup, for queues a test creates itself.
func DeleteQueuesAfter(t testing.TB, names ...string) {
	t.Helper()
	broker := AMQPURL(t)
	t.Cleanup(func() {
		if err := DeleteQueues(broker, names...); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
}
