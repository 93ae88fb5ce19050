package hatchettest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/jackc/pgx/v5"

	"github.com/unstract/hatchet-worker/internal/engine"
	"github.com/unstract/hatchet-worker/internal/worker"
)

// StartWorker registers wfs on conn's engine (Engine's) under a worker
// called name, and drains it at cleanup. The drain hands the worker over
// (worker.WithReleased), so the next test's tasks are never assigned to it.
func StartWorker(t testing.TB, conn *engine.Conn, name string, slots int, wfs []*hatchet.Workflow) *worker.Worker {
	t.Helper()
	w, err := worker.Start(conn.Client, name, slots, wfs, slog.Default(), worker.WithReleased(conn.Embedded.WorkerReleased))
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.Drain(ctx); err != nil {
			t.Errorf("hatchettest: drain worker %s: %v", name, err)
		}
		logInternalRetries(ctx, t, began)
	})
	return w
}

// logInternalRetries logs the tasks created since since that the engine
// retried for a reason of its own, such as a task it could not send to a
// worker. Such a retry counts in the task's RetryCount, so a test failing
// on one shows why.
func logInternalRetries(ctx context.Context, t testing.TB, since time.Time) {
	conn, err := pgx.Connect(ctx, engineDB)
	if err != nil {
		t.Logf("hatchettest: read internal retries: %v", err)
		return
	}
	defer func() { _ = conn.Close(ctx) }()
	rows, err := conn.Query(ctx, `SELECT display_name, retry_count, internal_retry_count FROM v1_task
		WHERE inserted_at >= $1 AND internal_retry_count > 0`, since)
	if err != nil {
		t.Logf("hatchettest: read internal retries: %v", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var task string
		var retries, internal int
		if err := rows.Scan(&task, &retries, &internal); err == nil {
			t.Logf("hatchettest: task %s was retried %d times by the engine itself (RetryCount %d)", task, internal, retries)
		}
	}
}
