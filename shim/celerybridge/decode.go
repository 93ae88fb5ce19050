package celerybridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// ErrUndecodable reports a message that is not a Celery protocol-v2 task
// in JSON: another serializer (pickle, yaml, msgpack), protocol v1, or a
// body that is not [args, kwargs, embed]. A consumer that cannot decode a
// message should pass it on unchanged rather than drop it.
var ErrUndecodable = errors.New("celerybridge: not a protocol-v2 JSON task message")

// Task is a task message as a Celery worker receives it (protocol v2).
type Task struct {
	// ID is the task id, which the caller's AsyncResult reads.
	ID string
	// Name is the registered task name.
	Name string
	// Args is the JSON array of positional arguments, as sent: numbers
	// keep every digit.
	Args json.RawMessage
	// Kwargs is the JSON object of keyword arguments, as sent.
	Kwargs json.RawMessage
	// ETA is when the task may run (eta or countdown); zero for now.
	ETA time.Time
	// Expires is when the task is to be revoked unrun; zero for never.
	Expires time.Time
	// Retries counts the task's earlier attempts.
	Retries int
	// RootID and ParentID link the task to the workflow it is part of.
	RootID, ParentID string
	// ReplyTo and CorrelationID address an rpc:// result.
	ReplyTo, CorrelationID string
	// IgnoreResult is set when the caller wants no result stored.
	IgnoreResult bool
	// Linked is set when the message carries callbacks, errbacks, a chain
	// or a chord: work Celery runs after this task.
	Linked bool
}

// DecodeTask reads d as a protocol-v2 task message with a JSON body, as
// Python Celery's send_task and apply_async publish it. A message it
// cannot read so is ErrUndecodable.
func DecodeTask(d amqp.Delivery) (Task, error) {
	if d.ContentType != "application/json" || (d.ContentEncoding != "" && !strings.EqualFold(d.ContentEncoding, "utf-8")) {
		return Task{}, fmt.Errorf("%w: content %q, encoding %q", ErrUndecodable, d.ContentType, d.ContentEncoding)
	}
	t := Task{ReplyTo: d.ReplyTo, CorrelationID: d.CorrelationId}
	var err error
	if t.ID, err = headerString(d.Headers, "id", true); err != nil {
		return Task{}, err
	}
	if t.Name, err = headerString(d.Headers, "task", true); err != nil {
		return Task{}, err
	}
	if err := t.readHeaders(d.Headers); err != nil {
		return Task{}, err
	}
	if err := t.readBody(d.Body); err != nil {
		return Task{}, fmt.Errorf("task %s (%s): %w", t.ID, t.Name, err)
	}
	return t, nil
}

// readHeaders reads the optional headers of a task.
func (t *Task) readHeaders(h amqp.Table) error {
	var err error
	for _, f := range []struct {
		key string
		to  *string
	}{{"root_id", &t.RootID}, {"parent_id", &t.ParentID}} {
		if *f.to, err = headerString(h, f.key, false); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		key string
		to  *time.Time
	}{{"eta", &t.ETA}, {"expires", &t.Expires}} {
		if *f.to, err = headerTime(h, f.key); err != nil {
			return err
		}
	}
	if t.Retries, err = headerInt(h, "retries"); err != nil {
		return err
	}
	t.IgnoreResult, _ = h["ignore_result"].(bool)
	return nil
}

// readBody reads [args, kwargs, embed].
func (t *Task) readBody(body []byte) error {
	var parts []json.RawMessage
	if err := json.Unmarshal(body, &parts); err != nil || len(parts) != 3 {
		return fmt.Errorf("%w: the body is not [args, kwargs, embed]", ErrUndecodable)
	}
	args, kwargs := bytes.TrimSpace(parts[0]), bytes.TrimSpace(parts[1])
	if !bytes.HasPrefix(args, []byte("[")) || !bytes.HasPrefix(kwargs, []byte("{")) {
		return fmt.Errorf("%w: args must be an array and kwargs an object", ErrUndecodable)
	}
	var embed map[string]json.RawMessage
	if err := json.Unmarshal(parts[2], &embed); err != nil {
		return fmt.Errorf("%w: embed is not an object", ErrUndecodable)
	}
	for _, key := range []string{"callbacks", "errbacks", "chain", "chord"} {
		if v, ok := embed[key]; ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			t.Linked = true
		}
	}
	t.Args, t.Kwargs = args, kwargs
	return nil
}

// headerString reads a string header; a missing or null one is "" unless
// required.
func headerString(h amqp.Table, key string, required bool) (string, error) {
	switch v := h[key].(type) {
	case string:
		if v == "" && required {
			break
		}
		return v, nil
	case nil:
		if !required {
			return "", nil
		}
	}
	return "", fmt.Errorf("%w: header %s is %T %v", ErrUndecodable, key, h[key], h[key])
}

// headerTime reads an ISO-8601 time header (Python's isoformat, with or
// without an offset; Celery means UTC without one); null is the zero time.
func headerTime(h amqp.Table, key string) (time.Time, error) {
	s, err := headerString(h, key, false)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: header %s is not an ISO-8601 time: %q", ErrUndecodable, key, s)
}

// headerInt reads an integer header; missing or null is 0.
func headerInt(h amqp.Table, key string) (int, error) {
	switch v := h[key].(type) {
	case nil:
		return 0, nil
	case int8:
		return int(v), nil
	case int16:
		return int(v), nil
	case int32:
		return int(v), nil
	case int64:
		return int(v), nil
	case int:
		return v, nil
	}
	return 0, fmt.Errorf("%w: header %s is %T %v", ErrUndecodable, key, h[key], h[key])
}
