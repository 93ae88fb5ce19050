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
// held on a connection of its own. A process that dies, or loses its
// connection, lets the lock go; the next process to ask takes it over.
// It needs session-level connections (no transaction-pooling proxy).
type Leader struct {
	pool  *pgxpool.Pool
	key   int64
	retry time.Duration

	mu     sync.Mutex // guards the fields below
	conn   *pgxpool.Conn
	tried  time.Time
	closed bool
}

// Leader returns the claim to lead the job called name. A process that
// does not hold it asks again at most every retry.
func (s *Postgres) Leader(name string, retry time.Duration) *Leader {
	h := fnv.New64a()
	h.Write([]byte("hatchet-worker:" + name)) //nolint:errcheck // hash.Hash never fails
	return &Leader{pool: s.pool, key: int64(h.Sum64()), retry: retry}
}

// Lead reports whether this process leads now: it checks that the lock's
// connection is alive, or, at most every retry, tries to take the lock.
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
	if time.Since(l.tried) < l.retry {
		return false, nil
	}
	l.tried = time.Now()
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("lead: %w", err)
	}
	var got bool
	if err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, l.key).Scan(&got); err != nil || !got {
		conn.Release()
		if err != nil {
			return false, fmt.Errorf("lead: %w", err)
		}
		return false, nil
	}
	// A leader that stops asking (hung, or cut off from the database)
	// loses the lock when the server ends its idle session; a server
	// before PostgreSQL 14 has no such timeout, and keeps it until the
	// connection is seen to be gone.
	_, _ = conn.Exec(ctx, `SELECT set_config('idle_session_timeout', $1, false)`, strconv.FormatInt(l.fence().Milliseconds(), 10))
	l.conn = conn
	return true, nil
}

// fence is how long the lock's session may stay silent before the server
// ends it: two retries, and at least two minutes, so a slow pass never
// loses it.
func (l *Leader) fence() time.Duration { return max(2*l.retry, 2*time.Minute) }

// drop closes the lock's connection, which lets the lock go.
func (l *Leader) drop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = l.conn.Hijack().Close(ctx)
	l.conn = nil
}

// Close lets the lead go, for the next process to take, and never leads
// again.
func (l *Leader) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.conn != nil {
		l.drop()
	}
}
