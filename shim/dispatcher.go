package shim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim/route"
)

// Claims keeps execution records and their claims: what a request writes
// and reads.
type Claims interface {
	// Claim records e with a lease, or returns the record that holds its
	// idempotency key (taking it over when its lease ran out unsubmitted).
	Claim(ctx context.Context, e Execution, lease time.Duration) (Claim, error)
	// SetRef records the backend's ref and ends the claim's lease.
	SetRef(ctx context.Context, c Claim, ref string) error
	// Record stores e, which no idempotency key holds, with its backend's
	// ref or without one yet; recording an id again sets its ref.
	Record(ctx context.Context, e Execution) (Execution, error)
	// FillRef records ref for the execution with id when its record has
	// none and no live claim, and reports whether it did.
	FillRef(ctx context.Context, id, ref string) (bool, error)
	// Forget deletes the unclaimed record with id while it has no ref.
	Forget(ctx context.Context, id string) error
	// Reroute records that the claim goes to another backend.
	Reroute(ctx context.Context, c Claim, backend featureflag.Backend, reason featureflag.Reason) error
	// Release deletes a claim no backend accepted.
	Release(ctx context.Context, c Claim) error
	// Get returns the execution with id, or ErrNotFound.
	Get(ctx context.Context, id string) (Execution, error)
}

// Outcomes records how far executions got.
type Outcomes interface {
	// MarkUnknown records that the execution's backend cannot show it, and
	// reports whether this call was the first to.
	MarkUnknown(ctx context.Context, id string) (bool, error)
	// Finish records a terminal outcome unless the record holds one, and
	// reports whether this call recorded it.
	Finish(ctx context.Context, e Execution, o Outcome) (Execution, bool, error)
	// Progress records the state of an unfinished execution.
	Progress(ctx context.Context, id string, o Outcome) error
	// RequestCancel records that a cancel of the unfinished execution was
	// sent to its backend now.
	RequestCancel(ctx context.Context, id string) error
}

// Store is the dispatcher's store: claims, outcomes, and whether it
// answers; *store.Postgres (shim/store) provides it.
type Store interface {
	Claims
	Outcomes
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
}

// Router decides where a request runs; *featureflag.Router provides it.
type Router interface {
	Decide(featureflag.Request) featureflag.Decision
	Fallback(featureflag.Decision) (featureflag.Decision, bool)
}

// Dispatcher runs the execution lifecycle, apart from HTTP: route, claim
// (or replay), submit to the backend (falling back when the router allows),
// record. It answers status and cancel requests from the backend that holds
// the execution. Its errors are the domain errors of this package.
type Dispatcher struct {
	routes   route.Catalog
	router   Router
	store    Store
	history  History         // nil: no executions list or summary
	reports  PlatformReports // nil: statuses say nothing of the platform
	backends map[featureflag.Backend]Backend
	attempt  time.Duration
	log      *slog.Logger
	metrics  *dispatchMetrics
	later    sync.WaitGroup // background ref writes (fillRefLater)
	finisher finisher
}

// DispatcherOption configures a Dispatcher.
type DispatcherOption func(*Dispatcher)

// WithAttemptTimeout bounds one backend submission (default 20s); a claim's
// lease is four times as long (see lease).
func WithAttemptTimeout(d time.Duration) DispatcherOption {
	return func(x *Dispatcher) { x.attempt = d }
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) DispatcherOption {
	return func(x *Dispatcher) { x.log = l }
}

// WithMetrics registers the routing and acceptance counters on reg.
func WithMetrics(reg prometheus.Registerer) DispatcherOption {
	return func(x *Dispatcher) { x.metrics = newDispatchMetrics(reg) }
}

// defaultAttempt bounds one backend submission by default; it outlasts the
// Celery backend's publish wait.
const defaultAttempt = 20 * time.Second

// NewDispatcher returns a Dispatcher over routes, deciding with router,
// recording in store, submitting to backends (a missing backend answers
// ErrUnavailable).
func NewDispatcher(routes route.Catalog, router Router, store Store, backends map[featureflag.Backend]Backend, opts ...DispatcherOption) *Dispatcher {
	d := &Dispatcher{routes: routes, router: router, store: store, backends: backends, attempt: defaultAttempt, log: slog.Default()}
	for _, o := range opts {
		o(d)
	}
	if d.metrics == nil {
		d.metrics = newDispatchMetrics(nil)
	}
	d.finisher = finisher{store: store, metrics: d.metrics, log: d.log}
	return d
}

