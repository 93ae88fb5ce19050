package shim

import (
	"context"
	"log/slog"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unstract/hatchet-worker/featureflag"
)

// TrackStore is the store outcome tracking walks; *store.Postgres (shim/store) provides it.
type TrackStore interface {
	Outcomes
	// Unfinished returns up to limit unfinished executions on backend,
	// checked longest ago first, and marks them checked.
	Unfinished(ctx context.Context, backend featureflag.Backend, limit int) ([]Execution, error)
	// InFlight counts the unfinished executions of each backend.
	InFlight(ctx context.Context) (map[featureflag.Backend]int, error)
}

// Defaults of outcome tracking (SHIM_TRACK_INTERVAL, SHIM_TRACK_BATCH).
const (
	DefaultTrackInterval = 5 * time.Second
	DefaultTrackBatch    = 500
)

// Tracker follows every accepted execution to its end, in the background,
// and records its Outcome. Each pass reads at most batch unfinished
// executions per backend, those checked longest ago first, and asks the
// backend about them in bulk (Follower); results of an rpc:// backend are
// recorded as they arrive (Observe). docs/architecture.md gives its costs.
type Tracker struct {
	backends map[featureflag.Backend]Backend
	finisher finisher
	log      *slog.Logger
	inFlight *prometheus.GaugeVec
	store    TrackStore
	interval time.Duration
	batch    int
	failing  map[featureflag.Backend]bool // backends whose last pass failed
	leader   Leader
	leading  prometheus.Gauge
	cancels  *prometheus.CounterVec
	leads    bool // whether the last pass led
}

// Leader elects the one replica of those sharing a store that tracks
// outcomes (*store.Leader, a PostgreSQL advisory lock).
type Leader interface {
	// Lead reports whether this process leads now, taking the lead when it
	// is free.
	Lead(ctx context.Context) (bool, error)
}

// WithLeader makes the tracker pass only while l says this process leads,
// so replicas sharing a store track once between them (default: always).
func WithLeader(l Leader) TrackerOption { return func(t *Tracker) { t.leader = l } }

// TrackerOption configures a Tracker.
type TrackerOption func(*Tracker)

// WithTrackInterval sets the time between passes (default DefaultTrackInterval).
func WithTrackInterval(d time.Duration) TrackerOption { return func(t *Tracker) { t.interval = d } }

// WithTrackBatch sets how many executions per backend a pass reads at most
// (default DefaultTrackBatch).
func WithTrackBatch(n int) TrackerOption { return func(t *Tracker) { t.batch = n } }

