package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Leader is one process's claim to lead a job that the processes sharing
// the store must run once between them: a PostgreSQL session advisory lock,
// held on a connection of its own. A process that does not hold it waits
// for it in the database (one blocked statement, no polling), so it takes
// over the moment the leader stops, dies or loses its connection. It needs
// session-level connections (no transaction-pooling proxy).
type Leader struct {
	pool  *pgxpool.Pool
	key   int64
	retry time.Duration

	mu      sync.Mutex // guards the fields below
	conn    *pgxpool.Conn
	waiting bool  // a wait for the lock is under way
	failed  error // why the last wait ended without the lock
	stop    context.CancelFunc
	closed  bool
}

// Leader returns the claim to lead the job called name. A wait for the lock
// that fails (the database restarting) is tried again after retry.
func (s *Postgres) Leader(name string, retry time.Duration) *Leader {
	h := fnv.New64a()
	h.Write([]byte("hatchet-worker:" + name)) //nolint:errcheck // hash.Hash never fails
	return &Leader{pool: s.pool, key: int64(h.Sum64()), retry: retry}
}

// Lead reports whether this process leads now: it checks that the lock's
// connection is alive; without the lock it starts waiting for it, in the
// background, and returns false (with the last wait's error, if it failed).
func (l *Leader) Lead(ctx context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false, nil
	}
	if l.conn != nil {
		if err := l.conn.Ping(ctx); err == nil {
			return true, nil
		}
		l.drop()
	}
	if !l.waiting {
		l.waiting = true
		wctx, stop := context.WithCancel(context.Background())
		l.stop = stop
		go l.wait(wctx)
	}
	err := l.failed
	l.failed = nil
	return false, err
}

// wait blocks in the database until this process holds the lock, then
// keeps its connection; a failed wait is tried again after retry.
func (l *Leader) wait(ctx context.Context) {
	conn, err := l.lock(ctx)
	if err != nil && ctx.Err() == nil {
		select {
		case <-time.After(l.retry):
		case <-ctx.Done():
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waiting = false
	switch {
	case l.closed && conn != nil:
		l.conn = conn
		l.drop()
	case err != nil && ctx.Err() == nil:
		l.failed = err
	case err == nil:
		l.conn = conn
	}
}

// lock takes a connection and waits on it for the lock.
func (l *Leader) lock(ctx context.Context) (*pgxpool.Conn, error) {
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("lead: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, l.key); err != nil {
		closeConn(conn) // not back to the pool: a cancelled wait may leave the lock queued on it
		return nil, fmt.Errorf("lead: %w", err)
	}
	// A leader that stops asking (hung, or cut off from the database)
	// loses the lock when the server ends its idle session; a server
	// before PostgreSQL 14 has no such timeout, and keeps it until the
	// connection is seen to be gone.
	_, _ = conn.Exec(ctx, `SELECT set_config('idle_session_timeout', $1, false)`, strconv.FormatInt(l.fence().Milliseconds(), 10))
	return conn, nil
}

// fence is how long the lock's session may stay silent before the server
// ends it: two retries, and at least two minutes, so a slow pass never
// loses it.
func (l *Leader) fence() time.Duration { return max(2*l.retry, 2*time.Minute) }

// drop closes the lock's connection, which lets the lock go.
func (l *Leader) drop() {
	closeConn(l.conn)
	l.conn = nil
}

// closeConn takes c out of its pool and closes it, waiting at most 5 s for
// a server that does not answer.
func closeConn(c *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Hijack().Close(ctx)
}

// Close lets the lead go, or stops waiting for it, and never leads again.
func (l *Leader) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.stop != nil {
		l.stop()
	}
	if l.conn != nil {
		l.drop()
	}
}
