//go:build integration

package shim_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/shim/store"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/workflows"
)

// TestTrackerFollowsBothBackends runs executions on the real engine and the
// real Celery worker (database result backend), one of them failing in
// Python, and never asks for their status: tracking passes of two
// executions per backend must record every end, with the failure's
// traceback, and count each once.
func TestTrackerFollowsBothBackends(t *testing.T) {
	s := newStack(t)
	want := map[string]string{} // execution id → recorded state
	send := func(input map[string]any, state string) {
		t.Helper()
		code, resp := s.execute(t, map[string]any{"workflow": workflows.DocumentProcessingName, "organization_id": "org-track", "input": input})
		if code != http.StatusAccepted {
			t.Fatalf("execute: %d %v", code, resp)
		}
		want[resp["execution_id"].(string)] = state
	}
	failing := s.input()
	failing["document_path"] = s.raiseDoc
	send(s.input(), shim.StateSucceeded) // flags start on Celery
	send(failing, shim.StateFailed)
	s.writeFlags(t, `{"use_task_abstraction": true}`)
	s.waitFlags(t, func(r featureflag.Rules) bool { return r.UseTaskAbstraction })
	send(s.input(), shim.StateSucceeded)
	send(s.input(), shim.StateSucceeded)

	tracker := shim.NewTracker(s.d, s.store, shim.WithTrackBatch(2))
	ctx := context.Background()
	deadline := time.Now().Add(90 * time.Second)
	for !allFinished(t, s.store, want) && time.Now().Before(deadline) {
		tracker.Pass(ctx)
		time.Sleep(200 * time.Millisecond)
	}
	for id, state := range want {
		e, err := s.store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if e.State != state || !e.Finished() || e.DurationSeconds <= 0 {
			t.Errorf("%s on %s: recorded %q, finished %v, duration %v; want %s", id, e.Backend, e.State, e.FinishedAt, e.DurationSeconds, state)
		}
		if state == shim.StateFailed && (e.Error == nil || e.Error.Type != "FixtureError" || !strings.Contains(e.Error.Traceback, "Traceback")) {
			t.Errorf("failure recorded as %+v, want FixtureError with its traceback", e.Error)
		}
	}
	for _, c := range []struct {
		backend, state string
		want           float64
	}{{"hatchet", "succeeded", 2}, {"celery", "succeeded", 1}, {"celery", "failed", 1}} {
		got := counter(t, s, `shim_executions_finished_total{backend="`+c.backend+`",state="`+c.state+`",workflow="document-processing-v2"}`)
		if got != c.want {
			t.Errorf("finished_total{%s,%s} = %v, want %v", c.backend, c.state, got, c.want)
		}
	}
	checkListAPI(t, s)
	checkSummaryAPI(t, s)
}

// checkListAPI narrows the executions list of TestTrackerFollowsBothBackends
// with filters.
func checkListAPI(t *testing.T, s *stack) {
	tests := []struct {
		query string
		want  int
	}{
		{"", 4},
		{"?backend=celery", 2},
		{"?backend=celery&status=failed", 1},
		{"?organization_id=org-track&workflow=document-processing-v2&since=1h", 4},
		{"?organization_id=org-nobody", 0},
	}
	for _, tt := range tests {
		code, page := s.do(t, http.MethodGet, "/api/v2/workflows/executions"+tt.query, token, nil)
		list, _ := page["executions"].([]any)
		if code != http.StatusOK || len(list) != tt.want {
			t.Errorf("list%s: %d with %d executions, want %d: %v", tt.query, code, len(list), tt.want, page)
		}
	}
	code, page := s.do(t, http.MethodGet, "/api/v2/workflows/executions?status=failed", token, nil)
	list, _ := page["executions"].([]any)
	if code != http.StatusOK || len(list) != 1 {
		t.Fatalf("failed executions: %d %v", code, page)
	}
	failure, _ := list[0].(map[string]any)["error"].(map[string]any)
	if tb, _ := failure["traceback"].(string); !strings.Contains(tb, "FixtureError") {
		t.Errorf("listed failure %v lacks its traceback", failure)
	}
	if code, body := s.do(t, http.MethodGet, "/api/v2/workflows/executions?status=done", token, nil); code != http.StatusUnprocessableEntity {
		t.Errorf("bad status filter: %d %v, want 422", code, body)
	}
}

// checkSummaryAPI compares the backends' numbers in the summary with what
// TestTrackerFollowsBothBackends ran.
func checkSummaryAPI(t *testing.T, s *stack) {
	code, sum := s.do(t, http.MethodGet, "/api/v2/migration/summary?window=1h", token, nil)
	if code != http.StatusOK {
		t.Fatalf("summary: %d %v", code, sum)
	}
	if _, ok := sum["flags"].(map[string]any); !ok {
		t.Errorf("summary lacks the flags: %v", sum)
	}
	wfs, _ := sum["workflows"].([]any)
	for _, w := range wfs {
		w := w.(map[string]any)
		if w["workflow"] != workflows.DocumentProcessingName {
			continue
		}
		if routes := w["routes_to"].(map[string]any); routes["backend"] != "hatchet" || routes["reason"] != "global" {
			t.Errorf("routes_to = %v, want hatchet by the global flag", routes)
		}
		for _, b := range w["backends"].([]any) {
			b := b.(map[string]any)
			want := map[string]float64{"hatchet": 1, "celery": 0.5}[b["backend"].(string)]
			if b["total"] != float64(2) || b["success_rate"] != want || b["p50_seconds"] == nil || b["p95_seconds"] == nil {
				t.Errorf("%s side: %v, want 2 executions, success rate %v and percentiles", b["backend"], b, want)
			}
		}
		return
	}
	t.Errorf("summary lacks %s: %v", workflows.DocumentProcessingName, sum)
}

// allFinished reports whether every execution of want has a recorded end.
func allFinished(t *testing.T, store *store.Postgres, want map[string]string) bool {
	t.Helper()
	for id := range want {
		e, err := store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !e.Finished() {
			return false
		}
	}
	return true
}

// counter reads one series from the stack's registry, 0 when absent.
func counter(t *testing.T, s *stack, series string) float64 {
	t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	name, labels, _ := strings.Cut(series, "{")
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var parts []string
			for _, l := range m.GetLabel() {
				parts = append(parts, l.GetName()+`="`+l.GetValue()+`"`)
			}
			if strings.Join(parts, ",")+"}" == labels {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
