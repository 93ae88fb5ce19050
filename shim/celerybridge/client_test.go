package celerybridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// backendCase is a result backend the tests run against, with the fixture
// whose worker stores results in it.
type backendCase struct {
	name    string
	fixture *fixture
	dated   bool // the backend reports date_done (rpc:// replies do not)
}

var backends = []backendCase{{"rpc", rpcFixture, false}, {"db", dbFixture, true}, {"redis", redisFixture, true}}

// forEachBackend runs test as one subtest per backend, with a Client that
// reads that backend and sends to its worker's queue.
func forEachBackend(t *testing.T, test func(t *testing.T, b backendCase, c *celerybridge.Client)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			w := b.fixture.start(t)
			c := dial(t, celerybridge.WithResultBackend(w.ResultBackend), celerybridge.WithDefaultQueue(b.fixture.queue),
				celerybridge.WithPollInterval(50*time.Millisecond))
			test(t, b, c)
		})
	}
}

func testRoundTrip(t *testing.T, b backendCase, c *celerybridge.Client) {
	big := strings.Repeat("x", 1<<20)
	tests := []struct {
		name, task   string
		args, kwargs string
		want         string
	}{
		{"nested unicode bigint", "echo",
			`[{"a": [1, 2.5, null, true, {"deep": ["ü", "日本語", "emoji 🎉"]}]}, 9007199254740993, -12345678901234567890123]`,
			`{"k": {"n": 18446744073709551617}}`,
			`{"args": [{"a": [1, 2.5, null, true, {"deep": ["ü", "日本語", "emoji 🎉"]}]}, 9007199254740993, -12345678901234567890123], "kwargs": {"k": {"n": 18446744073709551617}}}`},
		{"one megabyte", "echo", `["` + big + `"]`, `{}`, `{"args": ["` + big + `"], "kwargs": {}}`},
		{"process_file_batch", "workflow_manager.workflow_v2.file_execution_tasks.process_file_batch",
			`[{"files": [["a.pdf", {"file_hash": "h1"}], ["fail.pdf", {}]], "file_data": {"workflow_id": "w"}}]`, `{}`,
			`{"successful_files": 1, "failed_files": 1, "results": {"a.pdf": {}}, "errors": {"fail.pdf": "FixtureError: fail.pdf: fixture failure"}}`},
		{"retry once", "retry_once", `[5]`, `{}`, `{"value": 5, "retries": 1}`},
		{"send_webhook_notification", "send_webhook_notification", `["http://example.invalid/hook", {"id": 12345678901234567890}]`,
			`{"headers": {"X-Key": "k"}}`, `{"id": 12345678901234567890}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var args []any
			var kwargs map[string]any
			mustJSON(t, tc.args, &args)
			mustJSON(t, tc.kwargs, &kwargs)
			r, err := c.Call(testContext(t, 60*time.Second), tc.task, args, kwargs)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if r.State != celerybridge.StateSuccess {
				t.Fatalf("state = %s", r.State)
			}
			assertSameJSON(t, r.Value, tc.want)
		})
	}
	log, err := os.ReadFile(b.fixture.worker.WebhookLog)
	if err != nil || !bytes.Contains(log, []byte(`"payload": {"id": 12345678901234567890}`)) {
		t.Errorf("webhook log %q (err %v) lacks the payload", log, err)
	}
}

// assertSameJSON compares JSON values exactly: numbers by their digits.
func assertSameJSON(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	mustJSON(t, string(got), &g)
	mustJSON(t, want, &w)
	if !reflect.DeepEqual(g, w) {
		if len(got) > 300 {
			got = got[:300]
		}
		t.Errorf("result = %s\nwant     %.300s", got, want)
	}
}

func testFailures(t *testing.T, _ backendCase, c *celerybridge.Client) {
	tests := []struct {
		name, task  string
		opts        []celerybridge.SendOption
		is          error
		state       celerybridge.State
		excType     string
		excModule   string
		excContains string
	}{
		{"custom exception", "fail", nil, nil, celerybridge.StateFailure, "FixtureError", "fixture_app", "boom"},
		{"not registered", "no.such.task", nil, celerybridge.ErrNotRegistered, celerybridge.StateFailure, "NotRegistered", "celery.exceptions", "no.such.task"},
		{"expired", "echo", []celerybridge.SendOption{celerybridge.WithCountdown(2 * time.Second), celerybridge.WithExpiresIn(time.Second)},
			celerybridge.ErrRevoked, celerybridge.StateRevoked, "TaskRevokedError", "celery.exceptions", "expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := c.Call(testContext(t, 30*time.Second), tc.task, []any{"boom"}, nil, tc.opts...)
			var te *celerybridge.TaskError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want *TaskError", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
			if r.State != tc.state || te.State != tc.state || te.ExcType != tc.excType || te.ExcModule != tc.excModule ||
				!strings.Contains(te.ExcMessage, tc.excContains) {
				t.Errorf("state %s, error %+v", r.State, te)
			}
			if tc.state == celerybridge.StateFailure && !strings.Contains(te.Traceback, "Traceback") && tc.excType != "NotRegistered" {
				t.Errorf("traceback = %q", te.Traceback)
			}
		})
	}
}

func testCountdownAndLookup(t *testing.T, b backendCase, c *celerybridge.Client) {
	ctx := testContext(t, 30*time.Second)
	if r, err := c.Lookup(ctx, "never-sent"); err != nil || r.State != celerybridge.StatePending {
		t.Fatalf("lookup unknown = %+v, %v", r, err)
	}
	_, err := c.Wait(testContext(t, 300*time.Millisecond), "never-sent")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "wait for task never-sent") {
		t.Errorf("wait for unknown = %v, want the deadline", err)
	}
	sent := time.Now()
	id, err := c.Send(ctx, "echo", []any{"later"}, nil, celerybridge.WithCountdown(1500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// A lower bound only: the worker must not run the task before its ETA.
	if elapsed := time.Since(sent); elapsed < 1400*time.Millisecond {
		t.Errorf("result after %v, before the 1.5 s countdown", elapsed)
	}
	got, err := c.Lookup(ctx, id)
	if err != nil || got.State != celerybridge.StateSuccess || !bytes.Equal(got.Value, r.Value) {
		t.Errorf("lookup after wait = %+v, %v", got, err)
	}
	assertSameJSON(t, got.Value, `{"args": ["later"], "kwargs": {}}`)
	if b.dated && (got.DateDone.Before(sent.Add(-time.Minute)) || got.DateDone.After(time.Now().Add(time.Minute))) {
		t.Errorf("date_done = %v, sent at %v", got.DateDone, sent)
	}
}

func TestUnsupportedBackend(t *testing.T) {
	_, err := celerybridge.Dial(testContext(t, 5*time.Second), "amqp://guest:guest@127.0.0.1:5672/", celerybridge.WithResultBackend("mongodb://x"))
	if !errors.Is(err, celerybridge.ErrUnsupportedBackend) {
		t.Fatalf("err = %v", err)
	}
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
}
