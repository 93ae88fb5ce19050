package shim

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/featureflag"
)

// dispatcherFixture is a Dispatcher over fakes.
type dispatcherFixture struct {
	d       *Dispatcher
	store   *memStore
	hatchet *fakeBackend
	celery  *fakeBackend
}

func newFixture(flags featureflag.Decision, fallback bool, opts ...DispatcherOption) dispatcherFixture {
	f := dispatcherFixture{store: newMemStore(), hatchet: &fakeBackend{}, celery: &fakeBackend{}}
	router := featureflag.NewRouter(fixedFlags(flags), featureflag.WithFallback(fallback))
	f.d = NewDispatcher(testRoutes(), router, f.store,
		map[featureflag.Backend]Backend{featureflag.BackendHatchet: f.hatchet, featureflag.BackendCelery: f.celery}, opts...)
	return f
}

func request(workflow, key string) ExecuteRequest {
	return ExecuteRequest{Workflow: workflow, OrganizationID: "org", IdempotencyKey: key, Input: []byte(`{}`)}
}

// withOverride sets req's use_abstraction.
func withOverride(req ExecuteRequest, on bool) ExecuteRequest {
	req.UseAbstraction = &on
	return req
}

var (
	toCelery  = featureflag.Decision{Backend: featureflag.BackendCelery, Reason: featureflag.ReasonGlobal}
	toHatchet = featureflag.Decision{Backend: featureflag.BackendHatchet, Reason: featureflag.ReasonGlobal}
)

// TestExecute checks routing, fallback and the errors of one request.
func TestExecute(t *testing.T) {
	tests := []struct {
		name            string
		req             ExecuteRequest
		flags           *featureflag.Decision // nil: toCelery
		fallback        bool
		celery, hatchet func(context.Context) error
		wantBackend     featureflag.Backend
		wantReason      featureflag.Reason
		wantErr         error
		wantSubmits     [2]int64 // celery, hatchet
		wantIgnored     bool     // the request's use_abstraction was not honoured
	}{
		{name: "flags choose celery", req: request("legacy", ""),
			wantBackend: featureflag.BackendCelery, wantReason: "global", wantSubmits: [2]int64{1, 0}},
		{name: "hatchet only", req: request("modern", ""),
			wantBackend: featureflag.BackendHatchet, wantReason: "hatchet-only", wantSubmits: [2]int64{0, 1}},
		{name: "celery down", req: request("legacy", "k"), celery: unavailable,
			wantErr: ErrUnavailable, wantSubmits: [2]int64{1, 0}},
		{name: "celery down, fallback", req: request("legacy", "k"), fallback: true, celery: unavailable,
			wantBackend: featureflag.BackendHatchet, wantReason: "fallback:global", wantSubmits: [2]int64{1, 1}},
		{name: "both down, fallback", req: request("legacy", "k"), fallback: true, celery: unavailable, hatchet: unavailable,
			wantErr: ErrUnavailable, wantSubmits: [2]int64{1, 1}},
		{name: "hatchet-only never falls back", req: request("modern", "k"), fallback: true, hatchet: unavailable,
			wantErr: ErrUnavailable, wantSubmits: [2]int64{0, 1}},
		{name: "bad input does not fall back", req: request("legacy", "k"), fallback: true,
			celery:  func(context.Context) error { return Fail(ErrInvalidInput, nil, "no document_path") },
			wantErr: ErrInvalidInput, wantSubmits: [2]int64{1, 0}},
		{name: "hatchet down, no key, fallback", req: request("legacy", ""), flags: &toHatchet, fallback: true, hatchet: unavailable,
			wantBackend: featureflag.BackendCelery, wantReason: "fallback:global", wantSubmits: [2]int64{1, 1}},
		{name: "hatchet down, no key", req: request("legacy", ""), flags: &toHatchet, hatchet: unavailable,
			wantErr: ErrUnavailable, wantSubmits: [2]int64{0, 1}},
		{name: "override ignored", req: withOverride(request("legacy", ""), true),
			wantBackend: featureflag.BackendCelery, wantReason: "global", wantSubmits: [2]int64{1, 0}, wantIgnored: true},
		{name: "override ignored, keyed", req: withOverride(request("legacy", "k"), true),
			wantBackend: featureflag.BackendCelery, wantReason: "global", wantSubmits: [2]int64{1, 0}, wantIgnored: true},
		{name: "unknown workflow", req: request("nope", ""), wantErr: ErrUnknownWorkflow},
		{name: "missing organisation", req: ExecuteRequest{Workflow: "legacy", Input: []byte(`{}`)}, wantErr: ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags := toCelery
			if tt.flags != nil {
				flags = *tt.flags
			}
			f := newFixture(flags, tt.fallback)
			f.celery.submit, f.hatchet.submit = tt.celery, tt.hatchet
			a, err := f.d.Execute(context.Background(), tt.req)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if n := f.store.count(); n != 0 {
					t.Errorf("%d records left after a failure, want the claim released", n)
				}
			} else if err != nil || a.Backend != tt.wantBackend || a.Reason != tt.wantReason || a.BackendRef != "ref-"+a.ID || a.OverrideIgnored != tt.wantIgnored {
				t.Fatalf("Execute = %+v, %v; want %s by %s with its ref, override ignored %v", a, err, tt.wantBackend, tt.wantReason, tt.wantIgnored)
			}
			if got := [2]int64{f.celery.submits.Load(), f.hatchet.submits.Load()}; got != tt.wantSubmits {
				t.Errorf("submissions (celery, hatchet) = %v, want %v", got, tt.wantSubmits)
			}
			if tt.wantErr == nil {
				rec, _ := f.store.Get(context.Background(), a.ID)
				if rec.Backend != tt.wantBackend || rec.Reason != tt.wantReason {
					t.Errorf("record = %+v, want %s by %s", rec, tt.wantBackend, tt.wantReason)
				}
			}
		})
	}
}

