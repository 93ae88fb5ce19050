//go:build integration

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
)

// TestRPCOutcomeSurvivesRestart sends a document to the legacy Celery
// worker with the default rpc:// result backend and never asks for its
// status: outcome tracking must record the result as it arrives at the
// reply queue. After a restart, whose new reply queue never sees that
// result, the execution still reads succeeded, with its result.
func TestRPCOutcomeSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service twice with a Celery worker; skipped with -short")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	vhost := testenv.AMQPVHost(t)
	testenv.StartCeleryWorker(t, testenv.WithCeleryBroker(vhost), testenv.WithCeleryQueues("file_processing"))
	env := []string{"DATABASE_URL=" + database(t, "hw_test_outcome"), "CELERY_BROKER_URL=" + vhost,
		"CELERY_RESULT_BACKEND=rpc://", "DOCUMENTS_ROOTS=" + filepath.Join(root, "examples"), "SHIM_TRACK_INTERVAL=200ms",
		`LLM_ADAPTERS={"default": {"base_url": "http://127.0.0.1:9/v1", "model": "unused"}}`}
	svc := startService(t, buildBinary(t), env...)
	id := svc.execute(t, `{"workflow": "document-processing-v2", "organization_id": "org-restart",
		"input": {"document_path": "`+filepath.Join(root, "examples", "invoice.txt")+`", "llm_adapter_id": "default",
		"outputs": [{"name": "total", "prompt": "total?"}]}}`)
	finished := `shim_executions_finished_total{backend="celery",state="succeeded",workflow="document-processing-v2"} 1`
	svc.within(t, 30*time.Second, func() bool { return strings.Contains(svc.text(t, "/metrics"), finished) },
		func() string { return "metrics lack " + finished })
	if code := svc.stop(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}

	svc2 := startService(t, buildBinary(t), env...)
	st := svc2.status(t, id)
	if st.State != "succeeded" || st.FinishedAt == nil || !strings.Contains(string(st.Result), "successful_files") {
		t.Errorf("after restart: status %q, finished_at %v, result %s; want the recorded success", st.State, st.FinishedAt, st.Result)
	}
	for _, args := range [][]string{{"runs", "show", id}, {"runs", "list", "--backend", "celery", "--status", "succeeded"}} {
		out := svc2.cli(t, args...)
		if !strings.Contains(out, id) || !strings.Contains(out, "succeeded") {
			t.Errorf("hatchet-worker %s:\n%s", strings.Join(args, " "), out)
		}
	}
	if code := svc2.stop(t); code != 0 {
		t.Fatalf("second exit code %d", code)
	}
}

// cli runs the binary's command args against the service and returns its
// output; it must exit 0.
func (s *service) cli(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(s.cmd.Path, args...)
	cmd.Env = append(os.Environ(), "SERVICE_ADDR="+s.addr, "SHIM_API_TOKEN="+shimToken)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hatchet-worker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// execStatus is the part of an execution's status the tests read.
type execStatus struct {
	State      string          `json:"status"`
	Ingress    string          `json:"ingress"`
	FinishedAt *time.Time      `json:"finished_at"`
	Result     json.RawMessage `json:"result"`
}

// execute posts body to the shim and returns the execution id.
func (s *service) execute(t *testing.T, body string) string {
	t.Helper()
	var out struct {
		ID string `json:"execution_id"`
	}
	raw := s.api(t, http.MethodPost, "/api/v2/workflows/execute", body, http.StatusAccepted)
	if err := json.Unmarshal(raw, &out); err != nil || out.ID == "" {
		t.Fatalf("execute answered %s", raw)
	}
	return out.ID
}

// status reads the status of execution id.
func (s *service) status(t *testing.T, id string) execStatus {
	t.Helper()
	return statusAs[execStatus](t, s, id)
}

// statusAs reads the status of execution id into the part T a test reads.
func statusAs[T any](t *testing.T, s *service, id string) T {
	t.Helper()
	var st T
	raw := s.api(t, http.MethodGet, "/api/v2/workflows/executions/"+id, "", http.StatusOK)
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("status %s: %v", raw, err)
	}
	return st
}

// api sends an authenticated request and fails the test unless it answers want.
func (s *service) api(t *testing.T, method, path, body string, want int) []byte {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.addr+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+shimToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := apiClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, raw, want)
	}
	return raw
}
