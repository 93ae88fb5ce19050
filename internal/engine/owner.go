//go:build !hatchet_external

package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// ownerLock keys the session advisory lock an embedded engine holds on its
// database while it runs.
const ownerLock = "hatchet-worker:embedded-engine"

// errLockHeld reports ownerLock held by another engine.
var errLockHeld = errors.New("another engine holds the hatchet database")

// takeDatabase connects to the engine's database and takes ownerLock. When
// it is taken and messages is true (a Postgres message queue), no other
// engine runs there, so every message still ASSIGNED lost its reader with
// the engine that stopped (a kill -9): they are requeued before this engine
// starts reading. Waiting for the reclaimer's two sweeps instead let the
// engine give a task whose completion was among them to another worker,
// which ran it again. The returned connection holds the lock until closed;
// nil means another engine holds it, and only the reclaimer requeues.
func takeDatabase(ctx context.Context, dbURL string, messages bool, log *slog.Logger) (*pgx.Conn, error) {
	conn, err := tryLock(ctx, dbURL)
	if errors.Is(err, errLockHeld) {
		log.Info("embedded engine: another engine runs on this database; messages it left assigned wait for the reclaimer")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !messages {
		return conn, nil
	}
	n, err := requeue(ctx, conn, nil)
	if err != nil {
		return nil, errors.Join(err, closeOwner(ctx, conn))
	}
	if n > 0 {
		log.Info("engine message queue: requeued messages a stopped engine left assigned", "messages", n)
	}
	return conn, nil
}

// tryLock connects to dbURL and takes ownerLock, returning the connection
// that holds it, or errLockHeld.
func tryLock(ctx context.Context, dbURL string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("connect to hatchet database: %w", err)
	}
	var locked bool
	err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext($1))`, ownerLock).Scan(&locked)
	switch {
	case err != nil:
		err = fmt.Errorf("lock hatchet database: %w", err)
	case !locked:
		err = errLockHeld
	default:
		return conn, nil
	}
	return nil, errors.Join(err, closeOwner(ctx, conn))
}

// ownerCheck is how often a running engine checks the connection holding
// ownerLock, or tries to take the lock it does not hold.
const ownerCheck = 5 * time.Second

// ownership keeps ownerLock for a running engine, so that an engine
// starting beside it (a rolling deploy) finds the lock taken and leaves its
// messages alone: every ownerCheck it pings the connection holding the lock
// and, when that is gone (the database restarted) or another engine held
// the lock at start, tries to take it. Taking it late requeues nothing: the
// messages ASSIGNED then are this engine's own.
type ownership struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// keepOwner starts keeping ownerLock on dbURL from conn (takeDatabase's
// connection, or nil); release ends it.
func keepOwner(dbURL string, conn *pgx.Conn, log *slog.Logger) *ownership {
	ctx, cancel := context.WithCancel(context.Background())
	o := &ownership{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(o.done)
		keep(ctx, dbURL, conn, log)
	}()
	return o
}

// release gives ownerLock up, closing the connection that holds it.
func (o *ownership) release() {
	o.cancel()
	<-o.done
}

// keep holds ownerLock until ctx ends, starting from conn (nil: not held).
func keep(ctx context.Context, dbURL string, conn *pgx.Conn, log *slog.Logger) {
	defer func() { _ = closeOwner(ctx, conn) }()
	had, warned := conn != nil, false
	t := time.NewTicker(ownerCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		prev := conn
		var err error
		conn, err = retake(ctx, dbURL, conn)
		switch {
		case err == nil && conn == prev: // still held
		case err == nil && had:
			log.Info("embedded engine: holds its database's lock again")
			warned = false
		case err == nil:
			log.Info("embedded engine: holds its database's lock (the engine that held it at start is gone)")
			had, warned = true, false
		case errors.Is(err, errLockHeld) && had && !warned:
			warned = true
			log.Warn("embedded engine: lost its database's lock with its connection, and another engine took it: two engines run on this database")
		}
	}
}

// ownerTimeout bounds one check of keep: a database slower than this to
// answer loses the lock until it answers again.
const ownerTimeout = 30 * time.Second

// retake returns conn while a ping shows it still holds ownerLock;
// otherwise it closes conn (nil: none) and tries to take the lock anew.
func retake(ctx context.Context, dbURL string, conn *pgx.Conn) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, ownerTimeout)
	defer cancel()
	if conn != nil && conn.Ping(ctx) == nil {
		return conn, nil
	}
	_ = closeOwner(ctx, conn)
	return tryLock(ctx, dbURL)
}

// closeOwner releases ownerLock by closing the connection holding it.
func closeOwner(ctx context.Context, owner *pgx.Conn) error {
	if owner == nil {
		return nil
	}
	if err := owner.Close(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("release hatchet database: %w", err)
	}
	return nil
}
