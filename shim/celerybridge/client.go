package celerybridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Client sends Celery tasks and reads their results. It is safe for
// concurrent use; Close it when done.
type Client struct {
	cfg     config
	log     *slog.Logger
	conn    *connector
	results backend

	mu       sync.RWMutex // guards closed against in-flight Sends
	closed   bool
	inflight sync.WaitGroup
}

// Dial connects to the broker at brokerURL (amqp:// or amqps://) and opens
// the result backend named by WithResultBackend.
func Dial(ctx context.Context, brokerURL string, opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	c := &Client{cfg: cfg, log: cfg.logger}
	results, err := openBackend(ctx, cfg.backendURL, &c.cfg)
	if err != nil {
		return nil, err
	}
	c.results = results
	var attach func(*amqp.Connection) error
	if results != nil {
		attach = results.attach
	}
	if c.conn, err = newConnector(ctx, brokerURL, &c.cfg, attach); err != nil {
		if results != nil {
			_ = results.close(ctx, nil)
		}
		return nil, err
	}
	return c, nil
}

// Send publishes task with positional args and keyword kwargs and returns
// its id once the broker has confirmed the message. Values must encode as
// JSON; use json.Number for numbers that must not pass through float64.
func (c *Client) Send(ctx context.Context, task string, args []any, kwargs map[string]any, opts ...SendOption) (string, error) {
	if task == "" {
		return "", errors.New("celerybridge: empty task name")
	}
	s := sendConfig{}
	for _, o := range opts {
		o(&s)
	}
	if s.taskID == "" {
		s.taskID = uuid.NewString()
	}
	if s.queue == "" {
		s.queue = c.cfg.routes.Queue(task, c.cfg.defaultQueue)
	}
	replyTo := ""
	if c.results != nil && !s.ignoreResult {
		replyTo = c.results.replyTo()
	}
	m, err := buildMessage(task, args, kwargs, s, c.cfg.origin, replyTo)
	if err != nil {
		return "", err
	}
	if err := c.begin(); err != nil {
		return "", err
	}
	defer c.inflight.Done()
	err = c.publish(ctx, m)
	c.cfg.metrics.sent(task, err)
	if err != nil {
		return "", fmt.Errorf("send %s (%s) to %q: %w", task, s.taskID, s.queue, err)
	}
	return s.taskID, nil
}

// begin registers an in-flight Send unless the Client is closed.
func (c *Client) begin() error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return ErrClosed
	}
	c.inflight.Add(1)
	return nil
}

// publish retries m on each new connection until the broker confirms,
// refuses or returns it.
func (c *Client) publish(ctx context.Context, m message) error {
	for {
		s, err := c.conn.session(ctx)
		if err != nil {
			return err
		}
		err = s.publish(ctx, m)
		if !errors.Is(err, errSessionLost) {
			return err
		}
		c.cfg.metrics.republished()
		c.log.Debug("celerybridge: re-publishing after connection loss", "task_id", m.taskID)
	}
}

// Wait blocks until the task reaches SUCCESS, FAILURE or REVOKED, or ctx
// ends. A FAILURE or REVOKED outcome is returned with a *TaskError.
func (c *Client) Wait(ctx context.Context, id string) (Result, error) {
	if c.results == nil {
		return Result{}, ErrNoBackend
	}
	began := time.Now()
	r, err := c.results.wait(ctx, id)
	if err == nil {
		err = r.Err()
	}
	c.cfg.metrics.waited(r, err, time.Since(began))
	return r, err
}

// Lookup reports the task's current state without waiting: PENDING when the
// backend knows nothing of it. With rpc:// only tasks this Client sent are known.
func (c *Client) Lookup(ctx context.Context, id string) (Result, error) {
	if c.results == nil {
		return Result{}, ErrNoBackend
	}
	return c.results.lookup(ctx, id)
}

// LookupMany reports the current states of many tasks in one round trip to
// the result backend (one query, one MGET), in the order of ids: PENDING for
// those it does not know.
func (c *Client) LookupMany(ctx context.Context, ids []string) ([]Result, error) {
	if c.results == nil {
		return nil, ErrNoBackend
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return c.results.lookupMany(ctx, ids)
}

// OnResult makes an rpc:// backend call f with each final result (SUCCESS,
// FAILURE, REVOKED) as it arrives at the reply queue, before the reply is
// acknowledged, so the caller can record it durably: the queue and the
// results kept for Lookup end with this process. f runs on the reply
// consumer and holds up the next reply until it returns; nil stops the
// calls. With a database or Redis backend, which keep results themselves,
// f is never called: read them with LookupMany.
func (c *Client) OnResult(f func(Result)) {
	rb, ok := c.results.(*rpcBackend)
	if !ok {
		return
	}
	if f == nil {
		rb.onFinal.Store(nil)
		return
	}
	rb.onFinal.Store(&f)
}

// Call sends a task and waits for its result.
func (c *Client) Call(ctx context.Context, task string, args []any, kwargs map[string]any, opts ...SendOption) (Result, error) {
	id, err := c.Send(ctx, task, args, kwargs, opts...)
	if err != nil {
		return Result{}, err
	}
	return c.Wait(ctx, id)
}

// Close stops new Sends, waits for in-flight ones to be confirmed (or ctx to
// end), releases the result backend (deleting an rpc:// reply queue) and
// closes the connection.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	drained := make(chan struct{})
	go func() { c.inflight.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-ctx.Done():
		c.log.Warn("celerybridge: closing with sends still unconfirmed", "err", ctx.Err())
	}
	var errs []error
	if c.results != nil {
		errs = append(errs, c.results.close(ctx, c.conn.liveConn()))
	}
	errs = append(errs, c.conn.close(ctx))
	return errors.Join(errs...)
}

// ErrDisconnected reports that the client is between broker connections.
var ErrDisconnected = errors.New("celerybridge: not connected to the broker (reconnecting)")

// Ready reports whether the client holds a live broker connection, for
// readiness probes. Sends made while it is not ready wait for the reconnect.
func (c *Client) Ready(context.Context) error {
	if conn := c.conn.liveConn(); conn == nil || conn.IsClosed() {
		return ErrDisconnected
	}
	return nil
}
