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

const taskmetaManyQuery = `SELECT task_id, status, result, traceback, date_done FROM celery_taskmeta WHERE task_id = ANY($1)`

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
	var row taskmetaRow
	err := b.pool.QueryRow(ctx, taskmetaQuery, id).Scan(&row.status, &row.pickled, &row.traceback, &row.doneAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows), missingTable(err):
		return pendingResult(id), nil
	case err != nil:
		return Result{}, fmt.Errorf("read result of %s: %w", id, err)
	}
	return row.result(id)
}

// lookupMany reads the rows of all ids with one query.
func (b *dbBackend) lookupMany(ctx context.Context, ids []string) ([]Result, error) {
	rows, err := b.pool.Query(ctx, taskmetaManyQuery, ids)
	if err != nil {
		return nil, fmt.Errorf("read results of %d tasks: %w", len(ids), err)
	}
	found := make(map[string]taskmetaRow, len(ids))
	var row taskmetaRow
	var id string
	_, err = pgx.ForEachRow(rows, []any{&id, &row.status, &row.pickled, &row.traceback, &row.doneAt}, func() error {
		found[id] = row
		return nil
	})
	switch {
	case missingTable(err):
	case err != nil:
		return nil, fmt.Errorf("read results of %d tasks: %w", len(ids), err)
	}
	out := make([]Result, len(ids))
	for i, id := range ids {
		out[i] = pendingResult(id)
		if row, ok := found[id]; ok {
			if out[i], err = row.result(id); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// missingTable reports whether err is PostgreSQL's undefined table: Celery
// has stored no result yet.
func missingTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == undefinedTable
}

// taskmetaRow is one celery_taskmeta row as read.
type taskmetaRow struct {
	status    string
	pickled   []byte
	traceback *string
	doneAt    *time.Time
}

// result decodes the row of task id.
func (r taskmetaRow) result(id string) (Result, error) {
	res := Result{TaskID: id, State: State(r.status), Value: []byte("null")}
	if len(r.pickled) > 0 {
		var err error
		if res.Value, err = PickleToJSON(r.pickled); err != nil {
			return Result{}, fmt.Errorf("decode result of %s: %w", id, err)
		}
	}
	if r.traceback != nil {
		res.Traceback = *r.traceback
	}
	if r.doneAt != nil {
		res.DateDone = r.doneAt.UTC()
	}
	return res, nil
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
