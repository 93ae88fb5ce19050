package shim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound reports an execution id the store does not know.
var ErrNotFound = errors.New("execution not found")

// ErrStoreUnavailable wraps a store failure that means its database could
// not be reached or ended the session (a Postgres restart or outage), as
// opposed to refusing the statement; the shim answers 503.
var ErrStoreUnavailable = errors.New("execution store unavailable")

// Execution is the shim's durable record of one request: where it went and
// how to find it there.
type Execution struct {
	ID             string    `json:"execution_id"`
	Workflow       string    `json:"workflow"`
	OrganizationID string    `json:"organization_id"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	Backend        string    `json:"backend"`
	Reason         string    `json:"reason"`
	BackendRef     string    `json:"backend_ref,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// Store keeps Execution records in Postgres (schema hatchet_worker), so
// status lookups and idempotency survive restarts and work across replicas.
type Store struct {
	pool *pgxpool.Pool
}

const storeSchema = `
CREATE SCHEMA IF NOT EXISTS hatchet_worker;
CREATE TABLE IF NOT EXISTS hatchet_worker.executions (
	id              uuid PRIMARY KEY,
	workflow        text NOT NULL,
	organization_id text NOT NULL,
	idempotency_key text,
	backend         text NOT NULL,
	reason          text NOT NULL,
	backend_ref     text NOT NULL DEFAULT '',
	created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS executions_idempotency
	ON hatchet_worker.executions (workflow, organization_id, idempotency_key)
	WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS executions_created
	ON hatchet_worker.executions (created_at);
ALTER TABLE hatchet_worker.executions ADD COLUMN IF NOT EXISTS unknown_since timestamptz`

// OpenStore connects to the database at url and creates the table if needed.
func OpenStore(ctx context.Context, url string) (*Store, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("execution store: %w", err)
	}
	if _, err := pool.Exec(ctx, storeSchema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("execution store schema: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Prune deletes the records created before cutoff and returns how many it
// deleted. Their ids then answer 404 and their idempotency keys start new
// executions.
func (s *Store) Prune(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM hatchet_worker.executions WHERE created_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("prune executions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Close releases the store's connections.
func (s *Store) Close() { s.pool.Close() }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Claim inserts e, or, when an execution with the same workflow,
// organisation and idempotency key exists, returns that one and false.
func (s *Store) Claim(ctx context.Context, e Execution) (Execution, bool, error) {
	var key *string
	if e.IdempotencyKey != "" {
		key = &e.IdempotencyKey
	}
	row := s.pool.QueryRow(ctx, `INSERT INTO hatchet_worker.executions
		(id, workflow, organization_id, idempotency_key, backend, reason)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (workflow, organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
		RETURNING created_at`, e.ID, e.Workflow, e.OrganizationID, key, e.Backend, e.Reason)
	err := row.Scan(&e.CreatedAt)
	if err == nil {
		return e, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Execution{}, false, storeErr("claim execution", err)
	}
	prev, err := s.byKey(ctx, e.Workflow, e.OrganizationID, e.IdempotencyKey)
	return prev, false, err
}

// SetRef records where the backend put the execution (e.g. a Hatchet run id).
func (s *Store) SetRef(ctx context.Context, id, ref string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE hatchet_worker.executions SET backend_ref = $2 WHERE id = $1`, id, ref); err != nil {
		return storeErr("record backend ref", err)
	}
	return nil
}

// Reroute records that a claimed execution went to another backend.
func (s *Store) Reroute(ctx context.Context, id, backend, reason string) error {
	_, err := s.pool.Exec(ctx, `UPDATE hatchet_worker.executions SET backend = $2, reason = $3 WHERE id = $1`, id, backend, reason)
	if err != nil {
		return storeErr("record reroute", err)
	}
	return nil
}

// Forget deletes a claim whose work could not be accepted by any backend, so
// a retry with the same idempotency key starts afresh.
func (s *Store) Forget(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM hatchet_worker.executions WHERE id = $1`, id); err != nil {
		return storeErr("forget execution", err)
	}
	return nil
}

// MarkUnknown records that the execution's backend cannot show it, and
// reports whether this call was the first to record it.
func (s *Store) MarkUnknown(ctx context.Context, id string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE hatchet_worker.executions SET unknown_since = now()
		WHERE id = $1 AND unknown_since IS NULL`, id)
	if err != nil {
		return false, storeErr("record unknown execution", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Get returns the execution with id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (Execution, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Execution{}, ErrNotFound
	}
	return s.one(ctx, `WHERE id = $1`, id)
}

func (s *Store) byKey(ctx context.Context, workflow, org, key string) (Execution, error) {
	return s.one(ctx, `WHERE workflow = $1 AND organization_id = $2 AND idempotency_key = $3`, workflow, org, key)
}

func (s *Store) one(ctx context.Context, where string, args ...any) (Execution, error) {
	var e Execution
	var key *string
	err := s.pool.QueryRow(ctx, `SELECT id::text, workflow, organization_id, idempotency_key, backend, reason, backend_ref, created_at
		FROM hatchet_worker.executions `+where, args...).
		Scan(&e.ID, &e.Workflow, &e.OrganizationID, &key, &e.Backend, &e.Reason, &e.BackendRef, &e.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Execution{}, ErrNotFound
	}
	if err != nil {
		return Execution{}, storeErr("read execution", err)
	}
	if key != nil {
		e.IdempotencyKey = *key
	}
	return e, nil
}

// storeErr wraps err from operation op, marking database outages with
// ErrStoreUnavailable.
func storeErr(op string, err error) error {
	if outage(err) {
		return fmt.Errorf("%w: %s: %w", ErrStoreUnavailable, op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// outage reports whether err means the database was unreachable or ended
// the session: a network or connect error, or a server error of class 08
// (connection exception), 53 (insufficient resources) or 57 (operator
// intervention, e.g. 57P01 admin_shutdown during a restart). Any other
// server error refused the statement itself.
func outage(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		class := pgErr.Code[:min(2, len(pgErr.Code))]
		return class == "08" || class == "53" || class == "57"
	}
	return !errors.Is(err, context.Canceled)
}
