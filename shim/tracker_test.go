package shim

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/unstract/hatchet-worker/featureflag"
)

// followBackend is a fakeBackend that also reports many executions at once:
// each execution's state is states[id] (queued when absent).
type followBackend struct {
	fakeBackend
	mu      sync.Mutex
	states  map[string]string
	batches []int // the size of each Follow call
	err     error
}

func (b *followBackend) set(id, state string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.states[id] = state
}

func (b *followBackend) Follow(_ context.Context, es []Execution) ([]Status, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batches = append(b.batches, len(es))
	if b.err != nil {
		return nil, b.err
	}
	var out []Status
	for _, e := range es {
		if s, ok := b.states[e.ID]; ok {
			st := e.Status()
			st.State = s
			if s == StateFailed {
				st.Error = &FailureInfo{Type: "ValueError", Message: "bad", Traceback: "Traceback (most recent call last)"}
			}
			out = append(out, st)
		}
	}
	return out, nil
}

func (b *followBackend) Status(_ context.Context, e Execution) (Status, error) {
	if b.statusErr != nil {
		return Status{}, b.statusErr
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := e.Status()
	st.State = StateQueued
	if s, ok := b.states[e.ID]; ok {
		st.State = s
	}
	return st, nil
}

// trackFixture is a Dispatcher and Tracker over an in-memory store and a
// following Celery backend.
type trackFixture struct {
	d      *Dispatcher
	tr     *Tracker
	store  *memStore
	celery *followBackend
}

func newTrackFixture(batch int) trackFixture {
	f := trackFixture{store: newMemStore(), celery: &followBackend{states: map[string]string{}}}
	router := featureflag.NewRouter(fixedFlags(toCelery))
	f.d = NewDispatcher(testRoutes(), router, f.store, map[featureflag.Backend]Backend{
		featureflag.BackendCelery: f.celery, featureflag.BackendHatchet: &fakeBackend{}},
		WithMetrics(nil), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	f.tr = NewTracker(f.d, f.store, WithTrackBatch(batch))
	return f
}

func (f trackFixture) accept(t *testing.T, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		a, err := f.d.Execute(context.Background(), request("legacy", ""))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = a.ID
	}
	return ids
}

// TestTrackerBoundedPasses: each pass reads at most the batch, and every
// execution is followed within ceil(N/batch) passes.
func TestTrackerBoundedPasses(t *testing.T) {
	f := newTrackFixture(3)
	ids := f.accept(t, 7)
	for _, id := range ids {
		f.celery.set(id, StateSucceeded)
	}
	for range 3 {
		f.tr.Pass(context.Background())
	}
	for _, b := range f.celery.batches {
		if b > 3 {
			t.Errorf("a pass read %d executions, batch is 3", b)
		}
	}
	for _, id := range ids {
		if e, _ := f.store.Get(context.Background(), id); e.State != StateSucceeded || !e.Finished() {
			t.Errorf("%s recorded %q after 3 passes", id, e.State)
		}
	}
	if got := testutil.ToFloat64(f.d.metrics.finished.WithLabelValues("legacy", "celery", StateSucceeded)); got != 7 {
		t.Errorf("finished_total = %v, want 7", got)
	}
	if got := testutil.ToFloat64(f.d.metrics.inFlight.WithLabelValues("celery")); got != 0 {
		t.Errorf("in flight = %v, want 0", got)
	}
}

// TestTrackerRecords checks what one pass records for each state the
// backend reports, and the in-flight gauge.
func TestTrackerRecords(t *testing.T) {
	tests := []struct {
		backend      string // "" = not reported (still queued)
		wantState    string
		wantFinished bool
	}{
		{"", StateQueued, false},
		{StateRunning, StateRunning, false},
		{StateSucceeded, StateSucceeded, true},
		{StateFailed, StateFailed, true},
		{StateCancelled, StateCancelled, true},
	}
	f := newTrackFixture(100)
	ids := f.accept(t, len(tests))
	for i, tt := range tests {
		if tt.backend != "" {
			f.celery.set(ids[i], tt.backend)
		}
	}
	f.tr.Pass(context.Background())
	for i, tt := range tests {
		e, _ := f.store.Get(context.Background(), ids[i])
		if e.State != tt.wantState || e.Finished() != tt.wantFinished {
			t.Errorf("backend %q: recorded %q finished %v, want %q %v", tt.backend, e.State, e.Finished(), tt.wantState, tt.wantFinished)
		}
		if tt.backend == StateFailed && (e.Error == nil || e.Error.Traceback == "") {
			t.Errorf("failure recorded without its traceback: %+v", e.Error)
		}
	}
	if got := testutil.ToFloat64(f.d.metrics.inFlight.WithLabelValues("celery")); got != 2 {
		t.Errorf("in flight = %v, want 2", got)
	}
}

// TestStatusNeverGoesBackwards: once recorded, an end stays the answer when
// the backend forgets it (an rpc:// result after a restart) or is down, and
// a later, different end is not recorded over it.
func TestStatusNeverGoesBackwards(t *testing.T) {
	f := newTrackFixture(10)
	id := f.accept(t, 1)[0]
	f.celery.set(id, StateSucceeded)
	f.tr.Pass(context.Background())
	tests := []struct {
		name    string
		backend string
		err     error
	}{
		{"backend forgot", StateQueued, nil},
		{"backend reports the end without its time", StateSucceeded, nil},
		{"backend down", "", Fail(ErrUnavailable, nil, "down")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.celery.set(id, tt.backend)
			f.celery.statusErr = tt.err
			st, err := f.d.Status(context.Background(), id)
			if err != nil || st.State != StateSucceeded || st.FinishedAt == nil {
				t.Errorf("status = %q (finished %v), %v; want the recorded succeeded", st.State, st.FinishedAt, err)
			}
		})
	}
	f.celery.statusErr = nil
	f.celery.set(id, StateQueued)
	if _, err := f.d.Cancel(context.Background(), id); !errors.Is(err, ErrNotCancellable) || f.celery.cancels.Load() != 0 {
		t.Errorf("cancel after the recorded end = %v (%d backend cancels), want ErrNotCancellable", err, f.celery.cancels.Load())
	}
	f.celery.set(id, StateFailed)
	f.tr.Pass(context.Background())
	if e, _ := f.store.Get(context.Background(), id); e.State != StateSucceeded {
		t.Errorf("record changed to %q after its end", e.State)
	}
	if got := testutil.ToFloat64(f.d.metrics.finished.WithLabelValues("legacy", "celery", StateFailed)); got != 0 {
		t.Errorf("a second end was counted")
	}
}

