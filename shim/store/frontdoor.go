package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/unstract/hatchet-worker/shim/frontdoor"
)

// frontDoorSchema keeps the Celery caller of each task the front door ran
// on Hatchet, deleted with its execution: for its result, and for a revoke.
const frontDoorSchema = `;
CREATE TABLE IF NOT EXISTS hatchet_worker.front_door_tasks (
	execution_id uuid PRIMARY KEY REFERENCES hatchet_worker.executions (id) ON DELETE CASCADE,
	task_id      text NOT NULL,
	task_name    text NOT NULL,
	queue        text NOT NULL,
	args         bytea,
	kwargs       bytea,
	retries      integer NOT NULL DEFAULT 0,
	reply_to     text NOT NULL DEFAULT '',
	ignore_result boolean NOT NULL DEFAULT false,
	awaited_at   timestamptz NOT NULL DEFAULT now(),
	written_at   timestamptz
);
CREATE INDEX IF NOT EXISTS front_door_tasks_unwritten
	ON hatchet_worker.front_door_tasks (awaited_at) WHERE written_at IS NULL AND NOT ignore_result;
CREATE INDEX IF NOT EXISTS front_door_tasks_task ON hatchet_worker.front_door_tasks (task_id)`

// Await records the execution's Celery caller.
func (s *Postgres) Await(ctx context.Context, executionID string, c frontdoor.Caller) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO hatchet_worker.front_door_tasks (execution_id, task_id, task_name, queue, args, kwargs, retries, reply_to, ignore_result)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (execution_id) DO NOTHING`,
		executionID, c.TaskID, c.Task, c.Queue, []byte(c.Args), []byte(c.Kwargs), c.Retries, c.ReplyTo, c.IgnoreResult)
	if err != nil {
		return fmt.Errorf("record the caller of task %s: %w", c.TaskID, err)
	}
	return nil
}

// Finished returns finished executions whose Celery results are not
// stored yet, the earliest finished first.
func (s *Postgres) Finished(ctx context.Context, limit int) ([]frontdoor.Awaited, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+executionColumns+`, r.task_id, r.task_name, r.queue, r.args, r.kwargs, r.retries, r.reply_to
		FROM hatchet_worker.front_door_tasks r JOIN hatchet_worker.executions ON id = r.execution_id
		WHERE r.written_at IS NULL AND NOT r.ignore_result AND finished_at IS NOT NULL
		ORDER BY finished_at LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read awaited results: %w", err)
	}
	defer rows.Close()
	var out []frontdoor.Awaited
	for rows.Next() {
		var a frontdoor.Awaited
		var args, kwargs []byte
		c := &a.Caller
		a.Execution, err = scanExecution(withColumns{rows, []any{&c.TaskID, &c.Task, &c.Queue, &args, &kwargs, &c.Retries, &c.ReplyTo}})
		if err != nil {
			return nil, fmt.Errorf("read awaited results: %w", err)
		}
		c.Args, c.Kwargs = args, kwargs
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read awaited results: %w", err)
	}
	return out, nil
}

// ExecutionOf returns the execution the front door ran the Celery task
// with taskID as, false when it ran none.
func (s *Postgres) ExecutionOf(ctx context.Context, taskID string) (string, bool, error) {
	var id string
	err := s.pool.QueryRow(ctx, `SELECT execution_id::text FROM hatchet_worker.front_door_tasks WHERE task_id = $1 LIMIT 1`, taskID).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("find the execution of task %s: %w", taskID, err)
	}
	return id, true, nil
}

// Written records that the execution's Celery result is stored.
func (s *Postgres) Written(ctx context.Context, executionID string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE hatchet_worker.front_door_tasks SET written_at = now() WHERE execution_id = $1`, executionID); err != nil {
		return fmt.Errorf("record the stored result of execution %s: %w", executionID, err)
	}
	return nil
}

// withColumns scans a row's columns after the execution's into extra.
type withColumns struct {
	pgx.Row
	extra []any
}

// Scan scans into dest, then extra.
func (w withColumns) Scan(dest ...any) error { return w.Row.Scan(append(dest, w.extra...)...) }
