//go:build integration

package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/workflows"
)

// TestWorkflowExecutionUnbornBatch hands process-files a batch id the
// engine never creates, as an engine killed between recording a spawned
// child's id and creating the child does: before process-files spawns, the
// test records batch 0's SIGNAL_CREATED event, as the engine writes it,
// with an id no run has. The spawn then returns that id. The execution
// must still succeed in its first attempt, each file processed once: batch
// 0 is spawned again once the engine's records have lacked it for
// UnbornAfter. Without the watch, it waits for the 4-hour timeout.
func TestWorkflowExecutionUnbornBatch(t *testing.T) {
	db, err := pgxpool.New(t.Context(), hatchettest.EngineDatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	unborn := uuid.NewString()
	env := newExecutionEnv(t, 20, envSetup{unbornAfter: 3 * time.Second, change: func(d *workflows.Definition) {
		for i := range d.Tasks {
			if d.Tasks[i].Name == "process-files" {
				d.Tasks[i].Fn = recordingUnborn(db, unborn, d.Tasks[i].Fn)
			}
		}
	}})
	const files = 6
	a, err := env.shim.Execute(context.Background(), batchedRequest("ex-unborn", env.files(t, files), true, 2))
	if err != nil {
		t.Fatal(err)
	}
	st := env.waitFinal(t, a.ID, 2*time.Minute)
	if st.State != shim.StateSucceeded {
		t.Fatalf("execution %s: %+v", st.State, st.Error)
	}
	out := outputOf(t, st)
	if out.SuccessfulFiles != files || out.FailedFiles != 2 {
		t.Errorf("%d successful, %d failed; want %d and 2 (result %s)", out.SuccessfulFiles, out.FailedFiles, files, st.Result)
	}
	if calls, want := env.llm.Calls.Load(), int64(files*len(executionOutputs)); calls != want {
		t.Errorf("%d LLM calls, want %d", calls, want)
	}
	if attempt := fanOutAttempt(t, env.client, st.BackendRef); attempt != 0 {
		t.Errorf("process-files finished on attempt %d, want the first (0)", attempt)
	}
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