// Bounds of one submission. A claim's lease must outlast everything its
// holder does with it, or a retry could take it over and submit again: two
// backend attempts (the chosen backend, then the fallback), each bounded by
// the attempt timeout, the claim before them and the recording of the ref
// after them (retried through a store restart), bounded by an attempt
// each.
func (d *Dispatcher) lease() time.Duration { return 4 * d.attempt }

// recordMargin is the time kept after the backend attempts for recording.
func (d *Dispatcher) recordMargin() time.Duration { return d.attempt }

// Accepted is the outcome of Execute.
type Accepted struct {
	Execution
	// Replayed is true when an earlier request with the same idempotency
	// key created this execution.
	Replayed bool
	// OverrideIgnored is true when the request's use_abstraction was not
	// honoured; it is not stored, so a replay does not report it.
	OverrideIgnored bool
}

// Execute runs one request: it returns the new execution once its backend
// durably accepted the work, or the earlier one with the same idempotency
// key (Replayed). A key whose first request is still submitting is
// ErrConflict; a backend that is down, ErrUnavailable (nothing accepted).
func (d *Dispatcher) Execute(ctx context.Context, req ExecuteRequest) (Accepted, error) {
	rt, err := d.admit(req)
	if err != nil {
		return Accepted{}, err
	}
	return d.run(ctx, rt, req, d.decide(rt, req))
}

// ExecuteAs is Execute on the backend dec names (a decision Decide made
// for req), whatever the router would say now, and with no fallback: a
// backend that is down is ErrUnavailable. It is for an ingress that must
// not end on a backend it did not choose.
func (d *Dispatcher) ExecuteAs(ctx context.Context, req ExecuteRequest, dec featureflag.Decision) (Accepted, error) {
	req.pinned = true
	rt, err := d.admit(req)
	if err != nil {
		return Accepted{}, err
	}
	return d.run(ctx, rt, req, dec)
}

// admit checks req and returns its route.
func (d *Dispatcher) admit(req ExecuteRequest) (route.Route, error) {
	if err := req.Validate(); err != nil {
		return route.Route{}, err
	}
	rt, ok := d.routes[req.Workflow]
	if !ok {
		return route.Route{}, Fail(ErrUnknownWorkflow, nil, "unknown workflow %s; GET /api/v2/workflows lists them", Quote(req.Workflow))
	}
	if rt.Check != nil {
		if err := rt.Check(req.Input); err != nil {
			return route.Route{}, Fail(ErrInvalidInput, err, "%v", err)
		}
	}
	return rt, nil
}

// run submits req as dec says and records the acceptance.
func (d *Dispatcher) run(ctx context.Context, rt route.Route, req ExecuteRequest, dec featureflag.Decision) (Accepted, error) {
	d.metrics.decisions.WithLabelValues(rt.Name, string(dec.Backend), string(dec.Reason)).Inc()
	var a Accepted
	var err error
	if req.IdempotencyKey == "" && dec.Backend == featureflag.BackendHatchet {
		a, err = d.submitKeyless(ctx, rt, req, dec)
	} else {
		a, err = d.claimAndSubmit(ctx, rt, req, dec)
	}
	if err != nil || a.Replayed {
		return a, err
	}
	a.OverrideIgnored = dec.OverrideIgnored
	d.metrics.accepted.WithLabelValues(rt.Name, string(a.Backend)).Inc()
	d.log.InfoContext(ctx, "execution accepted", "execution_id", a.ID, "workflow", a.Workflow, "organization_id", a.OrganizationID,
		"backend", a.Backend, "reason", a.Reason, "backend_ref", a.BackendRef)
	return a, nil
}