// TestExecuteUnclaimed sends requests without an idempotency key to
// Hatchet: they take no claim, their record is written alongside the run
// and its ref after the answer, through a store restart once the record is
// in; when the store refuses the record the run is cancelled and nothing is
// reported accepted.
func TestExecuteUnclaimed(t *testing.T) {
	tests := []struct {
		name        string
		outage      int64 // store writes refused from the start
		refOutage   int64 // store writes refused once the record is in
		wantErr     error
		wantCancels int64
	}{
		{name: "recorded alongside the run"},
		{name: "store refuses the record", outage: 1, wantErr: ErrStoreUnavailable, wantCancels: 1},
		{name: "store restarts after the record", refOutage: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(toHatchet, true, WithAttemptTimeout(500*time.Millisecond))
			f.store.outage.Store(tt.outage)
			f.hatchet.submit = func(context.Context) error { // the engine answers once the record is written
				for f.store.recordCalls.Load() == 0 {
					time.Sleep(time.Millisecond)
				}
				f.store.outage.Add(tt.refOutage)
				return nil
			}
			a, err := f.d.Execute(context.Background(), request("legacy", ""))
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Execute = %+v, %v; want %v", a, err, tt.wantErr)
			}
			f.d.Wait()
			if n := len(f.store.leases); n != 0 {
				t.Errorf("%d claims taken, want none", n)
			}
			if n := f.hatchet.cancels.Load(); n != tt.wantCancels {
				t.Errorf("%d runs cancelled, want %d", n, tt.wantCancels)
			}
			if n := f.celery.submits.Load(); n != 0 {
				t.Errorf("%d submissions to celery, want none: a store outage is no backend outage", n)
			}
			if err != nil {
				if n := f.store.count(); n != 0 {
					t.Errorf("%d records after a refusal, want none", n)
				}
				return
			}
			rec, _ := f.store.Get(context.Background(), a.ID)
			if a.BackendRef != "ref-"+a.ID || rec.BackendRef != a.BackendRef || rec.Backend != featureflag.BackendHatchet || rec.CreatedAt.IsZero() {
				t.Errorf("accepted %+v, record %+v; want hatchet's ref ref-%s in both", a.Execution, rec, a.ID)
			}
		})
	}
}

// TestStatusAdoptsFoundRef reads an execution whose record lost its run id
// (the process died before writing it): the backend finds the run, and the
// record keeps what it found.
func TestStatusAdoptsFoundRef(t *testing.T) {
	f := newFixture(toHatchet, false)
	f.hatchet.found, f.hatchet.state = "run-1", StateRunning
	e, err := f.store.Record(context.Background(), Execution{ID: "e-1", Workflow: "legacy", OrganizationID: "org",
		Backend: featureflag.BackendHatchet, Reason: featureflag.ReasonGlobal})
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.d.Status(context.Background(), e.ID)
	if err != nil || st.BackendRef != "run-1" || st.State != StateRunning {
		t.Fatalf("Status = %+v, %v; want running as run-1", st, err)
	}
	if rec, _ := f.store.Get(context.Background(), e.ID); rec.BackendRef != "run-1" {
		t.Errorf("record %+v, want the found ref run-1", rec)
	}
}

