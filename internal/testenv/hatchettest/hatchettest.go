// Package hatchettest starts a real Hatchet engine for integration tests: the
// service's own embedded engine, in-process, on a fresh Postgres database per
// test binary. It lives apart from testenv so tests that need no engine do
// not link one.
package hatchettest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/internal/engine"
	"github.com/unstract/hatchet-worker/internal/testenv"
)

var (
	once     sync.Once
	shared   *engine.Conn
	initErr  error
	adminURL string // the server of shared's database
	engineDB string // shared's database
)

// Engine returns a connection to an embedded engine shared by every test in
// this test binary, started on first use on a database named after the test
// binary (dropped and recreated, so each run starts clean). The engine stops
// when the process exits; with Main in TestMain, its database is dropped
// then. With -short the test is skipped.
func Engine(t testing.TB) *engine.Conn {
	t.Helper()
	skipShort(t)
	once.Do(func() {
		adminURL = testenv.PostgresURL(t)
		shared, initErr = start(adminURL)
	})
	if initErr != nil {
		t.Fatalf("hatchettest: start embedded engine: %v", initErr)
	}
	return shared
}

// EngineDatabaseURL returns the database of the engine Engine shares,
// starting it first if needed.
func EngineDatabaseURL(t testing.TB) string {
	t.Helper()
	Engine(t)
	return engineDB
}

// Main runs the test binary's tests, then stops the shared engine, if one
// started, and drops its database. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(hatchettest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if shared == nil {
		return code
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := shared.Close(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "hatchettest: stop engine: %v\n", err)
	}
	if err := testenv.DropDatabase(ctx, adminURL, databaseName()); err != nil {
		fmt.Fprintf(os.Stderr, "hatchettest: %v\n", err)
	}
	return code
}

// DatabaseURL returns a URL for a fresh database called name, suffixed per
// checkout (testenv.CheckoutName), on the test server, dropped first if it
// exists and again at the end of the test. With -short the test is skipped.
func DatabaseURL(t testing.TB, name string) string {
	t.Helper()
	skipShort(t)
	return testenv.TestDatabase(t, testenv.CheckoutName(name))
}

// skipShort keeps -short runs service-free.
func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL and the embedded Hatchet engine; skipped with -short")
	}
}

func start(admin string) (*engine.Conn, error) {
	name := databaseName()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dbURL, err := testenv.FreshDatabase(ctx, admin, name)
	if err != nil {
		return nil, err
	}
	engineDB = dbURL
	dir, err := os.MkdirTemp("", "hatchettest")
	if err != nil {
		return nil, err
	}
	cfg, err := EngineConfig(dbURL, dir)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return engine.Connect(ctx, cfg, log)
}

// databaseName names the test binary's database after the binary and its
// source directory, so two checkouts of the project testing at once on one
// server never drop each other's database.
func databaseName() string {
	return testenv.CheckoutName("hw_test_" + sanitize(filepath.Base(os.Args[0])))
}

// EngineConfig is the configuration of a test's embedded engine on dbURL:
// free ports, its token file in dir, and only errors in its own log. The
// message queue is the test environment's HATCHET_EMBEDDED_MSGQUEUE (and
// _URL, and CELERY_BROKER_URL behind it) when set, so a benchmark can
// compare them.
func EngineConfig(dbURL, dir string) (config.Config, error) {
	env := []string{
		"DATABASE_URL=" + dbURL,
		"HATCHET_EMBEDDED_GRPC_PORT=0",
		"HATCHET_EMBEDDED_API_PORT=0",
		"HATCHET_EMBEDDED_TOKEN_FILE=" + filepath.Join(dir, "token"),
		"HATCHET_EMBEDDED_LOG_LEVEL=error",
	}
	for _, k := range []string{"HATCHET_EMBEDDED_MSGQUEUE", "HATCHET_EMBEDDED_MSGQUEUE_URL", "CELERY_BROKER_URL"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return config.Load(env, config.UseEngine)
}

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

func sanitize(s string) string {
	return nonIdent.ReplaceAllString(strings.ToLower(strings.TrimSuffix(s, ".test")), "_")
}
