package celerybridge

import (
	"context"
	"errors"
	"fmt"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Handler handles one message a Consumer took. Nil acknowledges it; an
// error puts it back on its queue. A message whose connection dropped
// before its acknowledgement comes back as well, so a handler must be safe
// to repeat.
type Handler func(ctx context.Context, d amqp.Delivery) error

// Consumer takes the messages of one queue on a connection of its own,
// re-dialled with backoff when it drops, and hands each to its handler: at
// most prefetch at once, each acknowledged once its handler returns.
type Consumer struct {
	queue     string
	declare   []string
	broadcast string
	prefetch  int
	handle    Handler
	conn      *connector
	ctx       context.Context // ends when Close starts
	stop      context.CancelFunc
	handlers  sync.WaitGroup

	mu  sync.Mutex // guards ch
	ch  *amqp.Channel
	tag string
}

// NewConsumer connects to the broker at brokerURL and consumes queue,
// declared as Celery declares its queues (durable, no arguments), so
// messages published before the platform's workers start wait in it.
func NewConsumer(ctx context.Context, brokerURL, queue string, prefetch int, handle Handler, opts ...Option) (*Consumer, error) {
	if prefetch < 1 {
		return nil, fmt.Errorf("celerybridge: consume %s: prefetch %d, want at least 1", queue, prefetch)
	}
	cfg := defaultConfig()
	cfg.connName = "celerybridge consumer " + queue
	for _, o := range opts {
		o(&cfg)
	}
	c := &Consumer{queue: queue, declare: cfg.declare, broadcast: cfg.broadcast, prefetch: prefetch, handle: handle, tag: "celerybridge-" + queue}
	c.ctx, c.stop = context.WithCancel(context.WithoutCancel(ctx))
	var err error
	if c.conn, err = newConnector(ctx, brokerURL, &cfg, c.attach); err != nil {
		c.stop()
		return nil, fmt.Errorf("celerybridge: consume %s: %w", queue, err)
	}
	return c, nil
}

// attach starts consuming on a new connection.
func (c *Consumer) attach(conn *amqp.Connection) error {
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	if err := c.declareQueue(ch); err != nil {
		return err
	}
	for _, q := range c.declare {
		if err := declareCelery(ch, q); err != nil {
			return err
		}
	}
	if err := ch.Qos(c.prefetch, 0, false); err != nil {
		return fmt.Errorf("set prefetch: %w", err)
	}
	deliveries, err := ch.Consume(c.queue, c.tag, false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("consume %s: %w", c.queue, err)
	}
	c.mu.Lock()
	c.ch = ch
	c.mu.Unlock()
	go c.consume(deliveries)
	return nil
}

// Broadcast queues live while their consumer does, and at most a little
// longer: as a Celery worker's pidbox queue, it expires 10 s after it is
// left, and a broadcast in it expires after 300 s.
var broadcastQueueArgs = amqp.Table{"x-expires": int32(10_000), "x-message-ttl": int32(300_000)}

// declareQueue declares the consumer's queue: a Celery queue, or a
// broadcast queue bound to its exchange, declared as kombu's Mailbox
// declares it (fanout, not durable).
func (c *Consumer) declareQueue(ch *amqp.Channel) error {
	if c.broadcast == "" {
		return declareCelery(ch, c.queue)
	}
	if err := ch.ExchangeDeclare(c.broadcast, amqp.ExchangeFanout, false, false, false, false, nil); err != nil {
		return fmt.Errorf("declare exchange %s: %w", c.broadcast, err)
	}
	if _, err := ch.QueueDeclare(c.queue, false, true, false, false, broadcastQueueArgs); err != nil {
		return fmt.Errorf("declare queue %s: %w", c.queue, err)
	}
	if err := ch.QueueBind(c.queue, "", c.broadcast, false, nil); err != nil {
		return fmt.Errorf("bind queue %s to %s: %w", c.queue, c.broadcast, err)
	}
	return nil
}

// declareCelery declares queue as Celery does: durable, no arguments.
func declareCelery(ch *amqp.Channel, queue string) error {
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		return fmt.Errorf("declare queue %s: %w", queue, err)
	}
	return nil
}

// consume runs the handler for each delivery until the channel closes.
func (c *Consumer) consume(deliveries <-chan amqp.Delivery) {
	for d := range deliveries {
		c.handlers.Add(1)
		go func() {
			defer c.handlers.Done()
			if err := c.handle(c.ctx, d); err != nil {
				_ = d.Nack(false, true)
				return
			}
			_ = d.Ack(false)
		}()
	}
}

// Ready reports whether the consumer is connected.
func (c *Consumer) Ready(context.Context) error {
	if conn := c.conn.liveConn(); conn == nil || conn.IsClosed() {
		return ErrDisconnected
	}
	return nil
}

// Close stops taking messages, waits until the handlers of those taken
// return (or ctx ends: their messages then come back to the queue), and
// closes the connection.
func (c *Consumer) Close(ctx context.Context) error {
	c.mu.Lock()
	ch := c.ch
	c.mu.Unlock()
	var err error
	if ch != nil {
		if cerr := ch.Cancel(c.tag, false); cerr != nil && !errors.Is(cerr, amqp.ErrClosed) {
			err = fmt.Errorf("celerybridge: stop consuming %s: %w", c.queue, cerr)
		}
	}
	done := make(chan struct{})
	go func() { c.handlers.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	c.stop() // ends the handlers' context: those still running give up
	return errors.Join(err, c.conn.close(ctx))
}

// Forward publishes d to queue as it came, body, headers and properties,
// and returns once the broker confirmed it.
func (c *Client) Forward(ctx context.Context, d amqp.Delivery, queue string) error {
	if err := c.begin(); err != nil {
		return err
	}
	defer c.inflight.Done()
	m := message{taskID: d.CorrelationId, queue: queue, publishing: amqp.Publishing{
		Headers: d.Headers, ContentType: d.ContentType, ContentEncoding: d.ContentEncoding, DeliveryMode: d.DeliveryMode,
		Priority: d.Priority, CorrelationId: d.CorrelationId, ReplyTo: d.ReplyTo, Expiration: d.Expiration,
		MessageId: d.MessageId, Timestamp: d.Timestamp, Type: d.Type, UserId: d.UserId, AppId: d.AppId, Body: d.Body,
	}}
	if err := c.publish(ctx, m); err != nil {
		return fmt.Errorf("forward to %s: %w", queue, err)
	}
	return nil
}

// DeclareQueue declares queue as Celery declares its queues (durable, no
// arguments), for a queue this client forwards to before any worker
// consumes it.
func (c *Client) DeclareQueue(ctx context.Context, queue string) error {
	s, err := c.conn.session(ctx)
	if err != nil {
		return err
	}
	ch, err := s.conn.Channel()
	if err != nil {
		return fmt.Errorf("celerybridge: open channel: %w", err)
	}
	defer func() { _ = ch.Close() }()
	return declareCelery(ch, queue)
}
