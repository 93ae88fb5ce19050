//go:build integration

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
)

// crashFiles and crashPrompts size TestWorkflowExecutionSurvivesKill9's
// execution: batches of two files, two prompts a file.
const (
	crashFiles   = 24
	crashPrompts = 2
)

// crashStatus is the part of a workflow execution's status the crash test
// reads.
type crashStatus struct {
	State    string `json:"status"`
	Progress *struct {
		Total     int `json:"total"`
		Done      int `json:"done"`
		Succeeded int `json:"succeeded"`
	} `json:"progress"`
	Result struct {
		SuccessfulFiles int `json:"successful_files"`
		FailedFiles     int `json:"failed_files"`
	} `json:"result"`
}

// TestWorkflowExecutionSurvivesKill9 kills the service with SIGKILL, its
// embedded engine with it, while a workflow execution on Hatchet is part
// done, and starts it again on the same database. The engine gives the
// dead worker's tasks to the new one (after 30 s without a heartbeat): the
// execution ends succeeded with every file, and no file of a batch that
// had finished before the kill goes to the LLM again.
func TestWorkflowExecutionSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the service; skipped with -short")
	}
	t.Parallel() // waits out the engine's heartbeat timeout: beside the other long fault tests, CI stays short
	docs := t.TempDir()
	files := map[string]any{}
	for i := range crashFiles {
		name := fmt.Sprintf("invoice-%03d.txt", i)
		p := filepath.Join(docs, name)
		if err := os.WriteFile(p, fmt.Appendf(nil, "Invoice INV-%03d\nTotal %d.00 EUR\n", i, 10+i), 0o600); err != nil {
			t.Fatal(err)
		}
		files["hash-"+name] = map[string]any{"file_path": p, "file_name": name, "file_hash": "sha-" + name}
	}
	llm := testenv.NewLLMServer(t, "")
	llm.SetDelay(time.Second)
	adapters := fmt.Sprintf(`{"local": {"base_url": %q, "model": "stub", "max_concurrency": 4}}`, llm.BaseURL())
	// A vhost of its own: the killed process cannot delete its rpc://
	// reply queue, which would outlive the test by 30 minutes.
	env := []string{"DATABASE_URL=" + database(t, "hw_test_crash"), "CELERY_BROKER_URL=" + testenv.AMQPVHost(t),
		"DOCUMENTS_ROOTS=" + docs, "LLM_ADAPTERS=" + adapters,
		"FEATURE_FLAGS_ALLOW_REQUEST_OVERRIDE=true", "SHIM_TRACK_INTERVAL=200ms"}
	bin := buildBinary(t)
	svc := startService(t, bin, env...)
	id := svc.execute(t, crashRequest(t, files))

	var before crashStatus
	svc.within(t, 2*time.Minute, func() bool {
		before = statusAs[crashStatus](t, svc, id)
		return before.Progress != nil && before.Progress.Done >= 6
	}, func() string { return fmt.Sprintf("no six files done: %+v", before.Progress) })
	if err := svc.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = svc.wait(t, 30*time.Second)
	callsBefore := llm.Calls.Load()
	done := before.Progress.Done
	if done >= crashFiles {
		t.Fatalf("every file was done before the kill (%+v): the test must kill earlier", before.Progress)
	}
	t.Logf("killed with %d of %d files done, %d LLM calls made", done, crashFiles, callsBefore)

	svc2 := startService(t, bin, env...)
	var after crashStatus
	svc2.within(t, 4*time.Minute, func() bool {
		after = statusAs[crashStatus](t, svc2, id)
		return after.State == "succeeded" || after.State == "failed"
	}, func() string { return fmt.Sprintf("execution not ended after the restart: %+v", after) })
	if after.State != "succeeded" || after.Result.SuccessfulFiles != crashFiles || after.Result.FailedFiles != 0 {
		t.Errorf("after the restart: %s, %d files succeeded, %d failed; want succeeded with all %d",
			after.State, after.Result.SuccessfulFiles, after.Result.FailedFiles, crashFiles)
	}
	if after.Progress == nil || after.Progress.Succeeded != crashFiles {
		t.Errorf("progress after the restart = %+v, want %d succeeded", after.Progress, crashFiles)
	}
	again := llm.Calls.Load() - callsBefore
	if most := int64(crashPrompts * (crashFiles - done)); again > most {
		t.Errorf("%d LLM calls after the restart, want at most %d: files of finished batches were run again", again, most)
	}
	if code := svc2.stop(t); code != 0 {
		t.Errorf("exit code %d after the restart", code)
	}
}

// crashRequest is a workflow execution of files on Hatchet, two files to a
// batch.
func crashRequest(t *testing.T, files map[string]any) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"workflow": "workflow-execution", "organization_id": "org_crash", "use_abstraction": true,
		"input": map[string]any{
			"schema_name": "org_crash", "workflow_id": "wf-crash", "execution_id": "ex-crash", "hash_values_of_files": files,
			"use_file_history": false, "batch_size": 2, "llm_adapter_id": "local",
			"outputs": []map[string]string{{"name": "invoice_number", "prompt": "Extract the invoice number"}, {"name": "total", "prompt": "State the total"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
