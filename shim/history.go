package shim

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/unstract/hatchet-worker/featureflag"
)

// History reads execution records in bulk, for the executions list and the
// migration summary; *store.Postgres (shim/store) provides it.
type History interface {
	// List returns the executions q selects, newest first.
	List(ctx context.Context, q ListQuery) ([]Execution, error)
	// Stats counts the executions accepted since, by workflow and backend.
	Stats(ctx context.Context, since time.Time) ([]BackendStats, error)
	// Series counts the executions accepted since, by workflow, backend and
	// step-long bucket (the first starts at since).
	Series(ctx context.Context, since time.Time, step time.Duration) ([]Point, error)
}

// Point is one bucket of a workflow's executions on one backend.
type Point struct {
	Workflow  string
	Backend   featureflag.Backend
	At        time.Time
	Total     int
	Succeeded int
	Failed    int
}

// ListQuery selects executions; empty fields select all.
type ListQuery struct {
	Workflow       string
	Backend        featureflag.Backend
	Status         string
	OrganizationID string
	// Since keeps executions accepted at or after it.
	Since time.Time
	// Limit is the page size (DefaultListLimit when 0, at most MaxListLimit).
	Limit int
	// After continues a listing after this execution (Page.NextCursor).
	After *Cursor
}

// Page sizes of the executions list.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// Page is one page of the executions list.
type Page struct {
	Executions []Execution `json:"executions"`
	// NextCursor continues the list; empty on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// Cursor is a position in the executions list: the last execution shown.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// String encodes c for a URL.
func (c Cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.CreatedAt.UTC().Format(time.RFC3339Nano) + "|" + c.ID))
}

