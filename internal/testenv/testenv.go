// Package testenv gives integration tests the addresses of the real services
// they talk to (PostgreSQL, RabbitMQ, …) and fails a test clearly when one is
// not reachable; with -short it skips them. The services are installed and started by scripts/setup.sh.
package testenv

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Default service addresses used when the environment does not name others.
const (
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	DefaultAMQPURL     = "amqp://guest:guest@127.0.0.1:5672/"
)

// PostgresURL returns the admin connection URL of the test PostgreSQL server
// (TEST_POSTGRES_URL, default DefaultPostgresURL) after checking it answers.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return reachable(t, "TEST_POSTGRES_URL", DefaultPostgresURL)
}

// AMQPURL returns the URL of the test RabbitMQ broker (TEST_AMQP_URL, default
// DefaultAMQPURL) after checking it answers.
func AMQPURL(t testing.TB) string {
	t.Helper()
	return reachable(t, "TEST_AMQP_URL", DefaultAMQPURL)
}

// reachable returns the URL in env (or def) once its host answers.
func reachable(t testing.TB, env, def string) string {
	t.Helper()
	raw := os.Getenv(env)
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("testenv: %s=%q: %v", env, raw, err)
	}
	dialable(t, env, u.Host)
	return raw
}

// CheckoutName returns name suffixed with a hash of the working directory, so
// two checkouts of the project testing at once on one server never drop each
// other's database.
func CheckoutName(name string) string {
	dir, _ := os.Getwd()
	h := fnv.New32a()
	h.Write([]byte(dir)) //nolint:errcheck // hash.Hash never fails
	return fmt.Sprintf("%s_%08x", name, h.Sum32())
}

// TestDatabase creates a fresh database called name (see FreshDatabase) on
// the test server for t, drops it in t.Cleanup and returns its URL.
func TestDatabase(t testing.TB, name string) string {
	t.Helper()
	admin := PostgresURL(t)
	u, err := FreshDatabase(t.Context(), admin, name)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := DropDatabase(context.Background(), admin, name); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return u
}

// DropDatabase drops the database called name on the server at adminURL,
// closing its connections.
func DropDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// FreshDatabase drops the database called name on the server at adminURL if
// it exists, creates it empty, and returns adminURL pointing at it.
func FreshDatabase(ctx context.Context, adminURL, name string) (string, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", fmt.Errorf("parse admin url: %w", err)
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", fmt.Errorf("connect %s: %w", u.Redacted(), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("drop database %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// ExecSQL runs sql on the database at dbURL, failing t on an error: tests
// use it to put a record in a state no request would.
func ExecSQL(t testing.TB, dbURL, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatal(err)
	}
}
