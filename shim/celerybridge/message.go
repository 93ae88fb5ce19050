package celerybridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// isoLayout is Python's datetime.isoformat() with microseconds and offset.
const isoLayout = "2006-01-02T15:04:05.000000-07:00"

// message is one task message ready to publish.
type message struct {
	taskID     string
	exchange   string // "" (the default exchange) for tasks
	queue      string // routing key
	publishing amqp.Publishing
}

// embed is the third element of a protocol-v2 body.
var embed = map[string]any{"callbacks": nil, "errbacks": nil, "chain": nil, "chord": nil}

// buildMessage encodes a task as Python Celery's send_task does.
func buildMessage(task string, args []any, kwargs map[string]any, s sendConfig, origin, replyTo string) (message, error) {
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	body, err := encodeBody(args, kwargs)
	if err != nil {
		return message{}, fmt.Errorf("encode %s: %w", task, err)
	}
	return message{taskID: s.taskID, queue: s.queue, publishing: amqp.Publishing{
		Headers:         headers(task, args, kwargs, s, origin),
		ContentType:     "application/json",
		ContentEncoding: "utf-8",
		DeliveryMode:    amqp.Persistent,
		Priority:        s.priority,
		CorrelationId:   s.taskID,
		ReplyTo:         replyTo,
		Body:            body,
	}}, nil
}

func encodeBody(args []any, kwargs map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode([]any{args, kwargs, embed}); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func headers(task string, args []any, kwargs map[string]any, s sendConfig, origin string) amqp.Table {
	root := s.rootID
	if root == "" {
		root = s.parentID
	}
	if root == "" {
		root = s.taskID
	}
	return amqp.Table{
		"lang":          "py",
		"task":          task,
		"id":            s.taskID,
		"shadow":        nil,
		"eta":           isoOrNil(s.eta),
		"expires":       isoOrNil(s.expires),
		"group":         nil,
		"group_index":   nil,
		"retries":       int32(0),
		"timelimit":     []any{seconds(s.hardLimit), seconds(s.softLimit)},
		"root_id":       root,
		"parent_id":     nilIfEmpty(s.parentID),
		"argsrepr":      pyRepr(args),
		"kwargsrepr":    pyRepr(kwargs),
		"origin":        origin,
		"ignore_result": s.ignoreResult,
	}
}

func isoOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(isoLayout)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// seconds renders a time limit as Celery does: null, an int, or a float.
func seconds(d time.Duration) any {
	switch {
	case d <= 0:
		return nil
	case d%time.Second == 0:
		return int32(d / time.Second)
	default:
		return d.Seconds()
	}
}

// anonNodeName is Celery's anon_nodename(): "gen<pid>@<hostname>".
func anonNodeName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	return fmt.Sprintf("gen%d@%s", os.Getpid(), host)
}
