package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/internal/pgdb"
	"github.com/unstract/hatchet-worker/shim"
)

// Postgres keeps Execution records in Postgres (schema hatchet_worker), so
// status lookups and idempotency survive restarts and work across replicas.
//
// A request claims its record with a lease (claim_token, lease_until) before
// submitting the work. Concurrent requests with the same idempotency key see
// the live lease; once it ends without a backend ref (the claimant died),
// exactly one request takes the claim over with a conditional UPDATE. Every
// later write is conditional on the claim token.
type Postgres struct {
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
ALTER TABLE hatchet_worker.executions
	ADD COLUMN IF NOT EXISTS claim_token uuid,
	ADD COLUMN IF NOT EXISTS lease_until timestamptz,
	ADD COLUMN IF NOT EXISTS unknown_since timestamptz;
CREATE UNIQUE INDEX IF NOT EXISTS executions_idempotency
	ON hatchet_worker.executions (workflow, organization_id, idempotency_key)
	WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS executions_created
	ON hatchet_worker.executions (created_at)` + outcomeSchema + platformSchema + frontDoorSchema + sessionsSchema

// legacyLease is the lease of a claimed record whose lease_until is NULL.
const legacyLease = "60 seconds"

// storeConns is the store's pool size unless the URL sets pool_max_conns:
// every execute request makes two short writes, and pgxpool's default (the
// number of CPUs, at least 4) has requests queue for a connection under
// load.
const storeConns = 16

// Open connects to the database at url and creates the table if needed.
func Open(ctx context.Context, url string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("execution store: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = storeConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("execution store: %w", err)
	}
	if err := pgdb.CreateSchema(ctx, pool, storeSchema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("execution store schema: %w", err)
	}
	return &Postgres{pool: pool}, nil
}

// Prune deletes the records created before cutoff and returns how many it
// deleted. Their ids then answer 404 and their idempotency keys start new
// executions.
func (s *Postgres) Prune(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM hatchet_worker.executions WHERE created_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("prune executions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Close releases the store's connections.
func (s *Postgres) Close() { s.pool.Close() }

// Ping reports whether the database answers.
func (s *Postgres) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// claimAttempts bounds Claim's retries when the record it conflicted with
// disappears (released) before it could be read.
const claimAttempts = 3

// Claim records e with a lease of the given length, or, when a record with
// the same workflow, organisation and idempotency key exists, takes it over
// if its lease ran out unsubmitted, or returns it (ClaimDone or ClaimHeld).
func (s *Postgres) Claim(ctx context.Context, e shim.Execution, lease time.Duration) (shim.Claim, error) {
	for range claimAttempts {
		c, err := s.claimOnce(ctx, e, lease)
		if !errors.Is(err, shim.ErrNotFound) {
			return c, err
		}
	}
	return shim.Claim{}, fmt.Errorf("claim execution: record for key %q kept disappearing", e.IdempotencyKey)
}

func (s *Postgres) claimOnce(ctx context.Context, e shim.Execution, lease time.Duration) (shim.Claim, error) {
	c := shim.Claim{Execution: e, State: shim.ClaimNew, Token: uuid.NewString()}
	if ok, err := s.insert(ctx, &c, lease); ok || err != nil {
		return c, err
	}
	if ok, err := s.takeOver(ctx, &c, lease); ok || err != nil {
		return c, err
	}
	prev, err := s.byKey(ctx, e.Workflow, e.OrganizationID, e.IdempotencyKey)
	if err != nil {
		return shim.Claim{}, err
	}
	c = shim.Claim{Execution: prev, State: shim.ClaimHeld}
	if prev.BackendRef != "" {
		c.State = shim.ClaimDone
	}
	return c, nil
}

// insert creates c's record and reports false when its key is taken.
func (s *Postgres) insert(ctx context.Context, c *shim.Claim, lease time.Duration) (bool, error) {
	var key *string
	if c.IdempotencyKey != "" {
		key = &c.IdempotencyKey
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO hatchet_worker.executions
		(id, workflow, organization_id, idempotency_key, backend, reason, claim_token, lease_until, ingress)
		VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8 * interval '1 millisecond', $9)
		ON CONFLICT (workflow, organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
		RETURNING created_at`, c.ID, c.Workflow, c.OrganizationID, key, c.Backend, c.Reason, c.Token, lease.Milliseconds(), ingressOf(c.Execution)).
		Scan(&c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, storeErr("claim execution", err)
	}
	return true, nil
}

// Record stores e, which no idempotency key holds, with its backend's ref
// or, while the backend is still accepting it, without one (FillRef adds
// it). Recording an id again sets its ref: a retry after a write whose
// outcome was lost.
func (s *Postgres) Record(ctx context.Context, e shim.Execution) (shim.Execution, error) {
	err := s.pool.QueryRow(ctx, `INSERT INTO hatchet_worker.executions
		(id, workflow, organization_id, backend, reason, backend_ref, ingress) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET backend_ref = EXCLUDED.backend_ref
		RETURNING created_at`, e.ID, e.Workflow, e.OrganizationID, e.Backend, e.Reason, e.BackendRef, ingressOf(e)).Scan(&e.CreatedAt)
	if err != nil {
		return shim.Execution{}, storeErr("record execution", err)
	}
	return e, nil
}