// NewTracker returns a Tracker of d's executions, which it reads from store
// (d's store) and records through d, with d's metrics and logger.
func NewTracker(d *Dispatcher, store TrackStore, opts ...TrackerOption) *Tracker {
	t := &Tracker{backends: d.backends, finisher: d.finisher, log: d.log, inFlight: d.metrics.inFlight, leading: d.metrics.leading,
		cancels: d.metrics.cancelsRepeated,
		store:   store, interval: DefaultTrackInterval, batch: DefaultTrackBatch, failing: map[featureflag.Backend]bool{}}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Run makes a pass now and every interval until ctx ends.
func (t *Tracker) Run(ctx context.Context) error {
	tick := time.NewTicker(t.interval)
	defer tick.Stop()
	for {
		t.Pass(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Pass follows one batch of unfinished executions per backend, then
// updates the in-flight gauge; with a Leader, only while this process
// leads. Passes of one Tracker must not overlap (Run makes them one after
// the other).
func (t *Tracker) Pass(ctx context.Context) {
	if !t.lead(ctx) {
		return
	}
	for _, name := range t.followers() {
		err := t.follow(ctx, name, t.backends[name].(Follower))
		t.report(ctx, name, err)
	}
	n, err := t.store.InFlight(ctx)
	if err != nil {
		t.report(ctx, "store", err)
		return
	}
	for name := range t.backends {
		t.inFlight.WithLabelValues(string(name)).Set(float64(n[name]))
	}
}

// lead reports whether this process tracks now, logging each change.
func (t *Tracker) lead(ctx context.Context) bool {
	if t.leader == nil {
		return true
	}
	leads, err := t.leader.Lead(ctx)
	t.report(ctx, "leader", err)
	if leads != t.leads {
		t.leads = leads
		t.log.InfoContext(ctx, "outcome tracking: lead changed", "leads", leads)
	}
	leading := 0.0
	if leads {
		leading = 1
	} else {
		t.inFlight.Reset() // the leader reports the fleet's
	}
	t.leading.Set(leading)
	return leads
}

// followers lists the backends that can be followed, by name.
func (t *Tracker) followers() []featureflag.Backend {
	var out []featureflag.Backend
	for name, b := range t.backends {
		if _, ok := b.(Follower); ok {
			out = append(out, name)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// follow reads one batch of name's unfinished executions from f and records
// what changed.
func (t *Tracker) follow(ctx context.Context, name featureflag.Backend, f Follower) error {
	es, err := t.store.Unfinished(ctx, name, t.batch)
	if err != nil || len(es) == 0 {
		return err
	}
	sts, err := f.Follow(ctx, es)
	byID := make(map[string]Execution, len(es))
	for _, e := range es {
		byID[e.ID] = e
	}
	for _, st := range sts { // what was read before an error still counts
		t.record(ctx, byID[st.ExecutionID], st)
	}
	return err
}

// record stores st when e ended or moved since its record.
func (t *Tracker) record(ctx context.Context, e Execution, st Status) {
	switch {
	case st.Final():
		if st.State == StateUnknown {
			t.finisher.noteUnknown(ctx, e, st)
		}
		t.finisher.finish(ctx, e, st)
		return
	case st.State != e.State:
		if err := t.store.Progress(ctx, e.ID, outcomeOf(st)); err != nil {
			t.log.WarnContext(ctx, "record execution progress", "execution_id", e.ID, "err", err)
		}
	}
	t.cancelAgain(ctx, e)
}

// cancelRepeat is how long an execution may run on after a cancel before
// tracking sends the cancel again: a cancel can miss work its backend
// starts at that moment (Hatchet's next step of a DAG, as a step ends).
const cancelRepeat = 10 * time.Second

// cancelAgain sends e's cancel again when e was asked to cancel at least
// cancelRepeat ago and still runs; repeating a cancel is harmless.
func (t *Tracker) cancelAgain(ctx context.Context, e Execution) {
	if e.CancelRequestedAt == nil || time.Since(*e.CancelRequestedAt) < cancelRepeat {
		return
	}
	log := t.log.With("execution_id", e.ID, "backend", e.Backend, "asked", e.CancelRequestedAt.Format(time.RFC3339))
	if err := t.backends[e.Backend].Cancel(ctx, e); err != nil {
		log.WarnContext(ctx, "cancel again", "err", err)
		return
	}
	if err := t.store.RequestCancel(ctx, e.ID); err != nil {
		log.WarnContext(ctx, "record cancel request", "err", err)
	}
	t.cancels.WithLabelValues(string(e.Backend)).Inc()
	log.InfoContext(ctx, "execution still runs after its cancel; cancel sent again")
}

// report logs a pass's failure when a backend starts failing, and its
// recovery; a failure that persists is logged at debug level.
func (t *Tracker) report(ctx context.Context, name featureflag.Backend, err error) {
	was := t.failing[name]
	t.failing[name] = err != nil
	switch {
	case err != nil && ctx.Err() != nil:
	case err != nil && !was:
		t.log.WarnContext(ctx, "outcome tracking failed; retrying every interval", "backend", name, "err", err)
	case err != nil:
		t.log.DebugContext(ctx, "outcome tracking still failing", "backend", name, "err", err)
	case was:
		t.log.InfoContext(ctx, "outcome tracking recovered", "backend", name)
	}
}

// observeTimeout bounds the recording of one pushed result.
const observeTimeout = 5 * time.Second

// Observe records a final status a backend pushes as it arrives (the
// Celery backend's rpc:// replies, celery.Observed), before the backend
// lets go of it. A status the store cannot take now stays readable for the
// next pass while the process lives. Statuses of executions the shim did
// not submit, or of another backend, match no record and are ignored.
func (t *Tracker) Observe(st Status) {
	if _, err := uuid.Parse(st.ExecutionID); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), observeTimeout)
	defer cancel()
	e := Execution{ID: st.ExecutionID, Backend: st.Backend}
	rec, first, err := t.store.Finish(ctx, e, outcomeOf(st))
	switch {
	case err != nil:
		t.log.WarnContext(ctx, "record a pushed result", "execution_id", st.ExecutionID, "backend", st.Backend, "err", err)
	case first:
		t.finisher.counted(ctx, rec)
	}
}
