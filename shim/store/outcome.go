package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
)

// outcomeSchema adds the outcome columns and the index of unfinished
// executions tracking walks.
const outcomeSchema = `;
ALTER TABLE hatchet_worker.executions
	ADD COLUMN IF NOT EXISTS state text NOT NULL DEFAULT 'queued',
	ADD COLUMN IF NOT EXISTS backend_state text NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS started_at timestamptz,
	ADD COLUMN IF NOT EXISTS finished_at timestamptz,
	ADD COLUMN IF NOT EXISTS error_type text,
	ADD COLUMN IF NOT EXISTS error_message text,
	ADD COLUMN IF NOT EXISTS traceback text,
	ADD COLUMN IF NOT EXISTS result bytea,
	ADD COLUMN IF NOT EXISTS checked_at timestamptz,
	ADD COLUMN IF NOT EXISTS ingress text NOT NULL DEFAULT 'api',
	ADD COLUMN IF NOT EXISTS cancel_requested_at timestamptz;
CREATE INDEX IF NOT EXISTS executions_unfinished
	ON hatchet_worker.executions (backend, checked_at NULLS FIRST, created_at)
	WHERE finished_at IS NULL AND backend_ref <> ''`

// executionColumns are the columns scanExecution reads, in its order.
const executionColumns = `id::text, workflow, organization_id, idempotency_key, backend, reason, backend_ref, created_at,
	state, backend_state, started_at, finished_at, error_type, error_message, traceback, result, ingress, cancel_requested_at`

// scanExecution reads one row of executionColumns.
func scanExecution(row pgx.Row) (shim.Execution, error) {
	var e shim.Execution
	var key, errType, errMsg, tb *string
	var result []byte
	err := row.Scan(&e.ID, &e.Workflow, &e.OrganizationID, &key, &e.Backend, &e.Reason, &e.BackendRef, &e.CreatedAt,
		&e.State, &e.BackendState, &e.StartedAt, &e.FinishedAt, &errType, &errMsg, &tb, &result, &e.Ingress, &e.CancelRequestedAt)
	if err != nil {
		return shim.Execution{}, err
	}
	e.Result = result
	if key != nil {
		e.IdempotencyKey = *key
	}
	if errMsg != nil {
		e.Error = &shim.FailureInfo{Type: deref(errType), Message: *errMsg, Traceback: deref(tb)}
	}
	if e.FinishedAt != nil {
		e.DurationSeconds = e.FinishedAt.Sub(e.CreatedAt).Seconds()
	}
	return e, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Finish records o, a terminal outcome of e (by its id, on its backend),
// unless the record already holds one: the first outcome recorded stays. It returns the record and whether
// this call recorded it (so each end is counted once, across replicas). An
// outcome without a finish time finishes now.
func (s *Postgres) Finish(ctx context.Context, e shim.Execution, o shim.Outcome) (shim.Execution, bool, error) {
	var errType, errMsg, tb *string
	if o.Error != nil {
		errType, errMsg, tb = &o.Error.Type, &o.Error.Message, &o.Error.Traceback
	}
	var result []byte = o.Result
	rec, err := scanExecution(s.pool.QueryRow(ctx, `UPDATE hatchet_worker.executions
		SET state = $2, backend_state = $3, started_at = coalesce($4, started_at), finished_at = coalesce($5, now()),
			error_type = $6, error_message = $7, traceback = $8, result = $9
		WHERE id = $1 AND backend = $10 AND finished_at IS NULL
		RETURNING `+executionColumns, e.ID, o.State, o.BackendState, o.StartedAt, o.FinishedAt, errType, errMsg, tb, result, e.Backend))
	if errors.Is(err, pgx.ErrNoRows) {
		return shim.Execution{}, false, nil
	}
	if err != nil {
		return shim.Execution{}, false, storeErr("record outcome", err)
	}
	return rec, true, nil
}

// Progress records the state of an unfinished execution (queued to
// running); a finished record is left as it is.
func (s *Postgres) Progress(ctx context.Context, id string, o shim.Outcome) error {
	_, err := s.pool.Exec(ctx, `UPDATE hatchet_worker.executions
		SET state = $2, backend_state = $3, started_at = coalesce($4, started_at)
		WHERE id = $1 AND finished_at IS NULL`, id, o.State, o.BackendState, o.StartedAt)
	if err != nil {
		return storeErr("record progress", err)
	}
	return nil
}

// Unfinished returns up to limit accepted, unfinished executions on
// backend, those checked longest ago first, and marks them checked now, so
// successive calls walk all of them in turn. Rows another replica is
// checking are skipped.
func (s *Postgres) Unfinished(ctx context.Context, backend featureflag.Backend, limit int) ([]shim.Execution, error) {
	rows, err := s.pool.Query(ctx, `UPDATE hatchet_worker.executions SET checked_at = now()
		WHERE id IN (SELECT id FROM hatchet_worker.executions
			WHERE finished_at IS NULL AND backend_ref <> '' AND backend = $1
			ORDER BY checked_at NULLS FIRST, created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING `+executionColumns, backend, limit)
	if err != nil {
		return nil, storeErr("read unfinished executions", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shim.Execution, error) { return scanExecution(r) })
	if err != nil {
		return nil, storeErr("read unfinished executions", err)
	}
	return out, nil
}

// RequestCancel records that a cancel of the unfinished execution with id
// was sent to its backend now, so tracking sends it again while the
// execution runs on.
func (s *Postgres) RequestCancel(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `UPDATE hatchet_worker.executions SET cancel_requested_at = now() WHERE id = $1 AND finished_at IS NULL`, id)
	if err != nil {
		return storeErr("record cancel request", err)
	}
	return nil
}

// InFlight counts the accepted, unfinished executions of each backend.
func (s *Postgres) InFlight(ctx context.Context) (map[featureflag.Backend]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT backend, count(*) FROM hatchet_worker.executions
		WHERE finished_at IS NULL AND backend_ref <> '' GROUP BY backend`)
	if err != nil {
		return nil, storeErr("count executions in flight", err)
	}
	out := map[featureflag.Backend]int{}
	var b featureflag.Backend
	var n int
	_, err = pgx.ForEachRow(rows, []any{&b, &n}, func() error { out[b] = n; return nil })
	if err != nil {
		return nil, fmt.Errorf("count executions in flight: %w", err)
	}
	return out, nil
}
