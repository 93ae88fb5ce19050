package celerybridge

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// pythonMessage is one message of testdata/python_messages.json, as
// Python Celery published it (testdata/capture_messages.py).
type pythonMessage struct {
	Headers         map[string]any `json:"headers"`
	ContentType     string         `json:"content_type"`
	ContentEncoding string         `json:"content_encoding"`
	Body            string         `json:"body"` // base64
	Properties      struct {
		CorrelationID string `json:"correlation_id"`
		ReplyTo       string `json:"reply_to"`
	} `json:"properties"`
}

// pythonDeliveries reads the captured messages as deliveries, with the
// header types an AMQP client decodes (whole numbers as int32).
func pythonDeliveries(t testing.TB) []amqp.Delivery {
	t.Helper()
	raw, err := os.ReadFile("testdata/python_messages.json")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []pythonMessage
	if err := json.Unmarshal(raw, &msgs); err != nil {
		t.Fatal(err)
	}
	out := make([]amqp.Delivery, len(msgs))
	for i, m := range msgs {
		body, err := base64.StdEncoding.DecodeString(m.Body)
		if err != nil {
			t.Fatal(err)
		}
		h := amqp.Table{}
		for k, v := range m.Headers {
			if f, ok := v.(float64); ok {
				v = int32(f)
			}
			h[k] = v
		}
		out[i] = amqp.Delivery{Headers: h, ContentType: m.ContentType, ContentEncoding: m.ContentEncoding, Body: body,
			CorrelationId: m.Properties.CorrelationID, ReplyTo: m.Properties.ReplyTo}
	}
	return out
}

// TestDecodePythonMessages decodes what Python Celery's send_task
// publishes: ids, names, arguments with every digit, eta and expires.
func TestDecodePythonMessages(t *testing.T) {
	ds := pythonDeliveries(t)
	tests := []struct {
		name, args, kwargs string
		eta, expires       bool
	}{
		{"workflow_manager.workflow_v2.execution.async_execute_bin",
			`["org_1", "wf-1", "ex-1", {"hash-a": {"file_name": "a.txt", "file_path": "/d/a.txt"}}]`,
			`{"scheduled": false, "use_file_history": true}`, false, false},
		{"echo", `[1, 2.5, "x", null, true, [1, {"k": "v"}], 12345678901234567890]`, `{}`, false, false},
		{"echo", `[]`, `{"unicode": "\u017c\u00f3\u0142w \u2713", "nested": {"a": [1, 2]}}`, true, false},
		{"echo", `["later"]`, `{}`, true, true},
	}
	if len(ds) != len(tests) {
		t.Fatalf("%d captured messages, want %d", len(ds), len(tests))
	}
	for i, tt := range tests {
		got, err := DecodeTask(ds[i])
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if got.Name != tt.name || got.ID != ds[i].Headers["id"] || got.RootID != got.ID || got.CorrelationID != got.ID || got.ReplyTo == "" {
			t.Errorf("message %d: %+v", i, got)
		}
		if string(got.Args) != tt.args || string(got.Kwargs) != tt.kwargs {
			t.Errorf("message %d: args %s kwargs %s, want %s %s", i, got.Args, got.Kwargs, tt.args, tt.kwargs)
		}
		if got.ETA.IsZero() == tt.eta || got.Expires.IsZero() == tt.expires || got.Linked || got.Retries != 0 {
			t.Errorf("message %d: eta %v expires %v linked %v retries %d", i, got.ETA, got.Expires, got.Linked, got.Retries)
		}
	}
	if eta, _ := DecodeTask(ds[3]); !eta.ETA.Equal(time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)) || !eta.Expires.Equal(time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("eta %v expires %v", eta.ETA, eta.Expires)
	}
}

// TestDecodeOwnMessages decodes what this package publishes.
func TestDecodeOwnMessages(t *testing.T) {
	eta := time.Date(2026, 12, 2, 15, 0, 0, 123456000, time.UTC)
	m, err := buildMessage("wf.task", []any{"a", 2}, map[string]any{"k": true},
		sendConfig{taskID: "id-1", queue: "q", eta: eta, parentID: "p-1"}, "origin", "reply-q")
	if err != nil {
		t.Fatal(err)
	}
	p := m.publishing
	got, err := DecodeTask(amqp.Delivery{Headers: p.Headers, ContentType: p.ContentType, ContentEncoding: p.ContentEncoding,
		Body: p.Body, CorrelationId: p.CorrelationId, ReplyTo: p.ReplyTo})
	if err != nil {
		t.Fatal(err)
	}
	want := Task{ID: "id-1", Name: "wf.task", Args: json.RawMessage(`["a",2]`), Kwargs: json.RawMessage(`{"k":true}`),
		ETA: eta, RootID: "p-1", ParentID: "p-1", ReplyTo: "reply-q", CorrelationID: "id-1"}
	if g, w := asJSON(t, got), asJSON(t, want); g != w {
		t.Errorf("decoded\n got %s\nwant %s", g, w)
	}
}

