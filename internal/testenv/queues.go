package testenv

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

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

// SameMessage reports whether d carries sent unchanged: its body, headers
// and every property a publisher sets.
func SameMessage(d amqp.Delivery, sent amqp.Publishing) bool {
	return reflect.DeepEqual(d.Headers, sent.Headers) && string(d.Body) == string(sent.Body) &&
		d.ContentType == sent.ContentType && d.ContentEncoding == sent.ContentEncoding && d.DeliveryMode == sent.DeliveryMode &&
		d.Priority == sent.Priority && d.CorrelationId == sent.CorrelationId && d.ReplyTo == sent.ReplyTo &&
		d.Expiration == sent.Expiration && d.MessageId == sent.MessageId && d.Type == sent.Type && d.AppId == sent.AppId &&
		d.Timestamp.Equal(sent.Timestamp)
}

// TakeMessage takes the next message off queue on ch, waiting up to d for
// one to arrive.
func TakeMessage(t testing.TB, ch *amqp.Channel, queue string, d time.Duration) amqp.Delivery {
	t.Helper()
	for deadline := time.Now().Add(d); ; {
		m, ok, err := ch.Get(queue, true)
		if err != nil {
			t.Fatalf("testenv: take a message off %s: %v", queue, err)
		}
		if ok {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: no message reached %s in %v", queue, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Channel opens a channel on a connection of its own to the broker at
// brokerURL, both closed when the test ends.
func Channel(t testing.TB, brokerURL string) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(brokerURL)
	if err != nil {
		t.Fatalf("testenv: dial %s: %v", brokerURL, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("testenv: open channel: %v", err)
	}
	return ch
}