// ParseCursor decodes a cursor String made; anything else is ErrInvalidInput.
func ParseCursor(s string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	at, id, ok := strings.Cut(string(raw), "|")
	if err != nil || !ok {
		return Cursor{}, Fail(ErrInvalidInput, err, "cursor %s is not one this API returned", Quote(s))
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if _, idErr := uuid.Parse(id); err != nil || idErr != nil {
		return Cursor{}, Fail(ErrInvalidInput, errors.Join(err, idErr), "cursor %s is not one this API returned", Quote(s))
	}
	return Cursor{CreatedAt: t, ID: id}, nil
}

// states are the execution states, in the order summaries show them.
var states = []string{StateQueued, StateRunning, StateSucceeded, StateFailed, StateCancelled, StateUnknown}

// check validates q and applies the default limit.
func (q *ListQuery) check() error {
	switch {
	case q.Status != "" && !slices.Contains(states, q.Status):
		return Fail(ErrInvalidInput, nil, "status %s: want one of %s", Quote(q.Status), strings.Join(states, ", "))
	case q.Backend != "" && q.Backend != featureflag.BackendHatchet && q.Backend != featureflag.BackendCelery:
		return Fail(ErrInvalidInput, nil, "backend %s: want hatchet or celery", Quote(string(q.Backend)))
	case q.Limit < 0 || q.Limit > MaxListLimit:
		return Fail(ErrInvalidInput, nil, "limit %d: want 1 to %d", q.Limit, MaxListLimit)
	case q.Limit == 0:
		q.Limit = DefaultListLimit
	}
	return nil
}

// BackendStats describes one workflow's executions on one backend over a
// window.
type BackendStats struct {
	Workflow string              `json:"-"`
	Backend  featureflag.Backend `json:"backend"`
	// Counts are the executions by state.
	Counts map[string]int `json:"counts"`
	Total  int            `json:"total"`
	// SuccessRate is succeeded / finished (succeeded, failed, cancelled,
	// unknown); absent before anything finished.
	SuccessRate *float64 `json:"success_rate,omitempty"`
	// P50Seconds and P95Seconds are percentiles of the queue-to-finish
	// duration of the succeeded executions.
	P50Seconds *float64 `json:"p50_seconds,omitempty"`
	P95Seconds *float64 `json:"p95_seconds,omitempty"`
}

// finished is how many executions ended.
func (b BackendStats) finished() int {
	return b.Counts[StateSucceeded] + b.Counts[StateFailed] + b.Counts[StateCancelled] + b.Counts[StateUnknown]
}

// withRate returns b with its success rate.
func (b BackendStats) withRate() BackendStats {
	if n := b.finished(); n > 0 {
		r := float64(b.Counts[StateSucceeded]) / float64(n)
		b.SuccessRate = &r
	}
	return b
}

// Summary is GET /api/v2/migration/summary: both backends side by side for
// every workflow, over a window.
type Summary struct {
	Window    string            `json:"window"`
	Since     time.Time         `json:"since"`
	Workflows []WorkflowSummary `json:"workflows"`
}

// WorkflowSummary is one workflow: where it routes now and why, and its
// executions on each backend (Hatchet first).
type WorkflowSummary struct {
	Workflow string               `json:"workflow"`
	RoutesTo featureflag.Decision `json:"routes_to"`
	Backends []BackendStats       `json:"backends"`
}

// WithHistory lets the dispatcher list executions and summarise them from h.
func WithHistory(h History) DispatcherOption { return func(x *Dispatcher) { x.history = h } }

// Executions returns one page of the executions q selects, newest first,
// without their results.
func (d *Dispatcher) Executions(ctx context.Context, q ListQuery) (Page, error) {
	if err := q.check(); err != nil {
		return Page{}, err
	}
	if d.history == nil {
		return Page{}, Fail(ErrUnavailable, nil, "this shim keeps no execution history")
	}
	es, err := d.history.List(ctx, ListQuery{Workflow: q.Workflow, Backend: q.Backend, Status: q.Status,
		OrganizationID: q.OrganizationID, Since: q.Since, Limit: q.Limit + 1, After: q.After})
	if err != nil {
		return Page{}, err
	}
	for i := range es {
		es[i].Result = nil // a page stays small; GET the execution for its result
	}
	if es == nil {
		es = []Execution{} // an empty page lists [], not null
	}
	p := Page{Executions: es}
	if len(es) > q.Limit {
		p.Executions = es[:q.Limit]
		last := p.Executions[q.Limit-1]
		p.NextCursor = Cursor{CreatedAt: last.CreatedAt, ID: last.ID}.String()
	}
	return p, nil
}

// Summary compares the backends for every workflow over the window ending now.
func (d *Dispatcher) Summary(ctx context.Context, window time.Duration) (Summary, error) {
	if window <= 0 {
		return Summary{}, Fail(ErrInvalidInput, nil, "window %s: must be positive", window)
	}
	if d.history == nil {
		return Summary{}, Fail(ErrUnavailable, nil, "this shim keeps no execution history")
	}
	since := time.Now().Add(-window).UTC()
	stats, err := d.history.Stats(ctx, since)
	if err != nil {
		return Summary{}, fmt.Errorf("summarise executions: %w", err)
	}
	s := Summary{Window: window.String(), Since: since}
	for _, w := range d.Workflows() {
		ws := WorkflowSummary{Workflow: w.Name, RoutesTo: w.RoutesTo}
		for _, b := range []featureflag.Backend{featureflag.BackendHatchet, featureflag.BackendCelery} {
			ws.Backends = append(ws.Backends, statsOf(stats, w.Name, b))
		}
		s.Workflows = append(s.Workflows, ws)
	}
	return s, nil
}

// statsOf finds the stats of workflow on backend, zero when none ran there.
func statsOf(all []BackendStats, workflow string, backend featureflag.Backend) BackendStats {
	for _, s := range all {
		if s.Workflow == workflow && s.Backend == backend {
			return s.withRate()
		}
	}
	return BackendStats{Workflow: workflow, Backend: backend, Counts: map[string]int{}}
}

// Series counts every workflow's executions on each backend in step-long
// buckets over the window ending now.
func (d *Dispatcher) Series(ctx context.Context, window, step time.Duration) ([]Point, time.Time, error) {
	if d.history == nil {
		return nil, time.Time{}, Fail(ErrUnavailable, nil, "this shim keeps no execution history")
	}
	if step <= 0 || window <= 0 {
		return nil, time.Time{}, Fail(ErrInvalidInput, nil, "window %s and step %s must be positive", window, step)
	}
	since := time.Now().Add(-window).Truncate(step).UTC()
	ps, err := d.history.Series(ctx, since, step)
	if err != nil {
		return nil, since, fmt.Errorf("execution series: %w", err)
	}
	return ps, since, nil
}