// TestDecodeRefuses names what it cannot read as ErrUndecodable, so a
// consumer passes the message on unchanged.
func TestDecodeRefuses(t *testing.T) {
	good := pythonDeliveries(t)[0]
	with := func(f func(d *amqp.Delivery)) amqp.Delivery {
		d := good
		d.Headers = amqp.Table{}
		for k, v := range good.Headers {
			d.Headers[k] = v
		}
		f(&d)
		return d
	}
	tests := []struct {
		name string
		d    amqp.Delivery
	}{
		{"pickle", with(func(d *amqp.Delivery) { d.ContentType = "application/x-python-serialize" })},
		{"another encoding", with(func(d *amqp.Delivery) { d.ContentEncoding = "binary" })},
		{"protocol v1", with(func(d *amqp.Delivery) {
			delete(d.Headers, "task")
			delete(d.Headers, "id")
			d.Body = []byte(`{"task": "echo", "id": "x", "args": [], "kwargs": {}}`)
		})},
		{"no id", with(func(d *amqp.Delivery) { d.Headers["id"] = nil })},
		{"a number for a task name", with(func(d *amqp.Delivery) { d.Headers["task"] = int32(3) })},
		{"two-part body", with(func(d *amqp.Delivery) { d.Body = []byte(`[[], {}]`) })},
		{"kwargs an array", with(func(d *amqp.Delivery) { d.Body = []byte(`[[], [], {}]`) })},
		{"embed a string", with(func(d *amqp.Delivery) { d.Body = []byte(`[[], {}, "x"]`) })},
		{"not JSON", with(func(d *amqp.Delivery) { d.Body = []byte(`[[], {}, {}`) })},
		{"eta not a time", with(func(d *amqp.Delivery) { d.Headers["eta"] = "tomorrow" })},
		{"retries a string", with(func(d *amqp.Delivery) { d.Headers["retries"] = "1" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeTask(tt.d); !errors.Is(err, ErrUndecodable) {
				t.Errorf("err = %v, want ErrUndecodable", err)
			}
		})
	}
}

// TestDecodeLinked marks a message whose embed carries work to run after
// the task.
func TestDecodeLinked(t *testing.T) {
	d := pythonDeliveries(t)[1]
	d.Body = []byte(`[[], {}, {"callbacks": [{"task": "next"}], "errbacks": null, "chain": null, "chord": null}]`)
	got, err := DecodeTask(d)
	if err != nil || !got.Linked {
		t.Errorf("linked = %v, err %v", got.Linked, err)
	}
}

// FuzzDecodeTask feeds the decoder bodies and headers around Python's
// own messages: it never panics, and what it accepts has an id, a name,
// an args array and a kwargs object.
func FuzzDecodeTask(f *testing.F) {
	for _, d := range pythonDeliveries(f) {
		eta, _ := d.Headers["eta"].(string)
		f.Add(d.Body, d.ContentType, d.Headers["id"].(string), d.Headers["task"].(string), eta)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType, id, task, eta string) {
		got, err := DecodeTask(amqp.Delivery{ContentType: contentType, Body: body,
			Headers: amqp.Table{"id": id, "task": task, "eta": eta, "retries": int32(0)}})
		if err != nil {
			if !errors.Is(err, ErrUndecodable) {
				t.Fatalf("error %v is not ErrUndecodable", err)
			}
			return
		}
		var args []json.RawMessage
		var kwargs map[string]json.RawMessage
		if got.ID == "" || got.Name == "" || json.Unmarshal(got.Args, &args) != nil || json.Unmarshal(got.Kwargs, &kwargs) != nil ||
			!bytes.Contains(body, bytes.TrimSpace(got.Args)) {
			t.Fatalf("accepted %+v from %q", got, body)
		}
	})
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
