package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/unstract/hatchet-worker/internal/engine"
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

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
)

// TestBadStartExits2 runs the real binary with bad configuration and a bad
// token: both exit 2 with a clear message, before anything starts.
func TestBadStartExits2(t *testing.T) {
	bin := buildBinary(t)
	tests := []struct {
		name    string
		env     []string
		want    []string
		notWant string
	}{
		{"config", []string{"LOG_FORMAT=xml", "HATCHET_WORKER_SLOTS=-1", "SHIM_API_TOKEN=t"},
			[]string{"LOG_FORMAT", "HATCHET_WORKER_SLOTS", "2 problems"}, ""},
		{"token", []string{"HATCHET_CLIENT_TOKEN=not-a-jwt", "SERVICE_ADDR=127.0.0.1:0", "SHIM_INSECURE_DEV=true"},
			[]string{"invalid HATCHET_CLIENT_TOKEN"}, "panic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin)
			cmd.Env = append(tt.env, "HOME="+t.TempDir())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if code := exitCode(cmd.Run()); code != exitUsage {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if tt.notWant != "" && strings.Contains(stderr.String(), tt.notWant) {
				t.Errorf("stderr has %q:\n%s", tt.notWant, stderr.String())
			}
		})
	}
}

// TestVersion checks the built binary names its revision, engine and Go
// version.
func TestVersion(t *testing.T) {
	out, err := exec.Command(buildBinary(t), "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	rev := "unknown"
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		rev = string(head[:12]) + `(\+dirty)?`
	}
	pattern := `^hatchet-worker ` + rev + ` \(hatchet engine ` + regexp.QuoteMeta(engine.Version) + `, go1\.\d+`
	if !regexp.MustCompile(pattern).Match(out) {
		t.Errorf("version = %q, want it to match %s", out, pattern)
	}
}

func TestUnknownCommandExits2(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"frobnicate"}, &out, &errb); code != exitUsage {
		t.Errorf("exit code %d, want %d", code, exitUsage)
	}
	if !strings.Contains(errb.String(), "unknown command") {
		t.Errorf("stderr = %q", errb.String())
	}
}

// shimToken is the bearer token test services require.
const shimToken = "test-shim-token"

// service is a hatchet-worker process started by a test.
type service struct {
	cmd    *exec.Cmd
	addr   string
	tokenF string
	log    *syncBuffer
	done   chan error
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
	s := &service{addr: addr, log: &syncBuffer{}, done: make(chan error, 1)}
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
		s.cmd.Env = append(s.cmd.Env, "PLATFORM_DATABASE_URL="+hatchettest.DatabaseURL(t, "hw_test_cmd_platform"))
	}
	s.cmd.Env = append(s.cmd.Env, env...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("service log:\n%s", s.log.String())
		}
	})
	return s
}

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
	select {
	case err := <-s.done:
		return exitCode(err)
	case <-time.After(time.Minute):
		t.Fatalf("service did not stop after SIGTERM\n%s", s.log.String())
		return -1
	}
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
	resp, err := http.Get("http://" + s.addr + path)
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
	resp, err := http.Get("http://" + s.addr + path)
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

// syncBuffer is a bytes.Buffer safe for the process's two output streams.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// database returns a fresh database for one service under test.
func database(t *testing.T, name string) string {
	return hatchettest.DatabaseURL(t, name)
}
