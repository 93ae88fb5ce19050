//go:build !hatchet_external

package engine

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
)

// ownerLock keys the session advisory lock an embedded engine holds on its
// database while it runs.
const ownerLock = "hatchet-worker:embedded-engine"

// takeDatabase connects to the engine's database and takes ownerLock. When
// it is taken and messages is true (a Postgres message queue), no other
// engine runs there, so every message still ASSIGNED lost its reader with
// the engine that stopped (a kill -9): they are requeued before this engine
// starts reading. Waiting for the reclaimer's two sweeps instead let the
// engine give a task whose completion was among them to another worker,
// which ran it again. The returned connection holds the lock until closed;
// nil means another engine holds it, and only the reclaimer requeues.
func takeDatabase(ctx context.Context, dbURL string, messages bool, log *slog.Logger) (owner *pgx.Conn, err error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("connect to hatchet database: %w", err)
	}
	defer func() {
		if owner == nil {
			_ = conn.Close(context.WithoutCancel(ctx))
		}
	}()
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext($1))`, ownerLock).Scan(&locked); err != nil {
		return nil, fmt.Errorf("lock hatchet database: %w", err)
	}
	if !locked {
		log.Info("embedded engine: another engine runs on this database; messages it left assigned wait for the reclaimer")
		return nil, nil
	}
	if messages {
		n, err := requeue(ctx, conn, nil)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			log.Info("engine message queue: requeued messages a stopped engine left assigned", "messages", n)
		}
	}
	return conn, nil
}
