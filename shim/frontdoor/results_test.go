package frontdoor

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
	"github.com/unstract/hatchet-worker/workflows"
)

// memResults keeps callers in memory, as the store keeps them.
type memResults struct {
	err      error // Await's answer
	awaited  map[string]Caller
	finished map[string]shim.Execution
	written  map[string]bool
}

func (m *memResults) Await(_ context.Context, id string, c Caller) error {
	if m.err != nil {
		return m.err
	}
	if m.awaited == nil {
		m.awaited = map[string]Caller{}
	}
	if _, ok := m.awaited[id]; !ok {
		m.awaited[id] = c
	}
	return nil
}

func (m *memResults) ExecutionOf(_ context.Context, taskID string) (string, bool, error) {
	for id, c := range m.awaited {
		if c.TaskID == taskID {
			return id, true, nil
		}
	}
	return "", false, nil
}

func (m *memResults) Finished(_ context.Context, limit int) ([]Awaited, error) {
	var out []Awaited
	for id, c := range m.awaited {
		if e, ok := m.finished[id]; ok && !m.written[id] && !c.IgnoreResult && len(out) < limit {
			out = append(out, Awaited{Execution: e, Caller: c})
		}
	}
	return out, nil
}

func (m *memResults) Written(_ context.Context, id string) error {
	if m.written == nil {
		m.written = map[string]bool{}
	}
	m.written[id] = true
	return nil
}

// fakeResultStore records stored results; fail names task ids it refuses
// with their error.
type fakeResultStore struct {
	fail   map[string]error
	stored map[string]celerybridge.StoredResult
}

func (f *fakeResultStore) StoreResult(_ context.Context, r celerybridge.StoredResult) error {
	if err := f.fail[r.TaskID]; err != nil {
		return err
	}
	if f.stored == nil {
		f.stored = map[string]celerybridge.StoredResult{}
	}
	f.stored[r.TaskID] = r
	return nil
}

// TestWriteResults stores each finished execution's Celery result once, in
// the legacy task's terms: the value its route returns, a failure as a
// WorkflowFailed exception, a cancellation as Celery's revoke. A result too
// large for the record is read from the run's backend. A result the
// backend refuses, or that cannot be read now, is tried again; one whose
// caller is gone is dropped.
func TestWriteResults(t *testing.T) {
	done := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	output := `{"successful_files": 1, "failed_files": 0, "results": {"a.pdf": {"processed_results": {}}}, "errors": null,
		"webhook_task_id": "w-1", "attempt": 0}`
	execution := func(id, state string, fail *shim.FailureInfo) shim.Execution {
		return shim.Execution{ID: id, Workflow: workflows.WorkflowExecutionName,
			Outcome: shim.Outcome{State: state, FinishedAt: &done, Error: fail, Result: json.RawMessage(output)}}
	}
	large := execution("e-large", shim.StateSucceeded, nil)
	large.Result = nil // too large for the record: read from its backend
	tests := []struct {
		name      string
		execution shim.Execution
		storeErr  error
		want      celerybridge.State
		wantValue string
		written   bool
		status    *shim.Status // the backend's answer for a result not in the record
	}{
		{"succeeded", execution("e-ok", shim.StateSucceeded, nil), nil, celerybridge.StateSuccess,
			`{"successful_files": 1, "failed_files": 0, "results": {"a.pdf": {"processed_results": {}}}, "errors": {}}`, true, nil},
		{"failed", execution("e-fail", shim.StateFailed, &shim.FailureInfo{Message: "plan: no files", Traceback: "tb"}), nil,
			celerybridge.StateFailure, `{"exc_type": "WorkflowFailed", "exc_module": "hatchet_worker", "exc_message": ["plan: no files"]}`, true, nil},
		{"failed as the platform's task fails", execution("e-nocontext", shim.StateFailed,
			&shim.FailureInfo{Message: `run: Failed to get execution context: Client error: 404 Not Found: {"error":"WorkflowExecution not found"}`}), nil,
			celerybridge.StateFailure, `{"exc_type": "Exception", "exc_module": "builtins",
			"exc_message": ["Failed to get execution context: Client error: 404 Not Found: {\"error\":\"WorkflowExecution not found\"}"]}`, true, nil},
		{"cancelled", execution("e-stop", shim.StateCancelled, nil), nil, celerybridge.StateRevoked,
			`{"exc_type": "TaskRevokedError", "exc_module": "celery.exceptions", "exc_message": ["revoked"]}`, true, nil},
		{"backend down", execution("e-down", shim.StateSucceeded, nil), errors.New("redis down"), "", "", false, nil},
		{"caller gone", execution("e-gone", shim.StateSucceeded, nil), celerybridge.ErrUnroutable, "", "", true, nil},
		{"a large result, from its backend", large, nil, celerybridge.StateSuccess,
			`{"successful_files": 1, "failed_files": 0, "results": {"a.pdf": {"processed_results": {}}}, "errors": {}}`, true,
			&shim.Status{State: shim.StateSucceeded, Result: json.RawMessage(output)}},
		{"a large result, its backend down", large, nil, "", "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := &memResults{finished: map[string]shim.Execution{tt.execution.ID: tt.execution}}
			store := &fakeResultStore{fail: map[string]error{"t-" + tt.execution.ID: tt.storeErr}}
			routes := workflows.Routes(workflows.Registry(workflows.Deps{Log: slog.Default()}))
			d := New(routes, nil, &fakeDispatch{status: tt.status}, nil, nil, slog.Default(), WithResults(results, store))
			caller := Caller{TaskID: "t-" + tt.execution.ID, Task: workflows.TaskAsyncExecuteBin, Queue: "celery", ReplyTo: "reply-1"}
			if err := results.Await(context.Background(), tt.execution.ID, caller); err != nil {
				t.Fatal(err)
			}
			d.writeFinished(context.Background())
			if results.written[tt.execution.ID] != tt.written {
				t.Fatalf("written %v, want %v", results.written[tt.execution.ID], tt.written)
			}
			if tt.want == "" {
				if _, ok := store.stored[caller.TaskID]; ok {
					t.Errorf("stored %+v", store.stored[caller.TaskID])
				}
				return
			}
			r := store.stored[caller.TaskID]
			if r.State != tt.want || !sameJSON(r.Value, tt.wantValue) || !r.DateDone.Equal(done) || r.ReplyTo != "reply-1" ||
				r.Name != workflows.TaskAsyncExecuteBin || r.Queue != "celery" {
				t.Errorf("stored %+v value %s, want %s %s", r, r.Value, tt.want, tt.wantValue)
			}
			if n := testutil.ToFloat64(d.metrics.results.WithLabelValues(string(tt.want), "stored")); n != 1 {
				t.Errorf("front_door_results_total{stored} = %v, want 1", n)
			}
			if d.writeFinished(context.Background()) != 0 {
				t.Error("a written result is found again")
			}
		})
	}
}

func sameJSON(a json.RawMessage, b string) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal([]byte(b), &y) == nil && jsonEqual(x, y)
}

func jsonEqual(x, y any) bool {
	a, _ := json.Marshal(x)
	b, _ := json.Marshal(y)
	return string(a) == string(b)
}
