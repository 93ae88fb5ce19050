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
	return sqlState(err) == undefinedTable
}

// sqlState is the SQLSTATE of a PostgreSQL error, "" for any other.
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
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

// close closes the pool, which waits for its connections to come back,
// or gives up when ctx ends (the pool then finishes closing on its own).
func (b *dbBackend) close(ctx context.Context, _ *amqp.Connection) error {
	closed := make(chan struct{})
	go func() { b.pool.Close(); close(closed) }()
	select {
	case <-closed:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close result database: %w", ctx.Err())
	}
}

// taskmetaSchema is celery_taskmeta as Celery's SQLAlchemy models create it
// with result_extended (TaskExtended), for a result stored before any
// worker of the platform created the table.
const taskmetaSchema = `CREATE SEQUENCE IF NOT EXISTS task_id_sequence;
CREATE TABLE IF NOT EXISTS celery_taskmeta (
	id integer NOT NULL PRIMARY KEY,
	task_id varchar(155) UNIQUE,
	status varchar(50),
	result bytea,
	date_done timestamp without time zone,
	traceback text,
	name varchar(155),
	args bytea,
	kwargs bytea,
	worker varchar(155),
	retries integer,
	queue varchar(155)
)`

// storeExtended writes a result with the request fields of result_extended.
const storeExtended = `INSERT INTO celery_taskmeta (id, task_id, status, result, date_done, traceback, name, args, kwargs, worker, retries, queue)
	VALUES (nextval('task_id_sequence'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
	ON CONFLICT (task_id) DO UPDATE SET status = $2, result = $3, date_done = $4, traceback = $5,
		name = $6, args = $7, kwargs = $8, worker = $9, retries = $10, queue = $11`

// storePlain writes a result into a table created without result_extended.
const storePlain = `INSERT INTO celery_taskmeta (id, task_id, status, result, date_done, traceback)
	VALUES (nextval('task_id_sequence'), $1, $2, $3, $4, $5)
	ON CONFLICT (task_id) DO UPDATE SET status = $2, result = $3, date_done = $4, traceback = $5`

// undefinedColumn is PostgreSQL's SQLSTATE for a missing column.
const undefinedColumn = "42703"

// record stores the task's row as Celery's database backend does: the
// result pickled (a JSON result is plain data), date_done naive UTC, and
// the request's fields where the table has them. It creates the table
// when no worker has yet.
func (b *dbBackend) record(ctx context.Context, r StoredResult, _ []byte) error {
	pickled, err := JSONToPickle(orNull(r.Value))
	if err != nil {
		return fmt.Errorf("store result of %s: %w", r.TaskID, err)
	}
	var tb *string
	if r.Traceback != "" {
		tb = &r.Traceback
	}
	done := r.DateDone.UTC() // stored as its UTC wall clock
	store := func() error {
		_, err := b.pool.Exec(ctx, storeExtended, r.TaskID, string(r.State), pickled, done, tb, r.Name,
			[]byte(orNull(r.Args)), []byte(orNull(r.Kwargs)), r.Worker, r.Retries, r.Queue)
		if sqlState(err) == undefinedColumn {
			_, err = b.pool.Exec(ctx, storePlain, r.TaskID, string(r.State), pickled, done, tb)
		}
		return err
	}
	err = store()
	if missingTable(err) {
		// A worker creating the table at the same moment fails this
		// creation; the table is there either way.
		_, created := b.pool.Exec(ctx, taskmetaSchema)
		if err = store(); err != nil && created != nil {
			err = fmt.Errorf("%w (creating the table: %w)", err, created)
		}
	}
	if err != nil {
		return fmt.Errorf("store result of %s in celery_taskmeta: %w", r.TaskID, err)
	}
	return nil
}
