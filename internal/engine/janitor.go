//go:build !hatchet_external

package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// runJanitor repairs the engine's database every reclaimInterval until ctx
// ends: it releases duplicate tasks (releaseDuplicates) and, when messages
// is true (a Postgres message queue), gives abandoned messages back.
func runJanitor(ctx context.Context, dbURL string, messages bool, log *slog.Logger) error {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return fmt.Errorf("engine janitor: %w", err)
	}
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("engine janitor: %w", err)
	}
	defer pool.Close()
	r := &reclaimer{pool: pool, log: log}
	t := time.NewTicker(reclaimInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := releaseDuplicates(ctx, pool, log); err != nil && ctx.Err() == nil {
			log.Warn("engine: releasing duplicate tasks failed", "err", err)
		}
		if !messages {
			continue
		}
		if err := r.sweep(ctx); err != nil && ctx.Err() == nil {
			log.Warn("engine message queue: reclaim sweep failed", "err", err)
		}
	}
}
