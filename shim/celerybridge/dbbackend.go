package celerybridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	amqp "github.com/rabbitmq/amqp091-go"
)

// dbBackend reads Celery's SQLAlchemy result table, celery_taskmeta.
type dbBackend struct {
	pool *pgxpool.Pool
	poll time.Duration
}

// undefinedTable is PostgreSQL's SQLSTATE for a missing table: Celery
// creates celery_taskmeta only when it first stores a result.
const undefinedTable = "42P01"

const taskmetaQuery = `SELECT status, result, traceback, date_done FROM celery_taskmeta WHERE task_id = $1`

// newDBBackend connects to the database a db+postgresql:// URL names.
func newDBBackend(ctx context.Context, url string, cfg *config) (*dbBackend, error) {
	_, rest, _ := strings.Cut(url, "://")
	pool, err := pgxpool.New(ctx, "postgresql://"+rest)
	if err != nil {
		return nil, fmt.Errorf("open result database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("reach result database: %w", err)
	}
	return &dbBackend{pool: pool, poll: cfg.pollInterval}, nil
}

func (b *dbBackend) replyTo() string               { return "" }
func (b *dbBackend) attach(*amqp.Connection) error { return nil }

func (b *dbBackend) lookup(ctx context.Context, id string) (Result, error) {
	var (
		status    string
		pickled   []byte
		traceback *string
		doneAt    *time.Time
	)
	err := b.pool.QueryRow(ctx, taskmetaQuery, id).Scan(&status, &pickled, &traceback, &doneAt)
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows), errors.As(err, &pgErr) && pgErr.Code == undefinedTable:
		return pendingResult(id), nil
	case err != nil:
		return Result{}, fmt.Errorf("read result of %s: %w", id, err)
	}
	r := Result{TaskID: id, State: State(status), Value: []byte("null")}
	if len(pickled) > 0 {
		if r.Value, err = PickleToJSON(pickled); err != nil {
			return Result{}, fmt.Errorf("decode result of %s: %w", id, err)
		}
	}
	if traceback != nil {
		r.Traceback = *traceback
	}
	if doneAt != nil {
		r.DateDone = doneAt.UTC()
	}
	return r, nil
}

// wait polls the table until the task reaches a final state.
func (b *dbBackend) wait(ctx context.Context, id string) (Result, error) {
	t := time.NewTicker(b.poll)
	defer t.Stop()
	for {
		r, err := b.lookup(ctx, id)
		if err != nil || r.State.Final() {
			return r, waitError(ctx, id, err)
		}
		select {
		case <-ctx.Done():
			return Result{}, waitError(ctx, id, ctx.Err())
		case <-t.C:
		}
	}
}

func (b *dbBackend) close(context.Context, *amqp.Connection) error {
	b.pool.Close()
	return nil
}
