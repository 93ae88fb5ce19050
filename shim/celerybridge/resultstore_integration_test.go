//go:build integration

package celerybridge_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// TestStoreResultReadByPython stores results with StoreResult in each
// result backend, and Python's AsyncResult(id).get() reads them as a
// worker's: the value with exact big integers, and the exceptions of
// failures (a builtin type, and a type Python does not know, which Celery
// recreates by name). The database backend starts with no celery_taskmeta.
func TestStoreResultReadByPython(t *testing.T) {
	stored := []celerybridge.Result{
		{State: celerybridge.StateSuccess, Value: json.RawMessage(`{"successful_files": 2, "big": 18446744073709551617, "f": 1.5, "l": ["a", null]}`)},
		{State: celerybridge.StateFailure, Value: celerybridge.ExceptionValue("ValueError", "builtins", "bad input"),
			Traceback: "Traceback (most recent call last):\nValueError: bad input\n"},
		{State: celerybridge.StateFailure, Value: celerybridge.ExceptionValue("WorkflowFailed", "hatchet_worker", "run failed: step x")},
		{State: celerybridge.StateRevoked, Value: celerybridge.ExceptionValue("TaskRevokedError", "celery.exceptions", "revoked")},
	}
	want := []string{
		`{"value": {"big": 18446744073709551617, "f": 1.5, "l": ["a", null], "successful_files": 2}}`,
		`{"exc_module": "builtins", "exc_type": "ValueError", "message": "bad input"}`,
		`{"exc_module": "celery.exceptions", "exc_type": "WorkflowFailed", "message": "run failed: step x"}`,
		`{"exc_module": "celery.exceptions", "exc_type": "TaskRevokedError", "message": "revoked"}`,
	}
	for _, b := range testenv.ResultBackends(13) {
		t.Run(b.Name, func(t *testing.T) {
			vhost, backend := testenv.AMQPVHost(t), b.Open(t)
			ctx := testContext(t, 2*time.Minute)
			c, err := celerybridge.Dial(ctx, vhost, celerybridge.WithResultBackend(backend))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close(context.Background()) })
			dir, err := testenv.CeleryAppDir()
			if err != nil {
				t.Fatal(err)
			}
			py := exec.CommandContext(ctx, testenv.CeleryPython, filepath.Join(dir, "await_result.py"), vhost, backend, "awaited", "async_execute_bin",
				`[[[0], {}], [[1], {}], [[2], {}], [[3], {}]]`)
			out, err := py.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr testenv.Buffer
			py.Stderr = &stderr
			if err := py.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = py.Process.Kill(); _ = py.Wait() }()
			lines := bufio.NewScanner(out)
			tasks := takeTasks(t, vhost, len(stored))
			for i, r := range stored {
				if !lines.Scan() {
					t.Fatalf("python printed no task id %d: %s", i, stderr.String())
				}
				if tasks[i].ID != lines.Text() {
					t.Fatalf("task %d taken off the queue is %s, python sent %s", i, tasks[i].ID, lines.Text())
				}
				r.TaskID = tasks[i].ID
				err := c.StoreResult(ctx, celerybridge.StoredResult{Result: r, Name: tasks[i].Name, Args: tasks[i].Args,
					Kwargs: tasks[i].Kwargs, Queue: "awaited", Worker: "hatchet-worker@test", ReplyTo: tasks[i].ReplyTo})
				if err != nil {
					t.Fatalf("store result %d: %v", i, err)
				}
			}
			for i := range stored {
				if !lines.Scan() {
					t.Fatalf("python printed no result %d: %s", i, stderr.String())
				}
				assertSameJSON(t, json.RawMessage(lines.Text()), want[i])
			}
		})
	}
}

// takeTasks takes n task messages off the queue "awaited" of vhost,
// waiting for them to be sent.
func takeTasks(t *testing.T, vhost string, n int) []celerybridge.Task {
	t.Helper()
	ch := testenv.Channel(t, vhost)
	// Declared as Python declares it, so it is there before Python starts.
	if _, err := ch.QueueDeclare("awaited", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	var tasks []celerybridge.Task
	for len(tasks) < n {
		task, err := celerybridge.DecodeTask(testenv.TakeMessage(t, ch, "awaited", time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, task)
	}
	return tasks
}

// TestStoreResultPlainTable stores a result in a celery_taskmeta made by
// Celery without result_extended (no request columns): the row is written
// without them and reads back.
func TestStoreResultPlainTable(t *testing.T) {
	backend := testenv.CeleryPostgresBackend(t)
	ctx := testContext(t, 30*time.Second)
	db, err := pgx.Connect(ctx, "postgresql://"+strings.TrimPrefix(backend, "db+postgresql://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close(context.Background()) }()
	if _, err := db.Exec(ctx, `CREATE SEQUENCE task_id_sequence; CREATE TABLE celery_taskmeta (id integer NOT NULL PRIMARY KEY,
		task_id varchar(155) UNIQUE, status varchar(50), result bytea, date_done timestamp, traceback text)`); err != nil {
		t.Fatal(err)
	}
	c := dial(t, celerybridge.WithResultBackend(backend))
	r := celerybridge.Result{TaskID: "t-plain", State: celerybridge.StateSuccess, Value: json.RawMessage(`{"n": 1}`)}
	if err := c.StoreResult(ctx, celerybridge.StoredResult{Result: r, Name: "x", Args: json.RawMessage(`[1]`)}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Lookup(ctx, "t-plain")
	if err != nil || got.State != celerybridge.StateSuccess || string(got.Value) != `{"n": 1}` {
		t.Errorf("read back %+v, %v; want SUCCESS {\"n\": 1}", got, err)
	}
}
