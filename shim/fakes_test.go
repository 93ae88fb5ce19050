package shim

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim/route"
)

// memStore is an in-memory Store with the same claim semantics as store.Postgres
// (TestStoreContract runs one suite against both).
type memStore struct {
	// outage is how many of the next writes settling a claim or recording
	// an execution fail as in a database restart.
	outage atomic.Int64
	// recordCalls counts the Record calls so far.
	recordCalls atomic.Int64
	mu          sync.Mutex
	recs        map[string]*memRecord // by id
	leases      []time.Duration       // every lease asked for
	reads       int                   // Unfinished calls so far
}

// memRecord is one execution and its claim.
type memRecord struct {
	e          Execution
	token      string
	leaseUntil time.Time
	unknown    bool
	checked    int // the Unfinished call that last read it
}

func newMemStore() *memStore { return &memStore{recs: map[string]*memRecord{}} }

func (m *memStore) Claim(_ context.Context, e Execution, lease time.Duration) (Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.leases = append(m.leases, lease)
	token := uuid.NewString()
	if r := m.byKey(e); r != nil {
		switch {
		case r.e.BackendRef != "":
			return Claim{Execution: r.e, State: ClaimDone}, nil
		case time.Now().Before(r.leaseUntil):
			return Claim{Execution: r.e, State: ClaimHeld}, nil
		}
		r.token, r.leaseUntil = token, time.Now().Add(lease)
		return Claim{Execution: r.e, State: ClaimTakenOver, Token: token}, nil
	}
	e.CreatedAt = time.Now()
	e.State = StateQueued
	m.recs[e.ID] = &memRecord{e: e, token: token, leaseUntil: time.Now().Add(lease)}
	return Claim{Execution: e, State: ClaimNew, Token: token}, nil
}

func (m *memStore) Record(_ context.Context, e Execution) (Execution, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.recordCalls.Add(1)
	if err := m.restarting(); err != nil {
		return Execution{}, err
	}
	if r, ok := m.recs[e.ID]; ok {
		r.e.BackendRef = e.BackendRef
		return r.e, nil
	}
	e.CreatedAt = time.Now()
	e.State = StateQueued
	m.recs[e.ID] = &memRecord{e: e}
	return e, nil
}

func (m *memStore) FillRef(_ context.Context, id, ref string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.restarting(); err != nil {
		return false, err
	}
	r, ok := m.recs[id]
	if !ok || r.e.BackendRef != "" || (r.token != "" && time.Now().Before(r.leaseUntil)) {
		return false, nil
	}
	r.e.BackendRef, r.token = ref, ""
	return true, nil
}

func (m *memStore) Forget(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.recs[id]; ok && r.e.BackendRef == "" && r.token == "" {
		delete(m.recs, id)
	}
	return nil
}

// byKey finds the record with e's idempotency key; m.mu must be held.
func (m *memStore) byKey(e Execution) *memRecord {
	if e.IdempotencyKey == "" {
		return nil
	}
	for _, r := range m.recs {
		if r.e.Workflow == e.Workflow && r.e.OrganizationID == e.OrganizationID && r.e.IdempotencyKey == e.IdempotencyKey {
			return r
		}
	}
	return nil
}

// restarting uses up one write of the outage, if any is left, and returns
// the error the store gives while its database restarts.
func (m *memStore) restarting() error {
	if m.outage.Add(-1) >= 0 {
		return fmt.Errorf("%w: connection refused", ErrStoreUnavailable)
	}
	return nil
}

// held returns c's record when c holds its claim; m.mu must be held.
func (m *memStore) held(c Claim) (*memRecord, error) {
	if err := m.restarting(); err != nil {
		return nil, err
	}
	r, ok := m.recs[c.ID]
	if !ok || r.token != c.Token || r.e.BackendRef != "" {
		return nil, ErrClaimLost
	}
	return r, nil
}

func (m *memStore) SetRef(_ context.Context, c Claim, ref string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.held(c)
	if err == nil {
		r.e.BackendRef, r.token = ref, ""
	}
	return err
}

func (m *memStore) Reroute(_ context.Context, c Claim, b featureflag.Backend, reason featureflag.Reason) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.held(c)
	if err == nil {
		r.e.Backend, r.e.Reason = b, reason
	}
	return err
}

func (m *memStore) Release(_ context.Context, c Claim) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err := m.held(c)
	if err == nil {
		delete(m.recs, c.ID)
	}
	return err
}

func (m *memStore) Get(_ context.Context, id string) (Execution, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[id]
	if !ok {
		return Execution{}, ErrNotFound
	}
	return r.e, nil
}

