package celerybridge

import (
	"context"
	"errors"
	"fmt"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// returnBuffer is how many returned messages a lane holds until a sender
// collects them. The library blocks its reader while the buffer is full; the
// senders whose confirms follow those returns drain it.
const returnBuffer = 1024

// lane is one confirming channel of a session. Its sender waits for the
// library's deferred confirmation directly, so a confirm wakes exactly the
// goroutine that waits for it.
//
// A mandatory message no queue accepts comes back as a basic.return before
// its basic.ack on the same channel, and the library hands the return to the
// buffered returns channel before it resolves the ack. So once a sender sees
// its ack, its return, if any, is in the buffer or already collected into
// returned: collecting under retMu and then looking is race-free.
type lane struct {
	ch      *amqp.Channel
	returns <-chan amqp.Return

	pubMu sync.Mutex // serialises publishes on ch

	retMu    sync.Mutex     // guards returned and draining returns
	returned map[string]int // correlation ids returned and not yet claimed
}

// openLane opens a confirming channel on conn.
func openLane(conn *amqp.Connection) (*lane, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("open channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		return nil, fmt.Errorf("enable publisher confirms: %w", err)
	}
	return &lane{ch: ch, returned: map[string]int{},
		returns: ch.NotifyReturn(make(chan amqp.Return, returnBuffer))}, nil
}

// publish sends m, with pubMu held by the caller and released here once the
// message is written, and waits for the broker's verdict.
func (l *lane) publish(ctx context.Context, m message) error {
	dc, err := l.ch.PublishWithDeferredConfirmWithContext(ctx, m.exchange, m.queue, true, false, m.publishing)
	l.pubMu.Unlock()
	switch {
	case err != nil && (l.ch.IsClosed() || errors.Is(err, amqp.ErrClosed)):
		return errSessionLost
	case err != nil:
		return fmt.Errorf("publish to %q: %w", m.queue, err)
	}
	select {
	case <-dc.Done():
	case <-ctx.Done():
		return fmt.Errorf("await confirm: %w", ctx.Err())
	}
	switch {
	case dc.Acked():
		if l.claimReturn(m.taskID) {
			return ErrUnroutable
		}
		return nil
	case l.ch.IsClosed(): // the library nacks what was pending at close
		return errSessionLost
	default:
		return ErrNacked
	}
}

// claimReturn collects the returns the library has handed over and reports
// whether one of them is the message with correlation id corrID.
func (l *lane) claimReturn(corrID string) bool {
	l.retMu.Lock()
	defer l.retMu.Unlock()
	for collecting := true; collecting; {
		select {
		case r, ok := <-l.returns:
			if ok {
				l.returned[r.CorrelationId]++
			}
			collecting = ok
		default:
			collecting = false
		}
	}
	if l.returned[corrID] == 0 {
		return false
	}
	if l.returned[corrID]--; l.returned[corrID] == 0 {
		delete(l.returned, corrID)
	}
	return true
}
