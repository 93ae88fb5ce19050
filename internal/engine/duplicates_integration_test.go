//go:build integration && !hatchet_external

package engine_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/engine"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
)

type empty struct{}

// TestReleaseDuplicates creates a run's task a second time with the same
// external id, as the engine does when it retries a trigger whose commit it
// saw fail: the copy is queued beside the original, which is running.
// ReleaseDuplicates frees what the copy holds, leaves the original as it
// is, logs once, and finds nothing more on the next sweep.
func TestReleaseDuplicates(t *testing.T) {
	conn := hatchettest.Engine(t)
	name := "dup-" + strings.ToLower(t.Name())
	started, release := make(chan struct{}, 2), make(chan struct{})
	wf := conn.Client.NewWorkflow(name)
	wf.NewTask("hold", func(ctx hatchet.Context, _ empty) (empty, error) {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return empty{}, nil
	}, hatchet.WithExecutionTimeout(time.Minute))
	// One slot: the copy cannot be assigned while the original runs.
	hatchettest.StartWorker(t, conn, name+"-worker", 1, []*hatchet.Workflow{wf})
	t.Cleanup(func() { close(release) }) // before the worker drains
	ref, err := conn.Client.RunNoWait(t.Context(), name, empty{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("task did not start within 30s")
	}
	db, err := pgxpool.New(t.Context(), hatchettest.EngineDatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	original, dup := duplicateTask(t, db, ref.RunId)

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if err := engine.ReleaseDuplicates(t.Context(), db, log); err != nil {
		t.Fatal(err)
	}
	if held := holds(t, db, dup); held != "" {
		t.Errorf("the duplicate still holds %s", held)
	}
	if held := holds(t, db, original); !strings.Contains(held, "runtime") {
		t.Errorf("the original holds %q, want its runtime kept", held)
	}
	if n := strings.Count(logs.String(), "released duplicate tasks"); n != 1 || !strings.Contains(logs.String(), "tasks=1") {
		t.Errorf("log = %q, want one line naming 1 task", logs.String())
	}
	logs.Reset()
	if err := engine.ReleaseDuplicates(t.Context(), db, log); err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 0 {
		t.Errorf("a second sweep logged %q, want nothing", logs.String())
	}
}

// duplicateTask copies the task of run runID under a new id, as a retried
// trigger does, and returns the original's id and the copy's. The engine's
// insert trigger gives the copy its queue item.
func duplicateTask(t *testing.T, db *pgxpool.Pool, runID string) (original, dup int64) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	var cols string
	err := db.QueryRow(ctx, `SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
		FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name = 'v1_task' AND column_name <> 'id'`).Scan(&cols)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `SELECT task_id FROM v1_lookup_table WHERE external_id = $1::uuid`, runID).Scan(&original); err != nil {
		t.Fatal(err)
	}
	err = db.QueryRow(ctx, `INSERT INTO v1_task (`+cols+`) SELECT `+cols+` FROM v1_task WHERE id = $1 RETURNING id`, original).Scan(&dup)
	if err != nil {
		t.Fatalf("copy task %d: %v", original, err)
	}
	if held := holds(t, db, dup); held == "" {
		t.Fatalf("the copy holds nothing: the engine did not queue it")
	}
	return original, dup
}

// holds names the scheduling state task id holds, "" for none.
func holds(t *testing.T, db *pgxpool.Pool, id int64) string {
	t.Helper()
	var held string
	err := db.QueryRow(context.WithoutCancel(t.Context()), `SELECT concat_ws(' ',
			CASE WHEN EXISTS (SELECT 1 FROM v1_concurrency_slot WHERE task_id = $1) THEN 'concurrency slot' END,
			CASE WHEN EXISTS (SELECT 1 FROM v1_queue_item WHERE task_id = $1) THEN 'queue item' END,
			CASE WHEN EXISTS (SELECT 1 FROM v1_retry_queue_item WHERE task_id = $1) THEN 'retry queue item' END,
			CASE WHEN EXISTS (SELECT 1 FROM v1_task_runtime WHERE task_id = $1) THEN 'runtime' END,
			CASE WHEN EXISTS (SELECT 1 FROM v1_task_runtime_slot WHERE task_id = $1) THEN 'worker slot' END)`, id).Scan(&held)
	if err != nil {
		t.Fatal(err)
	}
	return held
}