// TestObserve records pushed final statuses of the shim's own executions
// of the pushing backend only.
func TestObserve(t *testing.T) {
	f := newTrackFixture(10)
	id := f.accept(t, 1)[0]
	hatchetRun, err := f.d.Execute(context.Background(), request("modern", ""))
	if err != nil {
		t.Fatal(err)
	}
	done := time.Now().Add(-time.Second).UTC()
	for _, st := range []Status{
		{ExecutionID: "not-a-uuid", Backend: featureflag.BackendCelery, State: StateSucceeded},
		{ExecutionID: hatchetRun.ID, Backend: featureflag.BackendCelery, State: StateFailed},
		{ExecutionID: id, Backend: featureflag.BackendCelery, State: StateFailed, FinishedAt: &done,
			Error: &FailureInfo{Type: "KeyError", Message: "x", Traceback: "Traceback …"}},
	} {
		f.tr.Observe(st)
	}
	e, _ := f.store.Get(context.Background(), id)
	if e.State != StateFailed || e.Error == nil || e.Error.Type != "KeyError" || !e.FinishedAt.Equal(done) {
		t.Errorf("recorded %q %+v at %v", e.State, e.Error, e.FinishedAt)
	}
	if h, _ := f.store.Get(context.Background(), hatchetRun.ID); h.Finished() {
		t.Errorf("a Celery result finished the Hatchet execution %s", h.ID)
	}
}

// switchLeader leads while on is true.
type switchLeader struct{ on bool }

func (l *switchLeader) Lead(context.Context) (bool, error) { return l.on, nil }

// TestTrackerLeads checks that a tracker with a Leader passes only while it
// leads, shows it in shim_tracker_leader, and leaves the in-flight gauge to
// the leader.
func TestTrackerLeads(t *testing.T) {
	f := newTrackFixture(10)
	leader := &switchLeader{}
	f.tr = NewTracker(f.d, f.store, WithLeader(leader))
	id := f.accept(t, 2)[0]
	f.celery.set(id, StateSucceeded)
	steps := []struct {
		leads        bool
		wantFinished bool
		wantGauge    float64
		wantInFlight int // series of shim_executions_in_flight
	}{
		{false, false, 0, 0},
		{true, true, 1, 2},
		{false, true, 0, 0},
	}
	for i, s := range steps {
		leader.on = s.leads
		f.tr.Pass(context.Background())
		e, _ := f.store.Get(context.Background(), id)
		if e.Finished() != s.wantFinished {
			t.Errorf("step %d (leads %v): finished %v, want %v", i, s.leads, e.Finished(), s.wantFinished)
		}
		if got := testutil.ToFloat64(f.d.metrics.leading); got != s.wantGauge {
			t.Errorf("step %d: shim_tracker_leader = %v, want %v", i, got, s.wantGauge)
		}
		if got := testutil.CollectAndCount(f.d.metrics.inFlight); got != s.wantInFlight {
			t.Errorf("step %d: %d in-flight series, want %d", i, got, s.wantInFlight)
		}
	}
}

// TestTrackerCancelsAgain checks that an execution still running
// cancelRepeat after its cancel gets the cancel again, once per
// cancelRepeat, and one that ended gets none.
func TestTrackerCancelsAgain(t *testing.T) {
	f := newTrackFixture(10)
	ids := f.accept(t, 2)
	for _, id := range ids {
		f.celery.set(id, StateRunning)
		if _, err := f.d.Cancel(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	f.celery.set(ids[1], StateCancelled)
	steps := []struct {
		name    string
		age     time.Duration // how long ago the cancels were asked for
		cancels int64         // the backend's cancels so far: 2 by the API
	}{
		{"just asked", 0, 2},
		{"asked long ago", cancelRepeat + time.Second, 3},
		{"asked again just now", 0, 3},
	}
	for _, s := range steps {
		for _, id := range ids {
			f.store.mu.Lock()
			if r := f.store.recs[id]; r.e.CancelRequestedAt != nil && s.age > 0 {
				at := time.Now().Add(-s.age)
				r.e.CancelRequestedAt = &at
			}
			f.store.mu.Unlock()
		}
		f.tr.Pass(context.Background())
		if got := f.celery.cancels.Load(); got != s.cancels {
			t.Errorf("%s: %d cancels, want %d", s.name, got, s.cancels)
		}
	}
	if got := testutil.ToFloat64(f.d.metrics.cancelsRepeated.WithLabelValues("celery")); got != 1 {
		t.Errorf("shim_cancels_repeated_total = %v, want 1", got)
	}
}