// FillRef records ref for the execution with id when its record has none
// and no live claim: recorded before its backend accepted it, or claimed by
// a request that died after. It reports whether it did.
func (s *Postgres) FillRef(ctx context.Context, id, ref string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE hatchet_worker.executions
		SET backend_ref = $2, claim_token = NULL, lease_until = NULL
		WHERE id = $1 AND backend_ref = ''
			AND (claim_token IS NULL OR coalesce(lease_until, created_at + interval '`+legacyLease+`') < now())`, id, ref)
	if err != nil {
		return false, storeErr("record found backend ref", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Forget deletes the unclaimed record with id while it has no ref: its
// backend did not accept the work.
func (s *Postgres) Forget(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM hatchet_worker.executions
		WHERE id = $1 AND backend_ref = '' AND claim_token IS NULL`, id)
	if err != nil {
		return storeErr("forget unaccepted execution", err)
	}
	return nil
}

// takeOver takes over the record with c's key when its lease ran out before
// a backend accepted it; the row lock lets exactly one request win. The
// record keeps its id, backend and reason.
func (s *Postgres) takeOver(ctx context.Context, c *shim.Claim, lease time.Duration) (bool, error) {
	err := s.pool.QueryRow(ctx, `UPDATE hatchet_worker.executions
		SET claim_token = $4, lease_until = now() + $5 * interval '1 millisecond'
		WHERE workflow = $1 AND organization_id = $2 AND idempotency_key = $3 AND backend_ref = ''
			AND coalesce(lease_until, created_at + interval '`+legacyLease+`') < now()
		RETURNING id::text, backend, reason, created_at`,
		c.Workflow, c.OrganizationID, c.IdempotencyKey, c.Token, lease.Milliseconds()).
		Scan(&c.ID, &c.Backend, &c.Reason, &c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, storeErr("take over stale claim", err)
	}
	c.State = shim.ClaimTakenOver
	return true, nil
}

// SetRef records where the backend put the execution (e.g. a Hatchet run
// id) and ends the lease. Only the claim holder may, and only once: any other
// caller gets ErrClaimLost.
func (s *Postgres) SetRef(ctx context.Context, c shim.Claim, ref string) error {
	return s.write(ctx, "record backend ref", `UPDATE hatchet_worker.executions
		SET backend_ref = $3, claim_token = NULL, lease_until = NULL
		WHERE id = $1 AND claim_token = $2 AND backend_ref = ''`, c.ID, c.Token, ref)
}

// Reroute records that the claim holder sends the execution to another
// backend (fallback).
func (s *Postgres) Reroute(ctx context.Context, c shim.Claim, backend featureflag.Backend, reason featureflag.Reason) error {
	return s.write(ctx, "record reroute", `UPDATE hatchet_worker.executions SET backend = $3, reason = $4
		WHERE id = $1 AND claim_token = $2 AND backend_ref = ''`, c.ID, c.Token, backend, reason)
}

// Release deletes a claim whose work no backend accepted, so a retry with
// the same idempotency key starts afresh.
func (s *Postgres) Release(ctx context.Context, c shim.Claim) error {
	return s.write(ctx, "release claim", `DELETE FROM hatchet_worker.executions
		WHERE id = $1 AND claim_token = $2 AND backend_ref = ''`, c.ID, c.Token)
}

// write runs a statement conditional on the claim and fails with
// ErrClaimLost when it matched no row.
func (s *Postgres) write(ctx context.Context, what, sql string, args ...any) error {
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return storeErr(what, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, shim.ErrClaimLost)
	}
	return nil
}

// MarkUnknown records that the execution's backend cannot show it, and
// reports whether this call was the first to record it.
func (s *Postgres) MarkUnknown(ctx context.Context, id string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE hatchet_worker.executions SET unknown_since = now()
		WHERE id = $1 AND unknown_since IS NULL`, id)
	if err != nil {
		return false, storeErr("record unknown execution", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Get returns the execution with id, or ErrNotFound.
func (s *Postgres) Get(ctx context.Context, id string) (shim.Execution, error) {
	if _, err := uuid.Parse(id); err != nil {
		return shim.Execution{}, shim.ErrNotFound
	}
	return s.one(ctx, `WHERE id = $1`, id)
}

func (s *Postgres) byKey(ctx context.Context, workflow, org, key string) (shim.Execution, error) {
	return s.one(ctx, `WHERE workflow = $1 AND organization_id = $2 AND idempotency_key = $3`, workflow, org, key)
}

func (s *Postgres) one(ctx context.Context, where string, args ...any) (shim.Execution, error) {
	e, err := scanExecution(s.pool.QueryRow(ctx, `SELECT `+executionColumns+` FROM hatchet_worker.executions `+where, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return shim.Execution{}, shim.ErrNotFound
	}
	if err != nil {
		return shim.Execution{}, storeErr("read execution", err)
	}
	return e, nil
}

// storeErr wraps err from operation op, marking database outages with
// ErrStoreUnavailable.
func storeErr(op string, err error) error {
	if outage(err) {
		return fmt.Errorf("%w: %s: %w", shim.ErrStoreUnavailable, op, err)
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

// ingressOf is how e's request came in, IngressAPI when it does not say.
func ingressOf(e shim.Execution) string {
	if e.Ingress == "" {
		return shim.IngressAPI
	}
	return e.Ingress
}
