package shim

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/featureflag"
)

func TestListQueryCheck(t *testing.T) {
	tests := []struct {
		q         ListQuery
		wantErr   bool
		wantLimit int
	}{
		{ListQuery{}, false, DefaultListLimit},
		{ListQuery{Limit: MaxListLimit}, false, MaxListLimit},
		{ListQuery{Limit: MaxListLimit + 1}, true, 0},
		{ListQuery{Status: "done"}, true, 0},
		{ListQuery{Backend: "kafka"}, true, 0},
		{ListQuery{Status: StateUnknown, Backend: featureflag.BackendHatchet}, false, DefaultListLimit},
	}
	for _, tt := range tests {
		err := tt.q.check()
		if (err != nil) != tt.wantErr || (!tt.wantErr && tt.q.Limit != tt.wantLimit) {
			t.Errorf("check(%+v) = %v, limit %d", tt.q, err, tt.q.Limit)
		}
	}
}

// fixedHistory is a History whose Stats are fixed.
type fixedHistory []BackendStats

func (h fixedHistory) List(context.Context, ListQuery) ([]Execution, error) { return nil, nil }

func (h fixedHistory) Stats(context.Context, time.Time) ([]BackendStats, error) { return h, nil }

func (h fixedHistory) Series(context.Context, time.Time, time.Duration) ([]Point, error) {
	return nil, nil
}

// TestSummary puts both backends side by side for every workflow, zero
// where nothing ran, with the success rate over finished executions.
func TestSummary(t *testing.T) {
	f := newFixture(toCelery, false, WithHistory(fixedHistory{
		{Workflow: "legacy", Backend: "celery", Counts: map[string]int{StateSucceeded: 3, StateFailed: 1, StateRunning: 2}, Total: 6},
	}))
	s, err := f.d.Summary(context.Background(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Workflows) != 2 || s.Workflows[0].Workflow != "legacy" || s.Workflows[1].Workflow != "modern" {
		t.Fatalf("workflows = %+v", s.Workflows)
	}
	legacy := s.Workflows[0]
	if legacy.RoutesTo.Backend != featureflag.BackendCelery || legacy.RoutesTo.Reason != featureflag.ReasonGlobal {
		t.Errorf("legacy routes to %+v", legacy.RoutesTo)
	}
	hatchet, celery := legacy.Backends[0], legacy.Backends[1]
	if hatchet.Backend != "hatchet" || hatchet.Total != 0 || hatchet.SuccessRate != nil {
		t.Errorf("hatchet side = %+v, want empty", hatchet)
	}
	if celery.Total != 6 || celery.SuccessRate == nil || *celery.SuccessRate != 0.75 {
		t.Errorf("celery side = %+v, want 6 with success rate 0.75", celery)
	}
	if _, err := f.d.Summary(context.Background(), 0); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("zero window: %v", err)
	}
	if _, err := newFixture(toCelery, false).d.Executions(context.Background(), ListQuery{}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("no history: %v, want ErrUnavailable", err)
	}
}

// TestEmptyPage checks that a page with no executions lists [], not null.
func TestEmptyPage(t *testing.T) {
	p, err := newFixture(toCelery, false, WithHistory(fixedHistory{})).d.Executions(context.Background(), ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(p); string(b) != `{"executions":[]}` {
		t.Errorf("empty page = %s, want {\"executions\":[]}", b)
	}
}
