//go:build integration

package console

import (
	"context"
	"testing"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/store"
)

// postgresSessions returns a store on a database of the test's own.
func postgresSessions(t *testing.T) *store.Postgres {
	t.Helper()
	s, err := store.Open(context.Background(), testenv.TestDatabase(t, testenv.CheckoutName("hw_test_console_sessions")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestSessionsSharedPostgres is TestSessionsShared with the sessions in
// Postgres, as replicas sharing one store keep them.
func TestSessionsSharedPostgres(t *testing.T) { testSessionsShared(t, postgresSessions(t)) }

// TestLoginLimitPostgres is TestLoginLimit with the refusals in Postgres.
func TestLoginLimitPostgres(t *testing.T) { testLoginLimit(t, postgresSessions(t)) }
