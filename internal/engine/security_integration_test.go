//go:build integration && !hatchet_external

package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hatchet-dev/hatchet/cmd/hatchet-admin/cli/seed"
	"github.com/hatchet-dev/hatchet/cmd/hatchet-migrate/migrate"
	"github.com/hatchet-dev/hatchet/pkg/config/loader"

	"github.com/unstract/hatchet-worker/internal/engine"
	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
)

// Hatchet's published seed credentials.
const (
	publishedEmail    = "admin@example.com"
	publishedPassword = "Admin123!!"
)

// The test binary runs itself as a child process to start a second engine
// (Hatchet allows one per process): childEnv selects the child's job.
const (
	childEnv   = "HW_ENGINE_TEST_CHILD" // "seed-old" or "run"
	childDBEnv = "HW_ENGINE_TEST_DB"
	apiMarker  = "api-url="
	repairLine = "removed the user an older version seeded"
)

func TestMain(m *testing.M) {
	if job := os.Getenv(childEnv); job != "" {
		if err := runChild(job, os.Getenv(childDBEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(hatchettest.Main(m))
}

// TestPublishedAdminCannotLogIn logs in with Hatchet's published seed
// credentials and is refused: on a fresh database, and on one seeded the way
// older versions did (Hatchet's own seed with its defaults), which the engine
// repairs at start, saying so once.
func TestPublishedAdminCannotLogIn(t *testing.T) {
	t.Run("fresh database", func(t *testing.T) {
		conn := hatchettest.Engine(t)
		assertLoginRefused(t, conn.Embedded.APIURL)
	})
	t.Run("seeded the old way", func(t *testing.T) {
		dbURL := hatchettest.DatabaseURL(t, testenv.CheckoutName("hw_test_engine_oldseed"))
		runChildToEnd(t, "seed-old", dbURL)
		if n := publishedUsers(t, dbURL); n != 1 {
			t.Fatalf("after Hatchet's seed: %d users %s, want 1 (the old seed did not run)", n, publishedEmail)
		}
		for i, wantRepairs := range []int{1, 0} {
			logs := withChildEngine(t, dbURL, func(apiURL string) { assertLoginRefused(t, apiURL) })
			t.Logf("start %d, engine log:\n%s", i+1, logs)
			if got := strings.Count(logs, repairLine); got != wantRepairs {
				t.Errorf("start %d: the repair is logged %d times, want %d", i+1, got, wantRepairs)
			}
		}
		if n := publishedUsers(t, dbURL); n != 0 {
			t.Errorf("after the repair: %d users %s, want 0", n, publishedEmail)
		}
	})
}

// TestNobodySignsUp registers a new user on the embedded engine and is
// refused: no one gets a session there, the token is the way in.
func TestNobodySignsUp(t *testing.T) {
	conn := hatchettest.Engine(t)
	body := `{"email": "someone@example.org", "password": "Some-Passw0rd", "name": "Someone"}`
	assertRefused(t, conn.Embedded.APIURL+"/api/v1/users/register", body)
}

func assertLoginRefused(t *testing.T, apiURL string) {
	t.Helper()
	body := fmt.Sprintf(`{"email": %q, "password": %q}`, publishedEmail, publishedPassword)
	assertRefused(t, apiURL+"/api/v1/users/login", body)
}

// assertRefused posts body to u and wants a refusal: a 4xx status and no
// session cookie.
func assertRefused(t *testing.T, u, body string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	t.Logf("POST %s %s: %s %s", u, body, resp.Status, b)
	if resp.StatusCode < 400 || resp.StatusCode >= 500 || len(resp.Cookies()) > 0 {
		t.Errorf("POST %s: %s (cookies %v), want refused (4xx, no session)", u, resp.Status, resp.Cookies())
	}
}

func publishedUsers(t *testing.T, dbURL string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM "User" WHERE email = $1`, publishedEmail).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// child starts this test binary as a child doing job on dbURL, its stderr
// collected in logs.
func child(t *testing.T, job, dbURL string, logs *bytes.Buffer) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+job, childDBEnv+"="+dbURL)
	cmd.Stderr = logs
	return cmd
}

func runChildToEnd(t *testing.T, job, dbURL string) {
	t.Helper()
	var logs bytes.Buffer
	if out, err := child(t, job, dbURL, &logs).Output(); err != nil {
		t.Fatalf("child %s: %v\n%s%s", job, err, out, logs.String())
	}
}

// withChildEngine starts an embedded engine on dbURL in a child process,
// calls use with its API URL, stops it and returns its log.
func withChildEngine(t *testing.T, dbURL string, use func(apiURL string)) string {
	t.Helper()
	var logs bytes.Buffer
	cmd := child(t, "run", dbURL, &logs)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	apiURL := readAPIURL(stdout)
	if apiURL != "" {
		use(apiURL)
	}
	stdin.Close()
	go io.Copy(io.Discard, stdout) //nolint:errcheck // drained until the child exits
	if err := cmd.Wait(); err != nil || apiURL == "" {
		t.Fatalf("child engine: %v (api %q)\n%s", err, apiURL, logs.String())
	}
	return logs.String()
}

func readAPIURL(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), apiMarker); ok {
			return u
		}
	}
	return ""
}

func runChild(job, dbURL string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	switch job {
	case "seed-old":
		return seedTheOldWay(ctx, dbURL)
	case "run":
		return runEngineUntilStdinCloses(ctx, dbURL)
	}
	return fmt.Errorf("unknown job %q", job)
}

// seedTheOldWay migrates dbURL and runs Hatchet's seed with its published
// defaults, as versions of this service before issue 15 did.
func seedTheOldWay(ctx context.Context, dbURL string) error {
	if err := migrate.RunMigrations(ctx, migrate.WithDatabaseURL(dbURL)); err != nil {
		return err
	}
	if err := os.Setenv("DATABASE_URL", dbURL); err != nil {
		return err
	}
	dl, err := loader.NewConfigLoader("").InitDataLayer()
	if err != nil {
		return err
	}
	defer dl.Disconnect() //nolint:errcheck // the child exits next
	return seed.SeedDatabase(dl)
}

func runEngineUntilStdinCloses(ctx context.Context, dbURL string) error {
	dir, err := os.MkdirTemp("", "enginetest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg, err := hatchettest.EngineConfig(dbURL, dir)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e, err := engine.StartEmbedded(ctx, cfg.Embedded, log)
	if err != nil {
		return err
	}
	fmt.Println(apiMarker + e.APIURL)
	io.Copy(io.Discard, os.Stdin) //nolint:errcheck // any end of stdin means stop
	if err := e.Stop(ctx); err != nil {
		log.Warn("stop", "err", err) // shutdown noise is not what this test is about
	}
	return nil
}
