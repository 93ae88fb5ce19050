//go:build integration

package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unstract/hatchet-worker/helpers/extract"
	"github.com/unstract/hatchet-worker/helpers/llm"
	"github.com/unstract/hatchet-worker/internal/hatchetrun"
	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/workflows"
)

// TestWorkflowExecutionUnbornBatch hands process-files a batch id the
// engine never creates, as an engine killed between recording a spawned
// child's id and creating the child does: before process-files spawns, the
// test records batch 0's SIGNAL_CREATED event, as the engine writes it,
// with an id no run has. The spawn then returns that id and creates
// nothing (see TestMain). The execution must still succeed in its first
// attempt, each file prompted once, with batch 0 spawned again under
// "batch:0:after:<id>" once the engine's records have lacked it for
// UnbornAfter. Without the watch it waits for its 4-hour timeout.
func TestWorkflowExecutionUnbornBatch(t *testing.T) {
	conn := hatchettest.Engine(t)
	db, err := pgxpool.New(t.Context(), hatchettest.EngineDatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	llmSrv := testenv.NewLLMServer(t, "")
	adapters, err := workflows.NewLLMAdapters(map[string]llm.Adapter{"local": {BaseURL: llmSrv.BaseURL(), Model: "tiny"}})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := extract.New("", "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	deps := workflows.Deps{Log: slog.Default(), Extractor: ex, LLM: adapters, Documents: testenv.LocalDocuments(t, dir),
		Runs: hatchetrun.Records{Client: conn.Client}, UnbornAfter: 3 * time.Second}
	unborn := uuid.NewString()
	execution := workflows.WorkflowExecution(deps)
	for i := range execution.Tasks {
		if execution.Tasks[i].Name == "process-files" {
			execution.Tasks[i].Fn = recordingUnborn(db, unborn, execution.Tasks[i].Fn)
		}
	}
	client := startWorker(t, workflows.FileBatch(deps), execution)

	const files = 6
	ref, err := client.RunNoWait(t.Context(), workflows.WorkflowExecutionName, executionInput(t, dir, files))
	if err != nil {
		t.Fatal(err)
	}
	out := executionOutput(t, client, ref.RunId, 2*time.Minute)
	if out.SuccessfulFiles != files || out.FailedFiles != 0 || out.Attempt != 0 {
		t.Errorf("%d successful, %d failed, attempt %d; want %d, 0 and the first (0): %+v", out.SuccessfulFiles, out.FailedFiles, out.Attempt, files, out)
	}
	if calls := llmSrv.Calls.Load(); calls != files {
		t.Errorf("%d LLM calls, want %d (one prompt per file)", calls, files)
	}
	keys := spawnKeys(t, db, ref.RunId)
	if !slices.ContainsFunc(keys, func(k string) bool { return strings.HasSuffix(k, ".batch:0:after:"+unborn) }) {
		t.Errorf("spawn keys of run %s: %q; want batch 0 spawned again after %s", ref.RunId, keys, unborn)
	}
}

// executionInput writes n invoices to dir and describes an execution over
// them, two files to a batch, one prompt each.
func executionInput(t *testing.T, dir string, n int) map[string]any {
	t.Helper()
	files := map[string]any{}
	for i := range n {
		name := fmt.Sprintf("invoice-%03d.txt", i)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(fmt.Sprintf("Invoice INV-%03d\n", i)), 0o600); err != nil {
			t.Fatal(err)
		}
		files["hash-"+name] = map[string]any{"file_path": p, "file_name": name, "file_hash": "sha-" + name}
	}
	return map[string]any{"schema_name": "org_unborn", "workflow_id": "wf-1", "execution_id": "ex-unborn",
		"hash_values_of_files": files, "pipeline_id": "pipe-1", "use_file_history": false, "batch_size": 2,
		"outputs":        []workflows.PromptOutput{{Name: "invoice_number", Prompt: "Extract the invoice number"}},
		"llm_adapter_id": "local", "chunk_size": 0, "chunk_overlap": 0}
}

// executionOutput waits up to within for run runID to complete and returns
// its process-files output.
func executionOutput(t *testing.T, client *hatchet.Client, runID string, within time.Duration) workflows.ExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		d, err := client.Runs().Get(t.Context(), runID)
		if err != nil && !hatchetrun.NotYetVisible(err) {
			t.Fatal(err)
		}
		if err == nil && d.Run.Status == rest.V1TaskStatusFAILED {
			t.Fatalf("run %s failed: %s", runID, hatchetrun.Error(d))
		}
		if err == nil {
			var out workflows.ExecutionOutput
			done, err := hatchettest.TaskOutput(d, "process-files", &out)
			if err != nil {
				t.Fatal(err)
			}
			if done {
				return out
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("run %s did not complete within %s", runID, within)
	return workflows.ExecutionOutput{}
}

// recordingUnborn wraps process-files' function: its first attempt first
// records batch 0's child id as unborn.
func recordingUnborn(db *pgxpool.Pool, unborn string, fn any) any {
	run := fn.(func(hatchet.DurableContext, workflows.ExecutionInput) (workflows.ExecutionOutput, error))
	return func(ctx hatchet.DurableContext, in workflows.ExecutionInput) (workflows.ExecutionOutput, error) {
		if ctx.RetryCount() == 0 {
			if err := recordUnborn(ctx, db, ctx.StepRunId(), ctx.WorkflowRunId(), unborn); err != nil {
				return workflows.ExecutionOutput{}, err
			}
		}
		return run(ctx, in)
	}
}

// recordUnborn writes the SIGNAL_CREATED event the engine writes when task
// taskID spawns batch 0, naming child as the batch's run. The event's key
// starts with the parent's id: the task's in a DAG, the run's otherwise;
// both are written when they differ.
func recordUnborn(ctx context.Context, db *pgxpool.Pool, taskID, runID, child string) error {
	keys := []string{taskID + ".0.batch:0"}
	if runID != taskID {
		keys = append(keys, runID+".0.batch:0")
	}
	tag, err := db.Exec(ctx, `INSERT INTO v1_task_event (tenant_id, task_id, task_inserted_at, retry_count, event_type, event_key, data, child_external_id)
		SELECT l.tenant_id, l.task_id, l.inserted_at, -1, 'SIGNAL_CREATED', k.key, '{}'::jsonb, $2::uuid
		FROM v1_lookup_table l, unnest($3::text[]) AS k(key)
		WHERE l.external_id = $1::uuid AND l.task_id IS NOT NULL`,
		taskID, child, keys)
	if err != nil {
		return fmt.Errorf("record unborn batch: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errors.New("record unborn batch: no lookup row for task " + taskID)
	}
	return nil
}

// spawnKeys lists the keys of the SIGNAL_CREATED events of run runID's
// tasks: those of the runs they spawned.
func spawnKeys(t *testing.T, db *pgxpool.Pool, runID string) []string {
	t.Helper()
	rows, err := db.Query(context.WithoutCancel(t.Context()), `SELECT e.event_key FROM v1_task_event e
		JOIN v1_task k ON k.id = e.task_id AND k.inserted_at = e.task_inserted_at
		WHERE k.workflow_run_id = $1::uuid AND e.event_type = 'SIGNAL_CREATED' ORDER BY e.id`, runID)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
