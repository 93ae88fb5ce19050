package shim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
)

// contractStore is what the contract suite needs of a store.
type contractStore interface {
	shim.Store
	Unfinished(ctx context.Context, b featureflag.Backend, limit int) ([]shim.Execution, error)
}

// TestStoreContract runs the store contract suite against the in-memory
// fake the dispatcher's tests use; TestStoreContractPostgres runs it against
// the Postgres store, so the fake cannot drift from the store it stands for.
func TestStoreContract(t *testing.T) {
	runContract(t, func(*testing.T) contractStore { return shim.NewMemStore() })
}

// runContract runs every case of the contract on a store open makes anew.
func runContract(t *testing.T, open func(t *testing.T) contractStore) {
	cases := []struct {
		name string
		run  func(t *testing.T, s contractStore)
	}{
		{"claim, hold, record, replay", contractClaim},
		{"a lapsed lease is taken over once", contractTakeover},
		{"a released claim frees its key", contractRelease},
		{"an outcome is recorded once", contractFinish},
		{"unknown is noted once", contractUnknown},
		{"an unknown id is ErrNotFound", contractNotFound},
		{"unfinished lists what has not ended", contractUnfinished},
		{"a cancel request is kept until the end", contractCancelRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, open(t)) })
	}
}

// newExecution is a keyed Celery execution of workflow w.
func newExecution(key string) shim.Execution {
	return shim.Execution{ID: uuid.NewString(), Workflow: "w", OrganizationID: "o", IdempotencyKey: key,
		Backend: featureflag.BackendCelery, Reason: featureflag.ReasonGlobal}
}

func mustClaim(t *testing.T, s shim.Store, e shim.Execution, lease time.Duration, want shim.ClaimState) shim.Claim {
	t.Helper()
	c, err := s.Claim(context.Background(), e, lease)
	if err != nil || c.State != want {
		t.Fatalf("Claim(%s) = state %v, %v; want state %v", e.IdempotencyKey, c.State, err, want)
	}
	return c
}

func contractClaim(t *testing.T, s contractStore) {
	ctx := context.Background()
	first := mustClaim(t, s, newExecution("k"), time.Minute, shim.ClaimNew)
	if first.Token == "" {
		t.Errorf("new claim = %+v, want a token", first)
	}
	if got, err := s.Get(ctx, first.ID); err != nil || got.State != shim.StateQueued || got.BackendRef != "" {
		t.Errorf("Get(claimed) = %+v, %v; want a queued record without a ref", got, err)
	}
	held := mustClaim(t, s, newExecution("k"), time.Minute, shim.ClaimHeld)
	if held.ID != first.ID {
		t.Errorf("held claim names %s, want the first record %s", held.ID, first.ID)
	}
	if err := s.SetRef(ctx, first, "run-1"); err != nil {
		t.Fatalf("SetRef by the holder: %v", err)
	}
	done := mustClaim(t, s, newExecution("k"), time.Minute, shim.ClaimDone)
	if done.ID != first.ID || done.BackendRef != "run-1" {
		t.Errorf("replayed claim = %s ref %q, want %s ref run-1", done.ID, done.BackendRef, first.ID)
	}
	if err := s.SetRef(ctx, first, "run-2"); !errors.Is(err, shim.ErrClaimLost) {
		t.Errorf("second SetRef = %v, want ErrClaimLost", err)
	}
	other := newExecution("k")
	other.OrganizationID = "another-org"
	mustClaim(t, s, other, time.Minute, shim.ClaimNew) // keys are per workflow and organisation
}

func contractTakeover(t *testing.T, s contractStore) {
	ctx := context.Background()
	first := mustClaim(t, s, newExecution("k"), 50*time.Millisecond, shim.ClaimNew)
	time.Sleep(150 * time.Millisecond)
	second := mustClaim(t, s, newExecution("k"), time.Minute, shim.ClaimTakenOver)
	if second.ID != first.ID || second.Token == first.Token {
		t.Fatalf("takeover = id %s token %s, want id %s with a new token", second.ID, second.Token, first.ID)
	}
	mustClaim(t, s, newExecution("k"), time.Minute, shim.ClaimHeld)
	if err := s.SetRef(ctx, first, "from-the-dead"); !errors.Is(err, shim.ErrClaimLost) {
		t.Errorf("SetRef by the old holder = %v, want ErrClaimLost", err)
	}
	if err := s.SetRef(ctx, second, "run-1"); err != nil {
		t.Errorf("SetRef by the new holder: %v", err)
	}
}

