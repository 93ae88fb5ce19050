//go:build integration

package shim_test

import (
	"context"
	"testing"

	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/shim/store"
)

// TestStoreContractPostgres runs the store contract suite against the
// Postgres store.
func TestStoreContractPostgres(t *testing.T) {
	runContract(t, func(t *testing.T) contractStore {
		pg, err := store.Open(context.Background(), hatchettest.DatabaseURL(t, "hw_test_shim_contract"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pg.Close)
		return pg
	})
}
