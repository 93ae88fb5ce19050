package celery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
	"github.com/unstract/hatchet-worker/shim/route"
)

// TestObserved turns rpc:// replies into the statuses of the executions
// they name, with a failure's exception and the time it ended.
func TestObserved(t *testing.T) {
	done := time.Now().Add(-time.Second).UTC()
	tests := []struct {
		name  string
		reply celerybridge.Result
		want  shim.Status
	}{
		{"success", celerybridge.Result{TaskID: "t1", State: celerybridge.StateSuccess, DateDone: done, Value: json.RawMessage(`{"ok":true}`)},
			shim.Status{ExecutionID: "t1", Backend: featureflag.BackendCelery, State: shim.StateSucceeded, BackendState: "SUCCESS",
				Result: json.RawMessage(`{"ok":true}`), FinishedAt: &done}},
		{"failure", celerybridge.Result{TaskID: "t2", State: celerybridge.StateFailure, DateDone: done, Traceback: "Traceback …",
			Value: json.RawMessage(`{"exc_type": "KeyError", "exc_message": ["x"], "exc_module": "builtins"}`)},
			shim.Status{ExecutionID: "t2", Backend: featureflag.BackendCelery, State: shim.StateFailed, BackendState: "FAILURE",
				Error: &shim.FailureInfo{Type: "KeyError", Message: "x", Traceback: "Traceback …"}, FinishedAt: &done}},
		{"retry", celerybridge.Result{TaskID: "t3", State: celerybridge.StateRetry},
			shim.Status{ExecutionID: "t3", Backend: featureflag.BackendCelery, State: shim.StateRunning, BackendState: "RETRY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got shim.Status
			Observed(func(st shim.Status) { got = st })(tt.reply)
			if g, w := mustJSON(t, got), mustJSON(t, tt.want); g != w {
				t.Errorf("status\n got %s\nwant %s", g, w)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// unroutable is a bridge whose broker has no queue for any task.
type unroutable struct{ Client }

func (unroutable) Ready(context.Context) error { return nil }
func (unroutable) Send(context.Context, string, []any, map[string]any, ...celerybridge.SendOption) (string, error) {
	return "", fmt.Errorf("send: %w", celerybridge.ErrUnroutable)
}

// TestSubmitUnroutable names the likely cause of a task the broker cannot
// route: no legacy worker declared its queue.
func TestSubmitUnroutable(t *testing.T) {
	rt := route.Route{Name: "wf", Legacy: &route.LegacyTask{Task: "t", Queue: "q",
		Args: func(route.Call, json.RawMessage) ([]any, map[string]any, error) { return nil, nil, nil }}}
	_, err := New(unroutable{}).Submit(context.Background(), shim.Execution{ID: "e1"}, rt, nil)
	var detail *shim.Error
	if !errors.Is(err, shim.ErrUnavailable) || !errors.Is(err, celerybridge.ErrUnroutable) || !errors.As(err, &detail) ||
		!strings.Contains(detail.Msg, "are the legacy Celery workers running?") {
		t.Errorf("Submit: %v", err)
	}
}