// claimAndSubmit claims the execution's record, or replays the one its
// idempotency key holds, before submitting it as dec says: the claim keeps
// a second request with the key from submitting the work again, and gives
// a Celery result published to rpc:// a record to land in.
func (d *Dispatcher) claimAndSubmit(ctx context.Context, rt route.Route, req ExecuteRequest, dec featureflag.Decision) (Accepted, error) {
	leaseEnd := time.Now().Add(d.lease())
	c, err := d.store.Claim(ctx, Execution{
		ID: uuid.NewString(), Workflow: rt.Name, OrganizationID: req.OrganizationID,
		IdempotencyKey: req.IdempotencyKey, Backend: dec.Backend, Reason: dec.Reason, Ingress: req.ingress(),
	}, d.lease())
	if err != nil {
		return Accepted{}, err
	}
	switch c.State {
	case ClaimDone:
		d.log.InfoContext(ctx, "idempotent replay", "execution_id", c.ID, "workflow", c.Workflow, "idempotency_key", c.IdempotencyKey)
		return Accepted{Execution: c.Execution, Replayed: true}, nil
	case ClaimHeld:
		return Accepted{}, Fail(ErrConflict, nil, "an execution with this idempotency key is being submitted; retry shortly")
	case ClaimTakenOver:
		d.log.WarnContext(ctx, "stale claim taken over", "execution_id", c.ID, "workflow", c.Workflow, "idempotency_key", c.IdempotencyKey)
		if a, found, err := d.acceptedBefore(ctx, c); found || err != nil {
			return a, err
		}
	}
	e, err := d.submit(ctx, c, leaseEnd, rt, req)
	if err != nil {
		return Accepted{}, err
	}
	return Accepted{Execution: e}, nil
}

// acceptedBefore looks for the work of a claim taken over from a request
// that died: when its backend shows it accepted the work before the ref was
// recorded, the claim records that ref and the request replays it rather
// than submitting the work again.
func (d *Dispatcher) acceptedBefore(ctx context.Context, c Claim) (Accepted, bool, error) {
	b, err := d.backend(c.Backend)
	finder, ok := b.(RunFinder)
	if err != nil || !ok {
		return Accepted{}, false, nil
	}
	ref, err := finder.FindRef(ctx, c.Execution)
	if err != nil || ref == "" {
		return Accepted{}, false, nil // not found, or not now: submit as for any stale claim
	}
	if err := d.recordRef(ctx, c, ref); err != nil {
		return Accepted{}, true, err
	}
	c.BackendRef = ref
	d.log.InfoContext(ctx, "stale claim's work found on its backend; replaying it", "execution_id", c.ID, "backend_ref", ref)
	return Accepted{Execution: c.Execution, Replayed: true}, true, nil
}

// Decide says where req would run now, as Execute decides it, without
// running it: for an ingress that hands the legacy side its own message
// (the Celery front door).
func (d *Dispatcher) Decide(req ExecuteRequest) (featureflag.Decision, error) {
	rt, ok := d.routes[req.Workflow]
	if !ok {
		return featureflag.Decision{}, Fail(ErrUnknownWorkflow, nil, "unknown workflow %s", Quote(req.Workflow))
	}
	return d.decide(rt, req), nil
}

// Fallback returns where a request decided as dec goes when its backend
// is down, and whether the router allows it.
func (d *Dispatcher) Fallback(dec featureflag.Decision) (featureflag.Decision, bool) {
	return d.router.Fallback(dec)
}

// decide asks the router about req on route.
func (d *Dispatcher) decide(rt route.Route, req ExecuteRequest) featureflag.Decision {
	return d.router.Decide(featureflag.Request{Workflow: rt.Name, Org: req.OrganizationID, Key: req.IdempotencyKey,
		Override: req.UseAbstraction, HatchetOnly: rt.Legacy == nil})
}

