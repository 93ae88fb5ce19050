//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
)

// dropDatabase drops the database name on the server at admin if it exists.
func dropDatabase(t *testing.T, admin, name string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
}

// databaseExists reports whether the server at admin has the database name.
func databaseExists(t *testing.T, admin, name string) bool {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	return exists
}

// shimToken is the bearer token test services require.
const shimToken = "test-shim-token"

// service is a hatchet-worker process started by a test.
type service struct {
	cmd    *exec.Cmd
	addr   string
	tokenF string
	log    *testenv.Buffer
	done   chan error
	began  time.Time // when the process was started
}

// startService launches the service and waits until /readyz answers 200.
func startService(t *testing.T, bin string, env ...string) *service {
	t.Helper()
	s := launchService(t, bin, env...)
	s.waitReady(t)
	return s
}

// launchService starts the service process without waiting for it.
func launchService(t *testing.T, bin string, env ...string) *service {
	t.Helper()
	addr := testenv.FreeAddr(t)
	s := &service{addr: addr, log: &testenv.Buffer{}, done: make(chan error, 1)}
	s.tokenF = filepath.Join(t.TempDir(), "token")
	s.cmd = exec.Command(bin)
	s.cmd.Env = append(os.Environ(),
		"SERVICE_ADDR="+addr,
		"HATCHET_EMBEDDED_GRPC_PORT=0", // overridden by env when given
		"HATCHET_EMBEDDED_API_PORT=0",
		"HATCHET_EMBEDDED_TOKEN_FILE="+s.tokenF,
		"LOG_FORMAT=json",
		"SHIM_API_TOKEN="+shimToken,
	)
	if !hasKey(env, "PLATFORM_DATABASE_URL") {
		s.cmd.Env = append(s.cmd.Env, "PLATFORM_DATABASE_URL="+hatchettest.DatabaseURL(t, platformDB(t)))
	}
	s.cmd.Env = append(s.cmd.Env, env...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.began = time.Now()
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("service log:\n%s", s.log.String())
		}
	})
	return s
}

// platformDB names the test's own platform database, so that tests
// running in parallel never drop each other's.
func platformDB(t *testing.T) string {
	name := notIdentifier.ReplaceAllString(strings.ToLower(t.Name()), "_")
	return "hw_plat_" + name[:min(len(name), 40)]
}

// notIdentifier matches what a database name of platformDB leaves out.
var notIdentifier = regexp.MustCompile(`[^a-z0-9_]`)

// hasKey reports whether env (KEY=VALUE entries) sets key.
func hasKey(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

func (s *service) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			t.Fatalf("service exited before ready: %v\n%s", err, s.log.String())
		default:
		}
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("service not ready in time\n%s", s.log.String())
}

// stop sends SIGTERM and returns the exit code.
func (s *service) stop(t *testing.T) int {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	return s.wait(t, time.Minute)
}

func (s *service) token(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(s.tokenF)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func (s *service) get(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	resp, err := apiClient(t).Get("http://" + s.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// text returns the body of GET path.
func (s *service) text(t *testing.T, path string) string {
	t.Helper()
	resp, err := apiClient(t).Get("http://" + s.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hatchet-worker-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "hatchet-worker")
		// -buildvcs=auto as scripts/run.sh builds it: the revision is stamped
		// when the tree is a git checkout, whatever GOFLAGS says.
		out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// database returns a fresh database for one service under test.
func database(t *testing.T, name string) string {
	return hatchettest.DatabaseURL(t, name)
}
