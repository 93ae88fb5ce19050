package celerybridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"
)

// PidboxExchange is Celery's remote-control broadcast exchange (kombu's
// Mailbox for the "celery" namespace), which every worker binds to.
const PidboxExchange = "celery.pidbox"

// ErrNoWorkers means no worker listens for remote-control commands.
var ErrNoWorkers = errors.New("celerybridge: no Celery worker listens for remote control")

// controlCommand is the body of a kombu Mailbox broadcast.
type controlCommand struct {
	Method      string         `json:"method"`
	Arguments   map[string]any `json:"arguments"`
	Destination []string       `json:"destination"`
	Pattern     *string        `json:"pattern"`
	Matcher     *string        `json:"matcher"`
}

// Revoke broadcasts Celery's revoke command for task id, as
// app.control.revoke(id) does (terminate=False): every worker records the id
// and discards the task when it arrives or its ETA comes, reporting REVOKED.
// A task already running is not interrupted. It returns once the broker has
// confirmed the broadcast, or ErrNoWorkers when no worker listens.
func (c *Client) Revoke(ctx context.Context, id string) error {
	if _, err := uuid.Parse(id); err != nil {
		return fmt.Errorf("revoke %q: not a task id", id)
	}
	if err := c.begin(); err != nil {
		return err
	}
	defer c.inflight.Done()
	if err := c.pidboxExists(ctx); err != nil {
		return err
	}
	body, err := json.Marshal(controlCommand{
		Method:    "revoke",
		Arguments: map[string]any{"task_id": id, "terminate": false, "signal": "SIGTERM"},
	})
	if err != nil {
		return fmt.Errorf("encode revoke: %w", err)
	}
	m := message{taskID: id, exchange: PidboxExchange, publishing: amqp.Publishing{
		ContentType: "application/json", ContentEncoding: "utf-8", Timestamp: time.Now(),
		Headers: amqp.Table{"ticket": uuid.NewString(), "clock": int64(0)}, Body: body,
	}}
	err = c.publish(ctx, m)
	if errors.Is(err, ErrUnroutable) {
		return ErrNoWorkers
	}
	if err != nil {
		return fmt.Errorf("revoke %s: %w", id, err)
	}
	return nil
}

// pidboxExists checks passively, on a channel of its own (a failed passive
// declare closes the channel), that workers have declared the exchange.
func (c *Client) pidboxExists(ctx context.Context) error {
	s, err := c.conn.session(ctx)
	if err != nil {
		return err
	}
	ch, err := s.conn.Channel()
	if err != nil {
		return fmt.Errorf("open control channel: %w", err)
	}
	defer ch.Close()
	err = ch.ExchangeDeclarePassive(PidboxExchange, amqp.ExchangeFanout, false, true, false, false, nil)
	var amqpErr *amqp.Error
	if errors.As(err, &amqpErr) && amqpErr.Code == amqp.NotFound {
		return ErrNoWorkers
	}
	if err != nil {
		return fmt.Errorf("check %s exchange: %w", PidboxExchange, err)
	}
	return nil
}
