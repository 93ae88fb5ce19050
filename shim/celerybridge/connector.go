package celerybridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// connector keeps one live session, re-dialling with backoff when it dies.
type connector struct {
	url       string
	cfg       *config
	log       *slog.Logger
	onConnect func(*amqp.Connection) error

	mu    sync.Mutex // guards cur and ready
	cur   *session
	ready chan struct{} // closed while cur is live

	closing chan struct{}
	stopped chan struct{}
}

// newConnector dials once and then keeps the connection alive in the
// background. A failed first dial fails it, unless the configuration asks
// for a background connect and the failure may pass (the broker is down or
// unreachable, not refusing our credentials).
func newConnector(ctx context.Context, url string, cfg *config, onConnect func(*amqp.Connection) error) (*connector, error) {
	k := &connector{url: url, cfg: cfg, log: cfg.logger, onConnect: onConnect,
		ready: make(chan struct{}), closing: make(chan struct{}), stopped: make(chan struct{})}
	s, err := k.connect(ctx)
	switch {
	case err == nil:
		k.set(s)
	case cfg.background && transient(url, err):
		k.log.Warn("celerybridge: broker unreachable; connecting in the background", "err", err)
	default:
		return nil, err
	}
	go k.run(s)
	return k, nil
}

// transient reports whether a first dial's error may pass by retrying:
// anything but a malformed URL or the broker refusing the login or vhost.
func transient(url string, err error) bool {
	if _, perr := amqp.ParseURI(url); perr != nil {
		return false
	}
	var amqpErr *amqp.Error
	return !errors.As(err, &amqpErr) || (amqpErr.Code != amqp.AccessRefused && amqpErr.Code != amqp.NotAllowed)
}

func (k *connector) connect(ctx context.Context) (*session, error) {
	conn, err := amqp.DialConfig(k.url, amqp.Config{Dial: amqp.DefaultDial(k.cfg.dialTimeout), Properties: amqp.Table{"connection_name": k.cfg.connName}})
	if err != nil {
		return nil, fmt.Errorf("dial broker: %w", err)
	}
	if err := ctx.Err(); err != nil {
		_ = conn.Close()
		return nil, err
	}
	if k.onConnect != nil {
		if err := k.onConnect(conn); err != nil {
			_ = conn.Close()
			return nil, err
		}
	}
	s, err := newSession(conn)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return s, nil
}

// run waits for the session to die and replaces it until the connector
// closes; a nil s (no first connection yet) is dialled at once.
func (k *connector) run(s *session) {
	defer close(k.stopped)
	for {
		if s != nil {
			select {
			case <-s.dead:
				k.log.Warn("celerybridge: broker connection lost; reconnecting")
			case <-k.closing:
				k.unset()
				s.kill()
				return
			}
			k.unset()
		}
		if s = k.redial(); s == nil {
			return
		}
		k.set(s)
		k.cfg.metrics.reconnected()
		k.log.Info("celerybridge: broker connection restored")
	}
}

// redial connects with exponential backoff; nil once the connector closes.
func (k *connector) redial() *session {
	wait := k.cfg.minBackoff
	for {
		select {
		case <-k.closing:
			return nil
		case <-time.After(wait):
		}
		s, err := k.connect(context.Background())
		if err == nil {
			return s
		}
		k.log.Warn("celerybridge: reconnect failed", "err", err, "retry_in", wait)
		wait = min(wait*2, k.cfg.maxBackoff)
	}
}

func (k *connector) set(s *session) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cur = s
	close(k.ready)
}

func (k *connector) unset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cur != nil {
		k.cur = nil
		k.ready = make(chan struct{})
	}
}

// session returns the live session, waiting for a reconnect if needed.
func (k *connector) session(ctx context.Context) (*session, error) {
	for {
		k.mu.Lock()
		s := k.cur
		var ready <-chan time.Time
		readyCh := k.ready
		k.mu.Unlock()
		if s != nil {
			select {
			case <-s.dead: // run has not noticed yet; give it a moment
				ready, readyCh = time.After(10*time.Millisecond), nil
			default:
				return s, nil
			}
		}
		select {
		case <-readyCh:
		case <-ready:
		case <-k.closing:
			return nil, ErrClosed
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for broker connection: %w", ctx.Err())
		}
	}
}

// close stops reconnecting and closes the connection.
func (k *connector) close(ctx context.Context) error {
	select {
	case <-k.closing:
	default:
		close(k.closing)
	}
	select {
	case <-k.stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close broker connection: %w", ctx.Err())
	}
}

// liveConn returns the current connection, or nil while reconnecting.
func (k *connector) liveConn() *amqp.Connection {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cur == nil {
		return nil
	}
	return k.cur.conn
}
