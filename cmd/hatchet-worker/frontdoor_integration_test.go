//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// TestFrontDoor runs the service with the front door on the platform's
// "celery" queue (in a vhost of the test's own) and the flags sending
// everything to Hatchet, with the fixture Celery worker on the twin:
//   - Python's send_task("echo").get() still answers: a task without a
//     route goes to the twin unchanged and the worker's rpc:// reply finds
//     the caller;
//   - Python's send_task("async_execute_bin", …) becomes a workflow
//     execution on Hatchet, keyed by the Celery task id, which succeeds;
//   - the same task id sent again (a redelivery) starts no second run.
func TestFrontDoor(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service, Python Celery and a worker; skipped with -short")
	}
	vhost := testenv.AMQPVHost(t)
	testenv.StartCeleryWorker(t, testenv.WithCeleryBroker(vhost), testenv.WithCeleryQueues("celery.legacy"))
	docs := t.TempDir()
	files := map[string]any{}
	for i := range 3 {
		name := fmt.Sprintf("invoice-%d.txt", i)
		p := filepath.Join(docs, name)
		if err := os.WriteFile(p, fmt.Appendf(nil, "Invoice INV-%d\nTotal %d.00 EUR\n", i, 10+i), 0o600); err != nil {
			t.Fatal(err)
		}
		files["hash-"+name] = map[string]any{"file_name": name, "file_path": p, "file_hash": "sha-" + name}
	}
	settings := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(settings, []byte("workflows:\n  wf-fd:\n    outputs: [{name: total, prompt: State the total}]\n    llm_adapter_id: default\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	llm := testenv.NewLLMServer(t, "")
	svc := startService(t, buildBinary(t), "DATABASE_URL="+database(t, "hw_test_frontdoor"), "CELERY_BROKER_URL="+vhost,
		"FRONT_DOOR=celery:async_execute_bin", "WORKFLOW_SETTINGS_FILE="+settings, "USE_TASK_ABSTRACTION=true",
		"DOCUMENTS_ROOTS="+docs, "SHIM_TRACK_INTERVAL=200ms",
		fmt.Sprintf(`LLM_ADAPTERS={"default": {"base_url": %q, "model": "stub"}}`, llm.BaseURL()))

	dir, err := testenv.CeleryAppDir()
	if err != nil {
		t.Fatal(err)
	}
	py := exec.Command(testenv.CeleryPython, filepath.Join(dir, "roundtrip.py"), vhost, "celery")
	py.Stdin = strings.NewReader("5\n")
	if out, err := py.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "ready") {
		t.Fatalf("Python's echo round trips through the front door: %v\n%s\n%s", err, out, svc.log.String())
	}

	args, _ := json.Marshal([]any{"org_fd", "wf-fd", "ex-fd-1", files})
	out, err := exec.Command(testenv.CeleryPython, filepath.Join(dir, "send_task.py"), vhost, "celery", "async_execute_bin",
		string(args), `{"pipeline_id": null, "use_file_history": false}`).CombinedOutput()
	if err != nil {
		t.Fatalf("send_task.py: %v\n%s", err, out)
	}
	taskID := strings.TrimSpace(string(out))
	var found execStatus
	svc.within(t, 2*time.Minute, func() bool {
		ids := keyed(t, svc, taskID)
		if len(ids) == 1 {
			found = svc.status(t, ids[0])
		}
		return found.State == "succeeded"
	}, func() string { return fmt.Sprintf("no succeeded Hatchet execution keyed %s (last %+v)", taskID, found) })
	if !strings.Contains(string(found.Result), `"successful_files":3`) {
		t.Errorf("result %s, want 3 files succeeded", found.Result)
	}

	again, err := celerybridge.Dial(t.Context(), vhost)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = again.Close(context.Background()) }()
	var call []any
	_ = json.Unmarshal(args, &call)
	if _, err := again.Send(t.Context(), "async_execute_bin", call, nil, celerybridge.WithTaskID(taskID), celerybridge.WithQueue("celery")); err != nil {
		t.Fatal(err)
	}
	replayed := `front_door_messages_total{outcome="replayed",queue="celery"} 1`
	svc.within(t, 30*time.Second, func() bool { return strings.Contains(svc.text(t, "/metrics"), replayed) },
		func() string { return "metrics lack " + replayed })
	if ids := keyed(t, svc, taskID); len(ids) != 1 {
		t.Errorf("%d executions keyed %s after it was sent again, want 1", len(ids), taskID)
	}
}

// keyed returns the Hatchet executions of workflow-execution whose
// idempotency key is key.
func keyed(t *testing.T, svc *service, key string) []string {
	t.Helper()
	var page struct {
		Executions []struct {
			ID             string `json:"execution_id"`
			IdempotencyKey string `json:"idempotency_key"`
			Backend        string `json:"backend"`
		} `json:"executions"`
	}
	if err := json.Unmarshal(svc.api(t, "GET", "/api/v2/workflows/executions?workflow=workflow-execution", "", 200), &page); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range page.Executions {
		if e.IdempotencyKey == key && e.Backend == "hatchet" {
			ids = append(ids, e.ID)
		}
	}
	return ids
}