func (m *memStore) MarkUnknown(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[id]
	if !ok {
		return false, ErrNotFound
	}
	first := !r.unknown
	r.unknown = true
	return first, nil
}

func (m *memStore) Finish(_ context.Context, e Execution, o Outcome) (Execution, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[e.ID]
	if !ok || r.e.Backend != e.Backend || r.e.Finished() {
		return Execution{}, false, nil
	}
	if o.FinishedAt == nil {
		now := time.Now()
		o.FinishedAt = &now
	}
	o.DurationSeconds = o.FinishedAt.Sub(r.e.CreatedAt).Seconds()
	r.e.Outcome = o
	return r.e, true, nil
}

func (m *memStore) RequestCancel(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.recs[id]; ok && !r.e.Finished() {
		now := time.Now()
		r.e.CancelRequestedAt = &now
	}
	return nil
}

func (m *memStore) Progress(_ context.Context, id string, o Outcome) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.recs[id]; ok && !r.e.Finished() {
		r.e.State, r.e.BackendState, r.e.StartedAt = o.State, o.BackendState, o.StartedAt
	}
	return nil
}

func (m *memStore) Unfinished(_ context.Context, b featureflag.Backend, limit int) ([]Execution, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var rs []*memRecord
	for _, r := range m.recs {
		if r.e.Backend == b && r.e.BackendRef != "" && !r.e.Finished() {
			rs = append(rs, r)
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].checked < rs[j].checked })
	m.reads++
	var out []Execution
	for _, r := range rs[:min(limit, len(rs))] {
		r.checked = m.reads
		out = append(out, r.e)
	}
	return out, nil
}

func (m *memStore) InFlight(context.Context) (map[featureflag.Backend]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[featureflag.Backend]int{}
	for _, r := range m.recs {
		if r.e.BackendRef != "" && !r.e.Finished() {
			out[r.e.Backend]++
		}
	}
	return out, nil
}

func (m *memStore) Ping(context.Context) error { return nil }

// count returns how many records the store holds.
func (m *memStore) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.recs)
}

// fakeBackend is a Backend whose Submit runs submit (nil accepts at once)
// and whose Status reports state.
type fakeBackend struct {
	submit    func(ctx context.Context) error
	state     string
	found     string // the ref Status finds for an execution recorded without one
	statusErr error
	cancelErr error
	submits   atomic.Int64
	cancels   atomic.Int64
}

func (b *fakeBackend) Submit(ctx context.Context, e Execution, _ route.Route, _ json.RawMessage) (string, error) {
	b.submits.Add(1)
	if b.submit != nil {
		if err := b.submit(ctx); err != nil {
			return "", err
		}
	}
	return "ref-" + e.ID, nil
}

func (b *fakeBackend) Status(_ context.Context, e Execution) (Status, error) {
	if b.statusErr != nil {
		return Status{}, b.statusErr
	}
	st := e.Status() // as the real backends build theirs
	st.State = b.state
	if st.BackendRef == "" {
		st.BackendRef = b.found
	}
	return st, nil
}

func (b *fakeBackend) FindRef(context.Context, Execution) (string, error) { return b.found, nil }

func (b *fakeBackend) Cancel(context.Context, Execution) error {
	b.cancels.Add(1)
	return b.cancelErr
}

func (b *fakeBackend) Ready(context.Context) error { return nil }

// fixedFlags is a featureflag.Decider that always decides d.
type fixedFlags featureflag.Decision

// Decide returns the fixed decision for r's workflow.
func (f fixedFlags) Decide(r featureflag.Request) featureflag.Decision {
	d := featureflag.Decision(f)
	d.Workflow = r.Workflow
	return d
}

// testRoutes are a route with a legacy task ("legacy") and one without
// ("modern").
func testRoutes() route.Catalog {
	return route.Catalog{
		"legacy": {Name: "legacy", Hatchet: "legacy-wf", Legacy: &route.LegacyTask{Task: "t", Queue: "q",
			Args: func(route.Call, json.RawMessage) ([]any, map[string]any, error) { return nil, nil, nil }}},
		"modern": {Name: "modern", Hatchet: "modern-wf"},
	}
}

// unavailable makes a Submit fail as a backend that is down.
func unavailable(context.Context) error { return Fail(ErrUnavailable, nil, "down") }

// hang makes a Submit wait for its context, as a backend that never answers.
func hang(ctx context.Context) error {
	<-ctx.Done()
	return Fail(ErrUnavailable, ctx.Err(), "no answer")
}