// submit hands the claimed execution to its backend, falling back to the
// other one when the router allows, and records the backend's ref.
// Everything it does ends before leaseEnd, whether or not the caller stays:
// the backend attempts by leaseEnd minus the record margin, the store writes
// by leaseEnd. When no backend accepts, the claim is released.
func (d *Dispatcher) submit(ctx context.Context, c Claim, leaseEnd time.Time, rt route.Route, req ExecuteRequest) (Execution, error) {
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), leaseEnd)
	defer cancel()
	submitCtx, cancelSubmit := context.WithDeadline(ctx, leaseEnd.Add(-d.recordMargin()))
	defer cancelSubmit()
	ref, err := d.attemptOn(submitCtx, c.Execution, rt, req)
	if fb, ok := d.fallback(ctx, req, c.Execution, err); ok {
		if rerr := d.store.Reroute(ctx, c, fb.Backend, fb.Reason); rerr != nil {
			return c.Execution, d.release(ctx, c, rerr)
		}
		c.Backend, c.Reason = fb.Backend, fb.Reason
		ref, err = d.attemptOn(submitCtx, c.Execution, rt, req)
	}
	if err != nil {
		return c.Execution, d.release(ctx, c, err)
	}
	c.BackendRef = ref
	if err := d.recordRef(ctx, c, ref); err != nil {
		d.log.ErrorContext(ctx, "accepted work not recorded", "execution_id", c.ID, "backend", c.Backend, "backend_ref", ref, "err", err)
		return c.Execution, err
	}
	return c.Execution, nil
}

// fallback returns the decision to submit e again on, when err says e's
// backend is unavailable and the router allows another (never for a
// request ExecuteAs pinned); it logs the switch.
func (d *Dispatcher) fallback(ctx context.Context, req ExecuteRequest, e Execution, err error) (featureflag.Decision, bool) {
	if req.pinned || !errors.Is(err, ErrUnavailable) {
		return featureflag.Decision{}, false
	}
	fb, ok := d.router.Fallback(featureflag.Decision{Backend: e.Backend, Reason: e.Reason, Workflow: e.Workflow})
	if ok {
		d.log.WarnContext(ctx, "backend unavailable, falling back", "execution_id", e.ID, "from", e.Backend, "to", fb.Backend, "err", err)
	}
	return fb, ok
}

// release gives the claim up after cause and returns the error to report.
func (d *Dispatcher) release(ctx context.Context, c Claim, cause error) error {
	if err := d.untilStored(ctx, "release claim", c.ID, func(ctx context.Context) error { return d.store.Release(ctx, c) }); err != nil {
		d.log.ErrorContext(ctx, "release unaccepted execution", "execution_id", c.ID, "err", err)
	}
	return d.refused(ctx, c.Execution, cause)
}

// refused returns the error to report for e, which no backend accepted
// because of cause; a backend's *Error in cause adds its message.
func (d *Dispatcher) refused(ctx context.Context, e Execution, cause error) error {
	if !errors.Is(cause, ErrUnavailable) {
		return cause
	}
	d.log.ErrorContext(ctx, "backend unavailable", "execution_id", e.ID, "backend", e.Backend, "err", cause)
	msg := string(e.Backend) + " backend is unavailable; the request was not accepted, retry later"
	var detail *Error
	if errors.As(cause, &detail) {
		msg += " (" + detail.Msg + ")"
	}
	return Fail(ErrUnavailable, cause, "%s", msg)
}

// attemptOn makes one submission to e's backend, bounded by the attempt
// timeout.
func (d *Dispatcher) attemptOn(ctx context.Context, e Execution, rt route.Route, req ExecuteRequest) (string, error) {
	b, err := d.backend(e.Backend)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, d.attempt)
	defer cancel()
	if submit := req.HandOver(); submit != nil {
		return submit(ctx)
	}
	return b.Submit(ctx, e, rt, req.Input)
}

// backend returns the backend called name, or ErrUnavailable.
func (d *Dispatcher) backend(name featureflag.Backend) (Backend, error) {
	b, ok := d.backends[name]
	if !ok {
		return nil, Fail(ErrUnavailable, nil, "%s backend is not configured", name)
	}
	return b, nil
}

