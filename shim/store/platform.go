package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/jackc/pgx/v5"

	"github.com/unstract/hatchet-worker/shim"
)

// platformSchema keeps one row per reported execution, deleted with it.
const platformSchema = `;
CREATE TABLE IF NOT EXISTS hatchet_worker.platform_reports (
	execution_id   uuid PRIMARY KEY REFERENCES hatchet_worker.executions (id) ON DELETE CASCADE,
	reported       boolean NOT NULL DEFAULT false,
	error_message  text,
	error_at       timestamptz,
	error_retrying boolean NOT NULL DEFAULT false,
	updated_at     timestamptz NOT NULL DEFAULT now()
)`

// NotePlatformReport records one report of the execution with id: err nil
// and final true when the platform took its final status, err when a
// report failed (retrying when it is being retried). A report that
// succeeds after failures keeps the last error on record. An id the store
// does not hold (a run started outside the shim) is ignored.
func (s *Postgres) NotePlatformReport(ctx context.Context, id string, final bool, reportErr error, retrying bool) error {
	if _, err := uuid.Parse(id); err != nil {
		return nil
	}
	var msg *string
	if reportErr != nil {
		m := reportErr.Error()
		msg = &m
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO hatchet_worker.platform_reports (execution_id, reported, error_message, error_at, error_retrying)
		SELECT $1, $2, $3, CASE WHEN $3::text IS NULL THEN NULL ELSE now() END, $4
		WHERE EXISTS (SELECT 1 FROM hatchet_worker.executions WHERE id = $1)
		ON CONFLICT (execution_id) DO UPDATE SET
			reported = platform_reports.reported OR EXCLUDED.reported,
			error_message = COALESCE(EXCLUDED.error_message, platform_reports.error_message),
			error_at = COALESCE(EXCLUDED.error_at, platform_reports.error_at),
			error_retrying = CASE WHEN EXCLUDED.error_message IS NULL THEN false ELSE EXCLUDED.error_retrying END,
			updated_at = now()`, id, final, msg, retrying)
	if err != nil {
		return storeErr("record platform report", err)
	}
	return nil
}

// PlatformReport returns the report of the execution with id, false when
// nothing was reported of it.
func (s *Postgres) PlatformReport(ctx context.Context, id string) (shim.PlatformReport, bool, error) {
	if _, err := uuid.Parse(id); err != nil {
		return shim.PlatformReport{}, false, nil
	}
	var r shim.PlatformReport
	var msg *string
	var at *time.Time
	var retrying bool
	err := s.pool.QueryRow(ctx, `SELECT reported, error_message, error_at, error_retrying
		FROM hatchet_worker.platform_reports WHERE execution_id = $1`, id).Scan(&r.Reported, &msg, &at, &retrying)
	if errors.Is(err, pgx.ErrNoRows) {
		return shim.PlatformReport{}, false, nil
	}
	if err != nil {
		return shim.PlatformReport{}, false, storeErr("read platform report", err)
	}
	if msg != nil && at != nil {
		r.LastError = &shim.PlatformError{Message: *msg, At: *at, Retrying: retrying}
	}
	return r, true, nil
}
