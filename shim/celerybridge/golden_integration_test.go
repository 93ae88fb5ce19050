//go:build integration

package celerybridge_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// TestGoldenMatchesPythonSendTask publishes the same task with Python's
// send_task and with Send to a queue nobody consumes, and compares the two
// messages header by header and property by property, values and AMQP types.
func TestGoldenMatchesPythonSendTask(t *testing.T) {
	url := testenv.AMQPURL(t)
	queue := "cb-golden-" + runID
	ch := declareQueue(t, url, queue)
	args, kwargs := `["/x", 1, {"a": [1, 2]}]`, `{"k": "v"}`

	pyID := pythonSendTask(t, url, queue, "echo", args, kwargs)
	py := getOne(t, ch, queue)
	if py.ReplyTo != "" { // Python's rpc:// reply queue, kept a day unless deleted
		testenv.DeleteQueuesAfter(t, py.ReplyTo)
	}

	c := dial(t, celerybridge.WithResultBackend("rpc://"))
	var a []any
	var kw map[string]any
	mustJSON(t, args, &a)
	mustJSON(t, kwargs, &kw)
	goID, err := c.Send(testContext(t, 10*time.Second), "echo", a, kw, celerybridge.WithQueue(queue))
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	ours := getOne(t, ch, queue)

	differ := map[string]bool{"id": true, "root_id": true, "origin": true}
	t.Logf("python headers: %#v", py.Headers)
	compareTables(t, py.Headers, ours.Headers, differ)
	if got, want := ours.Headers["id"], goID; got != want {
		t.Errorf("id header = %v, want %v", got, want)
	}
	if py.Headers["id"] != pyID || py.Headers["root_id"] != pyID || ours.Headers["root_id"] != goID {
		t.Errorf("root_id: python %v (id %v), ours %v (id %v)", py.Headers["root_id"], pyID, ours.Headers["root_id"], goID)
	}
	compareProperties(t, py, ours)
	var pyBody, ourBody any
	mustJSON(t, string(py.Body), &pyBody)
	mustJSON(t, string(ours.Body), &ourBody)
	if fmt.Sprint(pyBody) != fmt.Sprint(ourBody) {
		t.Errorf("body:\n python %s\n ours   %s", py.Body, ours.Body)
	}
}

func compareTables(t *testing.T, want, got amqp.Table, differ map[string]bool) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("header %q missing (python: %T %#v)", k, w, w)
		case fmt.Sprintf("%T", g) != fmt.Sprintf("%T", w):
			t.Errorf("header %q type = %T, python %T", k, g, w)
		case !differ[k] && fmt.Sprintf("%#v", g) != fmt.Sprintf("%#v", w):
			t.Errorf("header %q = %#v, python %#v", k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("extra header %q", k)
		}
	}
}

func compareProperties(t *testing.T, py, ours amqp.Delivery) {
	t.Helper()
	props := []struct {
		name      string
		py, ours  any
		mayDiffer bool
	}{
		{"content_type", py.ContentType, ours.ContentType, false},
		{"content_encoding", py.ContentEncoding, ours.ContentEncoding, false},
		{"delivery_mode", py.DeliveryMode, ours.DeliveryMode, false},
		{"priority", py.Priority, ours.Priority, false},
		{"correlation_id", py.CorrelationId != "", ours.CorrelationId != "", false},
		{"reply_to", py.ReplyTo != "", ours.ReplyTo != "", false},
		{"exchange", py.Exchange, ours.Exchange, false},
		{"routing_key", py.RoutingKey, ours.RoutingKey, false},
	}
	for _, p := range props {
		if fmt.Sprintf("%#v", p.py) != fmt.Sprintf("%#v", p.ours) {
			t.Errorf("property %s = %#v, python %#v", p.name, p.ours, p.py)
		}
	}
	if ours.CorrelationId != ours.Headers["id"] {
		t.Errorf("correlation_id %q != id %v", ours.CorrelationId, ours.Headers["id"])
	}
}

func pythonSendTask(t *testing.T, url, queue, task, args, kwargs string) string {
	t.Helper()
	dir, err := testenv.CeleryAppDir()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, testenv.CeleryPython, filepath.Join(dir, "send_task.py"),
		url, queue, task, args, kwargs).CombinedOutput()
	if err != nil {
		t.Fatalf("python send_task: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// declareQueue declares queue as Celery does (durable, no arguments) and
// deletes it in t.Cleanup.
func declareQueue(t *testing.T, url, queue string) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("channel: %v", err)
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		t.Fatalf("declare %s: %v", queue, err)
	}
	t.Cleanup(func() {
		_, _ = ch.QueueDelete(queue, false, false, false)
		_ = conn.Close()
	})
	return ch
}

func getOne(t *testing.T, ch *amqp.Channel, queue string) amqp.Delivery {
	t.Helper()
	for range 100 {
		d, ok, err := ch.Get(queue, true)
		if err != nil {
			t.Fatalf("basic.get %s: %v", queue, err)
		}
		if ok {
			return d
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no message on %s", queue)
	return amqp.Delivery{}
}
