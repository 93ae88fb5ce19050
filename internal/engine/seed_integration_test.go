//go:build integration && !hatchet_external

package engine

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hatchet-dev/hatchet/cmd/hatchet-migrate/migrate"
	v1 "github.com/hatchet-dev/hatchet/pkg/repository"

	"github.com/unstract/hatchet-worker/internal/testenv"
)

// TestRemovePublishedAdmin checks the repair of a database seeded by an
// older version: only a user still holding Hatchet's published credentials
// is removed, and only its removal is logged.
func TestRemovePublishedAdmin(t *testing.T) {
	db := migratedPool(t)
	tests := []struct {
		name     string
		email    string
		password string // "" seeds no user
		removed  bool
	}{
		{"published credentials", publishedAdminEmail, publishedAdminPassword, true},
		{"password changed by the operator", publishedAdminEmail, "Chosen-Passw0rd", false},
		{"another user with the published password", "ops@example.org", publishedAdminPassword, false},
		{"no user", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.Exec(t.Context(), `DELETE FROM "User"`); err != nil {
				t.Fatal(err)
			}
			if tt.password != "" {
				insertUser(t, db, tt.email, tt.password)
			}
			var logs bytes.Buffer
			if err := removePublishedAdmin(t.Context(), db, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
				t.Fatal(err)
			}
			var left int
			if err := db.QueryRow(t.Context(), `SELECT count(*) FROM "User"`).Scan(&left); err != nil {
				t.Fatal(err)
			}
			seeded := 0
			if tt.password != "" {
				seeded = 1
			}
			if removed := left < seeded; removed != tt.removed {
				t.Errorf("removed = %v, want %v", removed, tt.removed)
			}
			if logged := strings.Contains(logs.String(), "removed the user"); logged != tt.removed {
				t.Errorf("logged = %v, want %v; log: %s", logged, tt.removed, logs.String())
			}
		})
	}
}

func migratedPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL; skipped with -short")
	}
	dbURL := testenv.TestDatabase(t, testenv.CheckoutName("hw_test_engine_repair"))
	if err := migrate.RunMigrations(t.Context(), migrate.WithDatabaseURL(dbURL)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	db, err := pgxpool.New(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func insertUser(t *testing.T, db *pgxpool.Pool, email, password string) {
	t.Helper()
	hash, err := v1.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithoutCancel(t.Context())
	_, err = db.Exec(ctx, `WITH u AS (INSERT INTO "User" (id, email) VALUES (gen_random_uuid(), $1) RETURNING id)
		INSERT INTO "UserPassword" (hash, "userId") SELECT $2, id FROM u`, email, *hash)
	if err != nil {
		t.Fatal(err)
	}
}
