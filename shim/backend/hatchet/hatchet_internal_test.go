package hatchet

import (
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"

	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/internal/engine"
	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/route"
)

// TestWithRun checks what a Hatchet run's details become: an unfinished run
// has no finish time and no error (even while retrying a failed attempt); a
// failed one has its error once, not JSON-quoted.
func TestWithRun(t *testing.T) {
	at := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	msg := func(s string) *string { return &s }
	tests := []struct {
		name       string
		run        rest.V1WorkflowRun
		state      string
		finished   bool
		wantError  string
		wantResult bool
	}{
		{"running after a failed attempt", rest.V1WorkflowRun{Status: rest.V1TaskStatusRUNNING, StartedAt: &at, FinishedAt: &at,
			ErrorMessage: msg("attempt 1 failed")}, shim.StateRunning, false, "", false},
		{"queued", rest.V1WorkflowRun{Status: rest.V1TaskStatusQUEUED}, shim.StateQueued, false, "", false},
		{"failed", rest.V1WorkflowRun{Status: rest.V1TaskStatusFAILED, StartedAt: &at, FinishedAt: &at,
			ErrorMessage: msg(`"either llm or llm_adapter_id is required"`)}, shim.StateFailed, true, "either llm or llm_adapter_id is required", false},
		{"failed without a message", rest.V1WorkflowRun{Status: rest.V1TaskStatusFAILED, FinishedAt: &at}, shim.StateFailed, true, "workflow run failed", false},
		{"completed", rest.V1WorkflowRun{Status: rest.V1TaskStatusCOMPLETED, FinishedAt: &at, Output: map[string]any{"ok": true}},
			shim.StateSucceeded, true, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := withRun(shim.Status{}, &rest.V1WorkflowRunDetails{Run: tt.run})
			if st.State != tt.state || (st.FinishedAt != nil) != tt.finished || (st.Result != nil) != tt.wantResult {
				t.Errorf("state %s finished_at %v result %s; want %s, finished %v, result %v", st.State, st.FinishedAt, st.Result, tt.state, tt.finished, tt.wantResult)
			}
			got := ""
			if st.Error != nil {
				got = st.Error.Message
			}
			if got != tt.wantError {
				t.Errorf("error %q, want %q", got, tt.wantError)
			}
		})
	}
}

// TestRecordsResult checks the result read from the engine's records: the
// workflow's result task's output when it names one, as the engine's API
// gives a finished run, else the one output or all of them by task name.
func TestRecordsResult(t *testing.T) {
	h := New(nil, nil, WithResultTasks(map[string]string{"dag": "last"}))
	outputs := map[string]json.RawMessage{"first": json.RawMessage(`{"a":1}`), "last": json.RawMessage(`{"b":2}`)}
	tests := []struct {
		name     string
		workflow string
		outputs  map[string]json.RawMessage
		want     string
	}{
		{"result task", "dag", outputs, `{"b":2}`},
		{"no result task named", "other", outputs, `{"first":{"a":1},"last":{"b":2}}`},
		{"result task missing", "dag", map[string]json.RawMessage{"first": json.RawMessage(`{"a":1}`)}, `{"a":1}`},
		{"one task", "single", map[string]json.RawMessage{"only": json.RawMessage(`[1]`)}, `[1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(h.result(tt.workflow, tt.outputs)); got != tt.want {
				t.Errorf("result = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestSubmitWhileDisconnected answers ErrUnavailable at once while the
// engine connection is down, without a call to the engine (the client
// points at a closed port).
func TestSubmitWhileDisconnected(t *testing.T) {
	client, err := engine.NewClient(config.Hatchet{Token: testenv.FakeHatchetToken("127.0.0.1:1"), TLSStrategy: "none"}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	down := errors.New("hatchet engine connection to 127.0.0.1:1 is down")
	h := New(client, nil, WithConnected(func() error { return down }))
	began := time.Now()
	_, err = h.Submit(t.Context(), shim.Execution{ID: "e1"}, route.Route{Name: "w", Hatchet: "w"}, json.RawMessage(`{}`))
	if !errors.Is(err, shim.ErrUnavailable) || !errors.Is(err, down) {
		t.Fatalf("Submit = %v, want ErrUnavailable naming the connection", err)
	}
	if took := time.Since(began); took > time.Second {
		t.Errorf("Submit took %v while disconnected", took)
	}
}

// TestUnsubmittedBecomesUnknown checks that a claim without a run is queued
// while a request may still be submitting it, and unknown after the bound.
func TestUnsubmittedBecomesUnknown(t *testing.T) {
	h := New(nil, nil, WithLostAfter(time.Minute))
	fresh := h.unsubmitted(shim.Status{CreatedAt: time.Now().Add(-30 * time.Second)})
	if fresh.State != shim.StateQueued || fresh.Error != nil {
		t.Errorf("30 s old claim = %+v, want queued", fresh)
	}
	old := h.unsubmitted(shim.Status{CreatedAt: time.Now().Add(-2 * time.Minute)})
	if old.State != shim.StateUnknown || old.Error == nil || old.Error.Type != UnknownNotSubmitted || !old.Final() {
		t.Errorf("2 min old claim = %+v, want unknown (%s)", old, UnknownNotSubmitted)
	}
}

// TestJoinOutputs checks the result read from the engine's records: the
// task's output for one task, outputs by task for several.
func TestJoinOutputs(t *testing.T) {
	one := joinOutputs(map[string]json.RawMessage{"validate-connection": json.RawMessage(`{"ok":true}`)})
	if string(one) != `{"ok":true}` {
		t.Errorf("one task: %s", one)
	}
	two := joinOutputs(map[string]json.RawMessage{"a": json.RawMessage(`1`), "b": json.RawMessage(`2`)})
	if string(two) != `{"a":1,"b":2}` {
		t.Errorf("two tasks: %s", two)
	}
}
