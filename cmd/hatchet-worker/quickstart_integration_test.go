//go:build integration

package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
)

// TestQuickstart follows the README's Quickstart on this checkout:
// scripts/run.sh with the settings it names, scripts/legacy-worker.sh, then
// scripts/quickstart.sh, which must see the example document succeed on
// Celery and on Hatchet. A local OpenAI-compatible stub stands in for the
// LLM server, and a vhost of its own for the broker.
func TestQuickstart(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	llm := testenv.NewLLMServer(t, "")
	adapters, _ := json.Marshal(map[string]any{"default": map[string]string{"base_url": llm.BaseURL(), "model": "stub"}})
	addr := testenv.FreeAddr(t)
	env := append(os.Environ(),
		"XDG_STATE_HOME="+t.TempDir(),
		"SERVICE_ADDR="+addr,
		"DATABASE_URL="+hatchettest.DatabaseURL(t, "hw_test_quickstart"),
		"PLATFORM_DATABASE_URL="+hatchettest.DatabaseURL(t, "hw_test_quickstart_platform"),
		"HATCHET_EMBEDDED_GRPC_PORT=0", "HATCHET_EMBEDDED_API_PORT=0",
		"CELERY_BROKER_URL="+testenv.AMQPVHost(t),
		"SHIM_API_TOKEN=", // run.sh keeps one in the state directory
		// The Quickstart's own settings:
		"LLM_ADAPTERS="+string(adapters),
		"DOCUMENTS_ROOTS="+filepath.Join(root, "examples"),
		"FEATURE_FLAGS_ALLOW_REQUEST_OVERRIDE=true",
	)
	service, serviceLog := script(t, root, "run.sh", append(env, "LOG_FORMAT=json"))
	script(t, root, "legacy-worker.sh", env)
	waitReadyAt(t, addr, service)

	quick := exec.Command(filepath.Join(root, "scripts", "quickstart.sh"))
	quick.Env = append(env, "SHIM_URL=http://"+addr)
	out, err := quick.CombinedOutput()
	t.Logf("quickstart.sh:\n%s", out)
	if err != nil {
		t.Fatalf("quickstart.sh: %v", err)
	}
	for _, backend := range []string{"celery", "hatchet"} {
		if !bytes.Contains(out, []byte(`"backend":"`+backend+`"`)) {
			t.Errorf("no execution on %s in the output", backend)
		}
	}
	if llm.Calls.Load() == 0 {
		t.Error("the Hatchet execution never called the LLM server")
	}
	checkQuietLog(t, serviceRecords(serviceLog.String()))
}

// serviceRecords drops run.sh's own lines (setup's and its own, prefixed
// "setup:" and "run:") from its output, leaving the service's log.
func serviceRecords(out string) string {
	var b strings.Builder
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "setup: ") && !strings.HasPrefix(line, "run: ") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// script starts scripts/name in its own process group, stopped with SIGTERM
// at cleanup; its output goes to the test log if the test fails. The
// channel closes when it exits.
func script(t *testing.T, root, name string, env []string) (<-chan struct{}, *testenv.Buffer) {
	t.Helper()
	cmd := exec.Command(filepath.Join(root, "scripts", name))
	cmd.Env = env
	log := &testenv.Buffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("%s:\n%s", name, tail(log.String(), 8000))
		}
	})
	return done, log
}

// waitReadyAt polls addr's /readyz until 200, failing if exited closes first.
func waitReadyAt(t *testing.T, addr string, exited <-chan struct{}) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatal("service exited before ready")
		default:
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatal("service not ready in 5 minutes")
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[strings.IndexByte(s[len(s)-n:], '\n')+len(s)-n:]
}