// Status reports where the execution with id is now. A backend that ended
// it is recorded as the outcome; a recorded outcome answers when the
// backend cannot show the end any more (an rpc:// result after a restart)
// or cannot answer now, so a status never goes backwards.
func (d *Dispatcher) Status(ctx context.Context, id string) (Status, error) {
	e, b, err := d.lookup(ctx, id)
	if err != nil {
		return Status{}, err
	}
	st, err := b.Status(ctx, e)
	if e.Finished() && (err != nil || !st.Final()) {
		return d.withPlatformReport(ctx, recorded(e)), nil
	}
	if errors.Is(err, ErrUnavailable) {
		return Status{}, Fail(ErrUnavailable, err, "%s backend is unavailable: cannot read the execution now", e.Backend)
	}
	if err == nil {
		e = d.adoptRef(ctx, e, st)
	}
	if err == nil && st.State == StateUnknown {
		d.finisher.noteUnknown(ctx, e, st)
	}
	if err == nil && st.Final() && !e.Finished() {
		e = d.finisher.finish(ctx, e, st)
	}
	if err == nil && e.Finished() && st.FinishedAt == nil {
		st.FinishedAt = e.FinishedAt // the time tracking saw the end (rpc:// replies carry none)
	}
	if err == nil {
		st = d.withPlatformReport(ctx, st)
	}
	return st, err
}

// adoptRef records the ref a backend found for e, whose record has none
// (see fillRefLater), and returns e with it.
func (d *Dispatcher) adoptRef(ctx context.Context, e Execution, st Status) Execution {
	if e.BackendRef != "" || st.BackendRef == "" {
		return e
	}
	if _, err := d.store.FillRef(ctx, e.ID, st.BackendRef); err != nil {
		d.log.WarnContext(ctx, "record found backend ref", "execution_id", e.ID, "backend_ref", st.BackendRef, "err", err)
	}
	e.BackendRef = st.BackendRef
	return e
}

// Cancel asks the backend to stop the execution with id. An execution that
// already ended (succeeded, failed or cancelled) is ErrNotCancellable.
func (d *Dispatcher) Cancel(ctx context.Context, id string) (Execution, error) {
	e, b, err := d.lookup(ctx, id)
	if err != nil {
		return e, err
	}
	if e.Finished() {
		return e, Fail(ErrNotCancellable, nil, "the execution already ended: %s", e.State)
	}
	st, err := b.Status(ctx, e)
	switch {
	case errors.Is(err, ErrUnavailable):
		return e, Fail(ErrUnavailable, err, "%s backend is unavailable", e.Backend)
	case err != nil:
		return e, err
	case st.Final():
		return e, Fail(ErrNotCancellable, nil, "the execution already ended: %s", st.State)
	}
	e = d.adoptRef(ctx, e, st)
	err = b.Cancel(ctx, e)
	switch {
	case errors.Is(err, ErrNotCancellable):
		return e, Fail(ErrNotCancellable, err, "the %s backend cannot cancel this execution: %v", e.Backend, err)
	case errors.Is(err, ErrUnavailable):
		return e, Fail(ErrUnavailable, err, "%s backend is unavailable", e.Backend)
	case err != nil:
		return e, err
	}
	if err := d.store.RequestCancel(ctx, e.ID); err != nil {
		d.log.WarnContext(ctx, "record cancel request; tracking will not repeat it", "execution_id", e.ID, "err", err)
	}
	d.log.InfoContext(ctx, "execution cancel requested", "execution_id", e.ID, "backend", e.Backend)
	return e, nil
}

// lookup finds the execution with id and its backend.
func (d *Dispatcher) lookup(ctx context.Context, id string) (Execution, Backend, error) {
	e, err := d.store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Execution{}, nil, Fail(ErrNotFound, err, "no execution %s", Quote(id))
	}
	if err != nil {
		return Execution{}, nil, err
	}
	b, err := d.backend(e.Backend)
	return e, b, err
}

// WorkflowInfo is one entry of GET /api/v2/workflows.
type WorkflowInfo struct {
	route.Route
	// RoutesTo is where a request without organisation or override goes now.
	RoutesTo featureflag.Decision `json:"routes_to"`
}

// Workflows lists the routes, by name, with where each goes now.
func (d *Dispatcher) Workflows() []WorkflowInfo {
	out := make([]WorkflowInfo, 0, len(d.routes))
	for _, rt := range d.routes {
		out = append(out, WorkflowInfo{Route: rt, RoutesTo: d.decide(rt, ExecuteRequest{})})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Ready reports whether the store and every configured backend answer.
func (d *Dispatcher) Ready(ctx context.Context) error {
	if err := d.store.Ping(ctx); err != nil {
		return err
	}
	for name, b := range d.backends {
		if err := b.Ready(ctx); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}