// TestExecuteSameKey races requests with one idempotency key while the
// first submission is in flight: one submission, the others told it is in
// progress, and a later retry replays it.
func TestExecuteSameKey(t *testing.T) {
	f := newFixture(toCelery, false)
	release := make(chan struct{})
	f.celery.submit = func(context.Context) error { <-release; return nil }
	var wg sync.WaitGroup
	errs := make([]error, 30)
	ids := make([]string, 30)
	for i := range errs {
		wg.Go(func() {
			a, err := f.d.Execute(context.Background(), request("legacy", "k"))
			ids[i], errs[i] = a.ID, err
		})
	}
	for f.celery.submits.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others reach the store
	close(release)
	wg.Wait()
	accepted := map[string]bool{}
	for i, err := range errs {
		switch {
		case err == nil:
			accepted[ids[i]] = true
		case !errors.Is(err, ErrConflict):
			t.Errorf("err = %v, want nil or ErrConflict", err)
		}
	}
	if n := f.celery.submits.Load(); n != 1 || len(accepted) != 1 {
		t.Fatalf("%d submissions, ids %v; want one of each", n, accepted)
	}
	a, err := f.d.Execute(context.Background(), request("legacy", "k"))
	if err != nil || !a.Replayed || !accepted[a.ID] {
		t.Errorf("retry = %+v, %v; want a replay of %v", a, err, accepted)
	}
}

// TestExecuteWithinLease makes both backends hang: the request gives up,
// fallback included, and releases its claim before the lease it took ends,
// so no retry could take the claim over while an attempt still runs.
func TestExecuteWithinLease(t *testing.T) {
	const attempt = 40 * time.Millisecond
	f := newFixture(toCelery, true, WithAttemptTimeout(attempt))
	f.celery.submit, f.hatchet.submit = hang, hang
	began := time.Now()
	_, err := f.d.Execute(context.Background(), request("legacy", "k"))
	took := time.Since(began)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	lease := f.store.leases[0]
	if took >= lease-f.d.recordMargin() {
		t.Errorf("gave up after %s; the lease is %s and must leave %s to record", took, lease, f.d.recordMargin())
	}
	if lease < 2*attempt+2*f.d.recordMargin() {
		t.Errorf("lease %s shorter than two attempts of %s and the records around them", lease, attempt)
	}
	if f.celery.submits.Load() != 1 || f.hatchet.submits.Load() != 1 || f.store.count() != 0 {
		t.Errorf("submissions %d/%d, %d records; want one attempt each and the claim released",
			f.celery.submits.Load(), f.hatchet.submits.Load(), f.store.count())
	}
}

// TestExecuteTakesOverStaleClaim leaves a claim whose lease ended without a
// ref: the next request takes it over, keeping its id, and submits it once,
// unless the backend shows the work the dead request handed it, which is
// then recorded and replayed.
func TestExecuteTakesOverStaleClaim(t *testing.T) {
	tests := []struct {
		name        string
		found       string // the work the backend shows for the claim
		wantSubmits int64
		wantRef     string
	}{
		{name: "never submitted", wantSubmits: 1, wantRef: "ref-stale-id"},
		{name: "submitted, ref not recorded", found: "ref-earlier", wantRef: "ref-earlier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(toCelery, false)
			f.celery.found = tt.found
			stale, err := f.store.Claim(context.Background(), Execution{ID: "stale-id", Workflow: "legacy", OrganizationID: "org",
				IdempotencyKey: "k", Backend: featureflag.BackendCelery, Reason: "global"}, -time.Second)
			if err != nil {
				t.Fatal(err)
			}
			a, err := f.d.Execute(context.Background(), request("legacy", "k"))
			if err != nil || a.ID != stale.ID || a.BackendRef != tt.wantRef || a.Replayed != (tt.found != "") {
				t.Fatalf("Execute = %+v, %v; want the stale claim %s as %s", a, err, stale.ID, tt.wantRef)
			}
			if err := f.store.SetRef(context.Background(), stale, "late"); !errors.Is(err, ErrClaimLost) {
				t.Errorf("the dead holder's SetRef = %v, want ErrClaimLost", err)
			}
			if n := f.celery.submits.Load(); n != tt.wantSubmits {
				t.Errorf("%d submissions, want %d", n, tt.wantSubmits)
			}
			if rec, _ := f.store.Get(context.Background(), stale.ID); rec.BackendRef != tt.wantRef {
				t.Errorf("record ref %q, want %q", rec.BackendRef, tt.wantRef)
			}
		})
	}
}

// TestCancel checks which executions may be cancelled.
func TestCancel(t *testing.T) {
	tests := []struct {
		name      string
		state     string
		statusErr error
		id        string
		wantErr   error
		cancelled bool
	}{
		{name: "running", state: StateRunning, cancelled: true},
		{name: "queued", state: StateQueued, cancelled: true},
		{name: "already cancelled", state: StateCancelled, wantErr: ErrNotCancellable},
		{name: "succeeded", state: StateSucceeded, wantErr: ErrNotCancellable},
		{name: "failed", state: StateFailed, wantErr: ErrNotCancellable},
		{name: "backend down", statusErr: Fail(ErrUnavailable, nil, "down"), wantErr: ErrUnavailable},
		{name: "unknown id", id: "nope", wantErr: ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(toCelery, false)
			f.celery.state, f.celery.statusErr = tt.state, tt.statusErr
			a, err := f.d.Execute(context.Background(), request("legacy", ""))
			if err != nil {
				t.Fatal(err)
			}
			id := a.ID
			if tt.id != "" {
				id = tt.id
			}
			_, err = f.d.Cancel(context.Background(), id)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("Cancel = %v, want %v", err, tt.wantErr)
			}
			if got := f.celery.cancels.Load() == 1; got != tt.cancelled {
				t.Errorf("backend asked to cancel: %v, want %v", got, tt.cancelled)
			}
		})
	}
}

