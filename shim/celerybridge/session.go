package celerybridge

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	amqp "github.com/rabbitmq/amqp091-go"
)

// errSessionLost means the connection died before the broker confirmed a
// publish; the publish is retried on the next connection.
var errSessionLost = errors.New("celerybridge: connection lost before confirm")

// publishLanes is how many confirming channels a session publishes on. The
// broker runs each channel as its own process, so a few channels confirm
// more messages per second than one.
const publishLanes = 4

// session is one live AMQP connection with its confirming publish channels.
// Losing the connection or any one channel kills the whole session, and
// every unconfirmed publish is retried on the next connection.
type session struct {
	conn  *amqp.Connection
	lanes []*lane
	next  atomic.Uint32 // where the search for a free lane starts

	dead     chan struct{} // closed once the connection or a channel is gone
	killOnce sync.Once
}

// newSession opens the confirming channels on conn and watches them and
// the connection.
func newSession(conn *amqp.Connection) (*session, error) {
	s := &session{conn: conn, dead: make(chan struct{})}
	for range publishLanes {
		l, err := openLane(conn)
		if err != nil {
			return nil, err
		}
		s.lanes = append(s.lanes, l)
		go s.watch(l.ch.NotifyClose(make(chan *amqp.Error, 1)))
	}
	go s.watch(conn.NotifyClose(make(chan *amqp.Error, 1)))
	return s, nil
}

// publish sends m on a free lane (or the next in turn when all are busy)
// and waits for the broker's verdict: nil once confirmed, ErrNacked,
// ErrUnroutable, a publish error, or errSessionLost when the session died
// first (m may or may not have reached the broker).
func (s *session) publish(ctx context.Context, m message) error {
	select {
	case <-s.dead:
		return errSessionLost
	default:
	}
	err := s.lane().publish(ctx, m)
	if errors.Is(err, errSessionLost) {
		s.kill() // the close may not have reached watch yet; retry on a new session
	}
	return err
}

// lane returns a lane with its publish lock held: the first free one from a
// rotating start, else the start itself once it frees.
func (s *session) lane() *lane {
	start := int(s.next.Add(1))
	for i := range s.lanes {
		if l := s.lanes[(start+i)%len(s.lanes)]; l.pubMu.TryLock() {
			return l
		}
	}
	l := s.lanes[start%len(s.lanes)]
	l.pubMu.Lock()
	return l
}

// watch kills the session when closed delivers or closes.
func (s *session) watch(closed <-chan *amqp.Error) {
	select {
	case <-closed:
	case <-s.dead:
	}
	s.kill()
}

// kill marks the session dead and closes the connection; the library then
// fails every unconfirmed publish, and its sender re-publishes.
func (s *session) kill() {
	s.killOnce.Do(func() {
		close(s.dead)
		go func() { _ = s.conn.Close() }() // never block the library's reader
	})
}
