package testenv

import (
	"net"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Default addresses of the services connector tests talk to.
const (
	DefaultMariaDBDSN = "root@tcp(127.0.0.1:3306)/"
	DefaultRedisAddr  = "127.0.0.1:6379"
)

// MariaDBDSN returns the admin DSN (go-sql-driver/mysql form) of the test
// MariaDB server (TEST_MARIADB_DSN, default DefaultMariaDBDSN) after checking
// it answers.
func MariaDBDSN(t testing.TB) string {
	t.Helper()
	dsn := getenv("TEST_MARIADB_DSN", DefaultMariaDBDSN)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("testenv: TEST_MARIADB_DSN: %v", err)
	}
	dialable(t, "TEST_MARIADB_DSN", cfg.Addr)
	return dsn
}

// RedisAddr returns the host:port of the test Redis server (TEST_REDIS_ADDR,
// default DefaultRedisAddr) after checking it answers.
func RedisAddr(t testing.TB) string {
	t.Helper()
	addr := getenv("TEST_REDIS_ADDR", DefaultRedisAddr)
	dialable(t, "TEST_REDIS_ADDR", addr)
	return addr
}

// getenv returns the environment variable env, or def when it is empty.
func getenv(env, def string) string {
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
}

// dialable fails t when nothing listens at addr; with -short it skips t:
// short runs need no services.
func dialable(t testing.TB, env, addr string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("integration test (needs %s); skipped with -short", env)
	}
	conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatalf("testenv: %s not reachable at %s (run scripts/setup.sh): %v", env, addr, err)
	}
	_ = conn.Close()
}