// TestStatusUnknown checks an unknown id is ErrNotFound.
func TestStatusUnknown(t *testing.T) {
	f := newFixture(toCelery, false)
	if _, err := f.d.Status(context.Background(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Status = %v, want ErrNotFound", err)
	}
}

// TestExecuteThroughStoreRestart makes the store refuse the writes that
// settle a claim a few times, as while its database restarts: the ref of
// accepted work is still recorded, and the claim of refused work still
// released, so a retry with the key is neither a duplicate nor blocked.
func TestExecuteThroughStoreRestart(t *testing.T) {
	tests := []struct {
		name    string
		celery  func(context.Context) error
		wantErr error
		records int
	}{
		{"accepted work is recorded", nil, nil, 1},
		{"refused work is released", unavailable, ErrUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(toCelery, false)
			f.celery.submit = tt.celery
			f.store.outage.Store(3)
			a, err := f.d.Execute(context.Background(), request("legacy", "k"))
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Execute = %v, want %v", err, tt.wantErr)
			}
			if n := f.store.count(); n != tt.records {
				t.Errorf("%d records, want %d", n, tt.records)
			}
			if err == nil {
				if rec, _ := f.store.Get(context.Background(), a.ID); rec.BackendRef != a.BackendRef || rec.BackendRef == "" {
					t.Errorf("record %+v, want ref %s", rec, a.BackendRef)
				}
			}
		})
	}
}

// TestExecuteAs runs a request where a decision made before says, even
// when the router would now say otherwise, and never falls back: the
// front door hands the legacy side its own message instead.
func TestExecuteAs(t *testing.T) {
	f := newFixture(toCelery, true)
	dec, err := f.d.Decide(request("legacy", "k1"))
	if err != nil || dec.Backend != featureflag.BackendCelery {
		t.Fatalf("Decide = %+v, %v; want celery as the flags say", dec, err)
	}
	a, err := f.d.ExecuteAs(context.Background(), request("legacy", "k2"), toHatchet)
	if err != nil || a.Backend != featureflag.BackendHatchet {
		t.Fatalf("ExecuteAs on hatchet = %+v, %v", a, err)
	}
	f.hatchet.submit = unavailable
	if _, err := f.d.ExecuteAs(context.Background(), request("legacy", "k3"), toHatchet); !errors.Is(err, ErrUnavailable) {
		t.Errorf("ExecuteAs with hatchet down = %v, want ErrUnavailable", err)
	}
	if n := f.celery.submits.Load(); n != 0 {
		t.Errorf("%d celery submissions: ExecuteAs fell back", n)
	}
	if fb, ok := f.d.Fallback(toHatchet); !ok || fb.Backend != featureflag.BackendCelery {
		t.Errorf("Fallback = %+v, %v; want celery, allowed", fb, ok)
	}
	if _, err := f.d.Decide(request("nope", "")); !errors.Is(err, ErrUnknownWorkflow) {
		t.Errorf("Decide of an unknown workflow = %v", err)
	}
}

// TestStatusFinishedAtFirstRead checks that the read that first sees an
// execution end, from a backend that gives no end time (rpc:// replies),
// already shows when it ended.
func TestStatusFinishedAtFirstRead(t *testing.T) {
	f := newFixture(toCelery, false)
	a, err := f.d.Execute(context.Background(), request("legacy", ""))
	if err != nil {
		t.Fatal(err)
	}
	f.celery.state = StateSucceeded
	st, err := f.d.Status(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateSucceeded || st.FinishedAt == nil {
		t.Errorf("first read of the end: status %s, finished_at %v; want succeeded with a time", st.State, st.FinishedAt)
	}
}

// TestStatusNamesItsKey checks that a status names the idempotency key its
// execution was requested with, as the list does.
func TestStatusNamesItsKey(t *testing.T) {
	f := newFixture(toCelery, false)
	a, err := f.d.Execute(context.Background(), request("legacy", "upload-4711"))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := f.d.Status(context.Background(), a.ID); err != nil || st.IdempotencyKey != "upload-4711" {
		t.Errorf("status key %q (%v), want upload-4711", st.IdempotencyKey, err)
	}
}
