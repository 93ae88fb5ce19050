// Package testenv gives integration tests the addresses of the real services
// they talk to (PostgreSQL, RabbitMQ, …) and fails a test clearly when one is
// not reachable. The services are installed and started by scripts/setup.sh.
package testenv

import (
	"net"
	"net/url"
	"os"
	"testing"
	"time"
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
	conn, err := net.DialTimeout("tcp", u.Host, 3*time.Second)
	if err != nil {
		t.Fatalf("testenv: %s not reachable at %s (run scripts/setup.sh): %v", env, u.Host, err)
	}
	_ = conn.Close()
	return raw
}
