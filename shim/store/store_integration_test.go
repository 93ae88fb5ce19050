//go:build integration

package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/shim/store"

	"github.com/google/uuid"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/shim"
)

// TestStorePrune ages one record past retention: Prune deletes it and only
// it, its id is then unknown and its idempotency key starts afresh.
func TestStorePrune(t *testing.T) {
	ctx := context.Background()
	store, dbURL := openStore(t, "hw_test_shim_store")
	claim := func(key string) shim.Execution {
		t.Helper()
		c, err := store.Claim(ctx, shim.Execution{ID: uuid.NewString(), Workflow: "w", OrganizationID: "o",
			IdempotencyKey: key, Backend: featureflag.BackendCelery, Reason: "global"}, time.Minute)
		if err != nil || c.State != shim.ClaimNew {
			t.Fatalf("claim %s: state=%v err=%v", key, c.State, err)
		}
		return c.Execution
	}
	old, recent := claim("old-key"), claim("recent-key")
	testenv.ExecSQL(t, dbURL, `UPDATE hatchet_worker.executions SET created_at = now() - interval '40 days' WHERE id = $1`, old.ID)

	n, err := store.Prune(ctx, time.Now().Add(-30*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want 1 record deleted", n, err)
	}
	if _, err := store.Get(ctx, old.ID); !errors.Is(err, shim.ErrNotFound) {
		t.Errorf("Get(pruned) = %v, want ErrNotFound", err)
	}
	if _, err := store.Get(ctx, recent.ID); err != nil {
		t.Errorf("Get(recent) = %v, want it kept", err)
	}
	claim("old-key") // fails unless the pruned key is free again
}

// TestStoreClaimLease walks one idempotency key through its claims: a live
// lease is held, a lapsed one is taken over by one caller keeping the id,
// and only the current holder may record the ref, once.
func TestStoreClaimLease(t *testing.T) {
	ctx := context.Background()
	store, dbURL := openStore(t, "hw_test_shim_lease")
	claim := func(want shim.ClaimState) shim.Claim {
		t.Helper()
		c, err := store.Claim(ctx, shim.Execution{ID: uuid.NewString(), Workflow: "w", OrganizationID: "o",
			IdempotencyKey: "k", Backend: featureflag.BackendCelery, Reason: "global"}, time.Minute)
		if err != nil || c.State != want {
			t.Fatalf("claim: state %v err %v, want state %v", c.State, err, want)
		}
		return c
	}
	first := claim(shim.ClaimNew)
	claim(shim.ClaimHeld)
	testenv.ExecSQL(t, dbURL, `UPDATE hatchet_worker.executions SET lease_until = now() - interval '1 second'`)
	second := claim(shim.ClaimTakenOver)
	if second.ID != first.ID || second.Token == first.Token {
		t.Fatalf("takeover = id %s token %s, want id %s with a new token", second.ID, second.Token, first.ID)
	}
	claim(shim.ClaimHeld)
	if err := store.SetRef(ctx, first, "from-the-dead"); !errors.Is(err, shim.ErrClaimLost) {
		t.Errorf("SetRef by the old holder = %v, want ErrClaimLost", err)
	}
	if err := store.Release(ctx, first); !errors.Is(err, shim.ErrClaimLost) {
		t.Errorf("Release by the old holder = %v, want ErrClaimLost", err)
	}
	if err := store.SetRef(ctx, second, "run-1"); err != nil {
		t.Fatalf("SetRef by the holder: %v", err)
	}
	if err := store.SetRef(ctx, second, "run-2"); !errors.Is(err, shim.ErrClaimLost) {
		t.Errorf("second SetRef = %v, want ErrClaimLost", err)
	}
	if done := claim(shim.ClaimDone); done.BackendRef != "run-1" {
		t.Errorf("replayed ref = %q, want run-1", done.BackendRef)
	}
}

// execSQL runs one statement on the database at dbURL, as another process
// (or an operator) would.
// openStore opens a store on a fresh database called name and returns it
// with the database's URL.
func openStore(t *testing.T, name string) (*store.Postgres, string) {
	t.Helper()
	dbURL := hatchettest.DatabaseURL(t, name)
	store, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	return store, dbURL
}

// TestStoreMarkUnknown checks that an execution is recorded unknown once:
// only the first call reports it, so the metric counts it once.
func TestStoreMarkUnknown(t *testing.T) {
	ctx := context.Background()
	store, _ := openStore(t, "hw_test_shim_unknown")
	c, err := store.Claim(ctx, shim.Execution{ID: uuid.NewString(), Workflow: "w", OrganizationID: "o",
		Backend: featureflag.BackendHatchet, Reason: featureflag.ReasonHatchetOnly}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		if first, err := store.MarkUnknown(ctx, c.ID); err != nil || first != want {
			t.Errorf("MarkUnknown #%d = %t, %v; want %t", i+1, first, err, want)
		}
	}
}

// TestStoreRecord records executions without a claim: written before
// their run exists, they get its id from a second Record or from FillRef;
// FillRef leaves a record that has an id or a live claim alone, and Forget
// deletes only an unclaimed record without an id.
func TestStoreRecord(t *testing.T) {
	ctx := context.Background()
	store, _ := openStore(t, "hw_test_shim_record")
	record := func(ref string) shim.Execution {
		t.Helper()
		e := shim.Execution{ID: uuid.NewString(), Workflow: "w", OrganizationID: "o",
			Backend: featureflag.BackendHatchet, Reason: featureflag.ReasonGlobal, BackendRef: ref}
		rec, err := store.Record(ctx, e)
		if err != nil || rec.CreatedAt.IsZero() {
			t.Fatalf("Record = %+v, %v", rec, err)
		}
		return rec
	}
	refOf := func(id string) (string, bool) {
		t.Helper()
		rec, err := store.Get(ctx, id)
		if errors.Is(err, shim.ErrNotFound) {
			return "", false
		}
		if err != nil {
			t.Fatal(err)
		}
		return rec.BackendRef, true
	}

	again := record("")
	if _, err := store.Record(ctx, shim.Execution{ID: again.ID, Workflow: "w", OrganizationID: "o",
		Backend: featureflag.BackendHatchet, Reason: featureflag.ReasonGlobal, BackendRef: "run-again"}); err != nil {
		t.Fatal(err)
	}
	if ref, _ := refOf(again.ID); ref != "run-again" {
		t.Errorf("recorded again with a ref: ref %q, want run-again", ref)
	}

	filled, kept, held, stale := record(""), record("run-kept"), uuid.NewString(), uuid.NewString()
	for id, lease := range map[string]time.Duration{held: time.Minute, stale: time.Millisecond} {
		if _, err := store.Claim(ctx, shim.Execution{ID: id, Workflow: "w", OrganizationID: "o", IdempotencyKey: id,
			Backend: featureflag.BackendHatchet, Reason: featureflag.ReasonGlobal}, lease); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(10 * time.Millisecond) // the stale claim's lease ends
	fills := []struct {
		name string
		id   string
		want bool
	}{
		{"no ref yet", filled.ID, true},
		{"ref recorded", kept.ID, false},
		{"live claim", held, false},
		{"claim whose lease ended", stale, true},
	}
	for _, f := range fills {
		did, err := store.FillRef(ctx, f.id, "run-found")
		ref, _ := refOf(f.id)
		if err != nil || did != f.want || (ref == "run-found") != f.want {
			t.Errorf("%s: FillRef = %t, %v (ref now %q); want %t", f.name, did, err, ref, f.want)
		}
	}

	forgotten := record("")
	for _, id := range []string{forgotten.ID, kept.ID, held} {
		if err := store.Forget(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range map[string]bool{forgotten.ID: false, kept.ID: true, held: true} {
		if _, found := refOf(id); found != want {
			t.Errorf("after Forget, %s found = %t, want %t", id, found, want)
		}
	}
}
