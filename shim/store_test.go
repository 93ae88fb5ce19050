package shim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/shim"
)

// TestStorePrune ages one record past retention: Prune deletes it and only
// it, its id is then unknown and its idempotency key starts afresh.
func TestStorePrune(t *testing.T) {
	ctx := context.Background()
	dbURL := hatchettest.DatabaseURL(t, "hw_test_shim_store")
	store, err := shim.OpenStore(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	claim := func(key string) shim.Execution {
		t.Helper()
		e, fresh, err := store.Claim(ctx, shim.Execution{ID: uuid.NewString(), Workflow: "w", OrganizationID: "o",
			IdempotencyKey: key, Backend: shim.BackendCelery, Reason: "global"})
		if err != nil || !fresh {
			t.Fatalf("claim %s: fresh=%v err=%v", key, fresh, err)
		}
		return e
	}
	old, recent := claim("old-key"), claim("recent-key")
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE hatchet_worker.executions SET created_at = now() - interval '40 days' WHERE id = $1`, old.ID); err != nil {
		t.Fatal(err)
	}

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

// TestStoreMarkUnknown checks that an execution is recorded unknown once:
// only the first call reports it, so the metric counts it once.
func TestStoreMarkUnknown(t *testing.T) {
	ctx := context.Background()
	store, err := shim.OpenStore(ctx, hatchettest.DatabaseURL(t, "hw_test_shim_unknown"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	e, _, err := store.Claim(ctx, shim.Execution{ID: uuid.NewString(), Workflow: "w", OrganizationID: "o",
		Backend: shim.BackendHatchet, Reason: "hatchet-only"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		if first, err := store.MarkUnknown(ctx, e.ID); err != nil || first != want {
			t.Errorf("MarkUnknown #%d = %t, %v; want %t", i+1, first, err, want)
		}
	}
}