func contractRelease(t *testing.T, s contractStore) {
	ctx := context.Background()
	c := mustClaim(t, s, newExecution("k"), time.Minute, shim.ClaimNew)
	if err := s.Release(ctx, c); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if _, err := s.Get(ctx, c.ID); !errors.Is(err, shim.ErrNotFound) {
		t.Errorf("Get(released) = %v, want ErrNotFound", err)
	}
	mustClaim(t, s, newExecution("k"), time.Minute, shim.ClaimNew)
}

func contractFinish(t *testing.T, s contractStore) {
	ctx := context.Background()
	c := mustClaim(t, s, newExecution("k"), time.Minute, shim.ClaimNew)
	if err := s.SetRef(ctx, c, "run-1"); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	rec, first, err := s.Finish(ctx, c.Execution, shim.Outcome{State: shim.StateSucceeded, FinishedAt: &end})
	if err != nil || !first || rec.State != shim.StateSucceeded || !rec.Finished() {
		t.Fatalf("Finish = %+v, first %v, %v; want the succeeded record, first", rec, first, err)
	}
	_, again, err := s.Finish(ctx, c.Execution, shim.Outcome{State: shim.StateFailed, FinishedAt: &end})
	if err != nil || again {
		t.Errorf("second Finish = first %v, %v; want not first", again, err)
	}
	got, err := s.Get(ctx, c.ID)
	if err != nil || got.State != shim.StateSucceeded || got.BackendRef != "run-1" {
		t.Errorf("Get = %+v, %v; want succeeded with ref run-1 (an outcome never changes)", got, err)
	}
}

func contractCancelRequest(t *testing.T, s contractStore) {
	ctx := context.Background()
	c := mustClaim(t, s, newExecution("k"), time.Minute, shim.ClaimNew)
	if err := s.SetRef(ctx, c, "run-1"); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	if err := s.RequestCancel(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	es, err := s.Unfinished(ctx, featureflag.BackendCelery, 10)
	if err != nil || len(es) != 1 || es[0].CancelRequestedAt == nil || es[0].CancelRequestedAt.Before(before) {
		t.Fatalf("Unfinished after RequestCancel = %+v, %v; want the execution with its cancel time", es, err)
	}
	end := time.Now()
	if _, _, err := s.Finish(ctx, c.Execution, shim.Outcome{State: shim.StateCancelled, FinishedAt: &end}); err != nil {
		t.Fatal(err)
	}
	asked := *es[0].CancelRequestedAt
	if err := s.RequestCancel(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, c.ID); err != nil || got.CancelRequestedAt == nil || !got.CancelRequestedAt.Equal(asked) {
		t.Errorf("Get after a cancel request on an ended execution = %+v, %v; want the first request kept", got.CancelRequestedAt, err)
	}
}

func contractUnknown(t *testing.T, s contractStore) {
	ctx := context.Background()
	c := mustClaim(t, s, newExecution("k"), time.Minute, shim.ClaimNew)
	for i, want := range []bool{true, false} {
		if first, err := s.MarkUnknown(ctx, c.ID); err != nil || first != want {
			t.Errorf("MarkUnknown #%d = %v, %v; want %v", i+1, first, err, want)
		}
	}
}

func contractNotFound(t *testing.T, s contractStore) {
	if _, err := s.Get(context.Background(), uuid.NewString()); !errors.Is(err, shim.ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}
}

func contractUnfinished(t *testing.T, s contractStore) {
	ctx := context.Background()
	open := mustClaim(t, s, newExecution("open"), time.Minute, shim.ClaimNew)
	ended := mustClaim(t, s, newExecution("ended"), time.Minute, shim.ClaimNew)
	for _, c := range []shim.Claim{open, ended} {
		if err := s.SetRef(ctx, c, "ref-"+c.ID); err != nil {
			t.Fatal(err)
		}
	}
	end := time.Now()
	if _, _, err := s.Finish(ctx, ended.Execution, shim.Outcome{State: shim.StateFailed, FinishedAt: &end}); err != nil {
		t.Fatal(err)
	}
	es, err := s.Unfinished(ctx, featureflag.BackendCelery, 10)
	if err != nil || len(es) != 1 || es[0].ID != open.ID {
		t.Errorf("Unfinished = %+v, %v; want only %s", es, err, open.ID)
	}
	if es, err := s.Unfinished(ctx, featureflag.BackendHatchet, 10); err != nil || len(es) != 0 {
		t.Errorf("Unfinished(hatchet) = %+v, %v; want none", es, err)
	}
}
