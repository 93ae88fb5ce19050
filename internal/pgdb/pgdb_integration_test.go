//go:build integration

package pgdb_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unstract/hatchet-worker/internal/pgdb"
	"github.com/unstract/hatchet-worker/internal/testenv"
)

func TestEnsureCreatesOnceAndKeeps(t *testing.T) {
	admin := testenv.PostgresURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(ctx) }) // after the drop below: cleanups run last-in first-out
	const name = "hw_test_pgdb_ensure"
	drop := func() error {
		_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		return err
	}
	if err := drop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})

	u, _ := url.Parse(admin)
	u.Path = "/" + name
	for i := range 2 { // second call finds it and changes nothing
		if err := pgdb.Ensure(ctx, u.String()); err != nil {
			t.Fatalf("Ensure #%d: %v", i+1, err)
		}
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil || n != 1 {
		t.Fatalf("databases named %s: %d (%v)", name, n, err)
	}
	u.Host = "127.0.0.1:1"
	if err := pgdb.Ensure(ctx, u.String()); err == nil {
		t.Error("want an error for an unreachable server")
	}
}

// TestEnsureConcurrently checks that replicas starting at once all find
// the database one of them created.
func TestEnsureConcurrently(t *testing.T) {
	admin := testenv.PostgresURL(t)
	const name = "hw_test_pgdb_concurrent"
	if err := testenv.DropDatabase(context.Background(), admin, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := testenv.DropDatabase(context.Background(), admin, name); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	errs := make(chan error, 8)
	for range cap(errs) {
		go func() { errs <- pgdb.Ensure(context.Background(), u.String()) }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("Ensure at once: %v", err)
		}
	}
}

// TestCreateSchemaConcurrently checks that replicas starting at once all
// create one schema without error.
func TestCreateSchemaConcurrently(t *testing.T) {
	db := testenv.TestDatabase(t, testenv.CheckoutName("hw_test_pgdb_schema"))
	pool, err := pgxpool.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	const ddl = `CREATE SCHEMA IF NOT EXISTS racing; CREATE TABLE IF NOT EXISTS racing.things (id int PRIMARY KEY)`
	errs := make(chan error, 8)
	for range cap(errs) {
		go func() { errs <- pgdb.CreateSchema(context.Background(), pool, ddl) }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("CreateSchema at once: %v", err)
		}
	}
}
