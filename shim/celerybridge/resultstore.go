package celerybridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// StoredResult is a task's final result as a Celery worker stores it, with
// the request fields that Celery's result_extended adds.
type StoredResult struct {
	Result
	// Name, Args and Kwargs are the task's name and arguments (JSON, as
	// sent); Queue is the queue it was taken from.
	Name         string
	Args, Kwargs json.RawMessage
	Queue        string
	Retries      int
	// Worker is the hostname that ran it, as Celery's request shows it.
	Worker string
	// ReplyTo is the caller's rpc:// reply queue; an rpc:// result with
	// none has nowhere to go.
	ReplyTo string
}

// ExceptionValue is the result of a FAILURE or REVOKED task as Celery's
// JSON result serializer writes an exception: its type, its module and
// its arguments (one message here).
func ExceptionValue(excType, excModule, message string) json.RawMessage {
	raw, _ := json.Marshal(map[string]any{"exc_type": excType, "exc_message": []string{message}, "exc_module": excModule})
	return raw
}

// resultRecorder is a result backend that stores results where the
// caller's AsyncResult reads them (the database and Redis backends).
type resultRecorder interface {
	record(ctx context.Context, r StoredResult, meta []byte) error
}

// ErrNoResultBackend means the Client has no result backend to store in.
var ErrNoResultBackend = errors.New("celerybridge: no result backend")

// StoreResult stores r in the Client's result backend as a worker of the
// platform would, so that AsyncResult(r.TaskID).get() in Python returns it:
// an rpc:// reply to r.ReplyTo (ErrUnroutable when that queue is gone), a
// celery-task-meta-<id> key in Redis, or a celery_taskmeta row.
func (c *Client) StoreResult(ctx context.Context, r StoredResult) error {
	if r.DateDone.IsZero() {
		r.DateDone = time.Now()
	}
	meta, err := resultMeta(r)
	if err != nil {
		return err
	}
	switch rec := c.results.(type) {
	case nil:
		return ErrNoResultBackend
	case resultRecorder:
		return rec.record(ctx, r, meta)
	}
	return c.reply(ctx, r, meta)
}

// reply publishes meta to the caller's reply queue, as the rpc:// backend's
// workers do.
func (c *Client) reply(ctx context.Context, r StoredResult, meta []byte) error {
	if r.ReplyTo == "" {
		return fmt.Errorf("store result of %s: rpc:// result with no reply_to: %w", r.TaskID, ErrUnroutable)
	}
	if err := c.begin(); err != nil {
		return err
	}
	defer c.inflight.Done()
	m := message{taskID: r.TaskID, queue: r.ReplyTo, publishing: amqp.Publishing{
		ContentType: "application/json", ContentEncoding: "utf-8", CorrelationId: r.TaskID,
		DeliveryMode: amqp.Transient, Body: meta,
	}}
	if err := c.publish(ctx, m); err != nil {
		return fmt.Errorf("store result of %s in reply queue %s: %w", r.TaskID, r.ReplyTo, err)
	}
	return nil
}

// dateDoneLayout is Python's isoformat() of the naive UTC datetime Celery
// 5.2 stores as date_done.
const dateDoneLayout = "2006-01-02T15:04:05.000000"

// resultMeta is the meta dict Celery's backends store (Backend
// _get_result_meta, with task_id as the key-value and rpc:// backends add
// it), extended with the request's fields.
func resultMeta(r StoredResult) ([]byte, error) {
	var tb any
	if r.Traceback != "" {
		tb = r.Traceback
	}
	meta := struct {
		Status    State           `json:"status"`
		Result    json.RawMessage `json:"result"`
		Traceback any             `json:"traceback"`
		Children  []any           `json:"children"`
		DateDone  string          `json:"date_done"`
		Name      string          `json:"name"`
		Args      json.RawMessage `json:"args"`
		Kwargs    json.RawMessage `json:"kwargs"`
		Worker    string          `json:"worker"`
		Retries   int             `json:"retries"`
		Queue     string          `json:"queue"`
		TaskID    string          `json:"task_id"`
	}{r.State, orNull(r.Value), tb, []any{}, r.DateDone.UTC().Format(dateDoneLayout), r.Name, orNull(r.Args), orNull(r.Kwargs),
		r.Worker, r.Retries, r.Queue, r.TaskID}
	raw, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("encode result of %s: %w", r.TaskID, err)
	}
	return raw, nil
}

// orNull is raw, or JSON null when it holds nothing.
func orNull(raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("null")
	}
	return raw
}
