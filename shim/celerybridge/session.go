package celerybridge

import (
	"context"
	"errors"
	"fmt"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// errSessionLost means the connection died before the broker confirmed a
// publish; the publish is retried on the next connection.
var errSessionLost = errors.New("celerybridge: connection lost before confirm")

// session is one live AMQP connection with its confirming publish channel.
type session struct {
	conn *amqp.Connection
	ch   *amqp.Channel

	pubMu sync.Mutex // serialises publishes so delivery tags match waiters

	mu      sync.Mutex // guards pending and lost
	pending map[uint64]*inflight
	lost    bool

	dead     chan struct{} // closed once the connection or channel is gone
	killOnce sync.Once
}

// inflight is a published message waiting for its confirm.
type inflight struct {
	corrID   string
	returned bool
	done     chan error
}

// newSession opens a confirming channel on conn and starts watching it.
func newSession(conn *amqp.Connection) (*session, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("open channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		return nil, fmt.Errorf("enable publisher confirms: %w", err)
	}
	s := &session{conn: conn, ch: ch, pending: map[uint64]*inflight{}, dead: make(chan struct{})}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 1024))
	// Unbuffered: the library hands us a basic.return before the basic.ack
	// of the same message, so the dispatcher always sees the return first.
	returns := ch.NotifyReturn(make(chan amqp.Return))
	go s.dispatch(confirms, returns)
	go s.watch(conn.NotifyClose(make(chan *amqp.Error, 1)), ch.NotifyClose(make(chan *amqp.Error, 1)))
	return s, nil
}

// publish sends m and returns a channel that yields the broker's verdict.
func (s *session) publish(ctx context.Context, m message) (<-chan error, error) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	f := &inflight{corrID: m.taskID, done: make(chan error, 1)}
	tag := s.ch.GetNextPublishSeqNo()
	s.mu.Lock()
	if s.lost {
		s.mu.Unlock()
		return nil, errSessionLost
	}
	s.pending[tag] = f
	s.mu.Unlock()
	err := s.ch.PublishWithContext(ctx, m.exchange, m.queue, true, false, m.publishing)
	if err == nil {
		return f.done, nil
	}
	s.mu.Lock()
	delete(s.pending, tag)
	lost := s.lost || s.conn.IsClosed() || errors.Is(err, amqp.ErrClosed)
	s.mu.Unlock()
	if lost {
		return nil, errSessionLost
	}
	return nil, fmt.Errorf("publish to %q: %w", m.queue, err)
}

// dispatch matches returns and confirms to pending publishes.
func (s *session) dispatch(confirms <-chan amqp.Confirmation, returns <-chan amqp.Return) {
	for {
		select {
		case r, ok := <-returns:
			if !ok {
				returns = nil
				continue
			}
			s.markReturned(r.CorrelationId)
		case c, ok := <-confirms:
			if !ok {
				s.kill()
				return
			}
			s.resolve(c)
		}
	}
}

func (s *session) markReturned(corrID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.pending {
		if f.corrID == corrID && !f.returned {
			f.returned = true
			return
		}
	}
}

func (s *session) resolve(c amqp.Confirmation) {
	s.mu.Lock()
	f, ok := s.pending[c.DeliveryTag]
	delete(s.pending, c.DeliveryTag)
	s.mu.Unlock()
	switch {
	case !ok:
	case !c.Ack:
		f.done <- ErrNacked
	case f.returned:
		f.done <- ErrUnroutable
	default:
		f.done <- nil
	}
}

// watch kills the session when either the connection or the channel closes.
func (s *session) watch(connClosed, chClosed <-chan *amqp.Error) {
	select {
	case <-connClosed:
	case <-chClosed:
	case <-s.dead:
	}
	s.kill()
}

// kill marks the session dead, fails every unconfirmed publish with
// errSessionLost so its sender re-publishes, and closes the connection.
func (s *session) kill() {
	s.killOnce.Do(func() {
		s.mu.Lock()
		s.lost = true
		for tag, f := range s.pending {
			f.done <- errSessionLost
			delete(s.pending, tag)
		}
		s.mu.Unlock()
		close(s.dead)
		go func() { _ = s.conn.Close() }() // never block the library's reader
	})
}
