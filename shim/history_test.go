package shim

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/featureflag"
)

func TestParseListQuery(t *testing.T) {
	cur := Cursor{CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), ID: "6c1f3e8a-8d1b-4b43-9c66-2f0b8f7f2b11"}
	tests := []struct {
		query   string
		check   func(ListQuery) bool
		wantErr bool
	}{
		{"", func(q ListQuery) bool { return q == ListQuery{} }, false},
		{"workflow=w&backend=celery&status=failed&organization_id=o&limit=7",
			func(q ListQuery) bool {
				return q.Workflow == "w" && q.Backend == "celery" && q.Status == "failed" && q.OrganizationID == "o" && q.Limit == 7
			}, false},
		{"since=2026-01-02T03:04:05Z", func(q ListQuery) bool { return q.Since.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) }, false},
		{"since=1h", func(q ListQuery) bool {
			return time.Since(q.Since) > 59*time.Minute && time.Since(q.Since) < 61*time.Minute
		}, false},
		{"cursor=" + cur.String(), func(q ListQuery) bool { return q.After != nil && *q.After == cur }, false},
		{"since=yesterday", nil, true},
		{"limit=0", nil, true},
		{"limit=many", nil, true},
		{"cursor=bm90LWEtY3Vyc29y", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			v, _ := url.ParseQuery(tt.query)
			q, err := ParseListQuery(v)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidInput) {
					t.Errorf("err = %v, want ErrInvalidInput", err)
				}
				return
			}
			if err != nil || !tt.check(q) {
				t.Errorf("ParseListQuery = %+v, %v", q, err)
			}
		})
	}
}

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

func TestParseWindow(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"", DefaultWindow, false},
		{"90m", 90 * time.Minute, false},
		{"7d", 7 * 24 * time.Hour, false},
		{"0s", 0, true},
		{"-1h", 0, true},
		{"week", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseWindow(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseWindow(%q) = %v, %v", tt.in, got, err)
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
