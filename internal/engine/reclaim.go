//go:build !hatchet_external

package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// reclaimInterval is how often the reclaimer looks at Hatchet's Postgres
// message queue. A message still ASSIGNED one interval after it was first
// seen ASSIGNED counts as abandoned: its handler normally acks it within
// milliseconds, and Hatchet's own reader gives up on a batch after 60 s
// (queueutils.NewOperationPool in internal/msgqueue/postgres). The interval
// must stay well under the five minutes after which Hatchet drops a message
// (MessageQueueItem.expiresAt).
const reclaimInterval = 60 * time.Second

// reclaimer gives messages of Hatchet's Postgres message queue back to the
// queue when their handler failed. Hatchet's reader marks a message
// ASSIGNED in its own statement before handling it and deletes it only
// after the handler succeeds; a handler that fails (its database restarted
// under it) leaves the message ASSIGNED, and since only PENDING messages
// are read, nothing ever handles it again: a run's trigger, its read-model
// entry or a task's completion is lost. Putting the message back to
// PENDING gives the queue the at-least-once delivery Hatchet's RabbitMQ
// queue has (a failed handler's message is redelivered there too).
type reclaimer struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	seen []int64 // ids ASSIGNED at the previous sweep
}

// sweep puts back the messages ASSIGNED now and at the previous sweep, and
// remembers the ones ASSIGNED now.
func (r *reclaimer) sweep(ctx context.Context) error {
	rows, err := r.pool.Query(ctx, `SELECT id FROM "MessageQueueItem" WHERE status = 'ASSIGNED'`)
	if err != nil {
		return fmt.Errorf("list assigned messages: %w", err)
	}
	assigned, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("list assigned messages: %w", err)
	}
	stuck := abandoned(r.seen, assigned)
	r.seen = assigned
	if len(stuck) == 0 {
		return nil
	}
	n, err := requeue(ctx, r.pool, stuck)
	if err != nil {
		return err
	}
	if n > 0 {
		r.log.Warn("engine message queue: requeued messages whose handler failed", "messages", n)
	}
	return nil
}

// execer runs a statement: a pool or one connection.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// requeue puts the messages with ids, or every one when ids is nil, back
// from ASSIGNED to PENDING, to be read at once, and returns how many.
func requeue(ctx context.Context, db execer, ids []int64) (int64, error) {
	tag, err := db.Exec(ctx, `UPDATE "MessageQueueItem"
		SET status = 'PENDING', "readAfter" = now(), "expiresAt" = greatest("expiresAt", now() + interval '5 minutes')
		WHERE status = 'ASSIGNED' AND ($1::bigint[] IS NULL OR id = ANY($1))`, ids)
	if err != nil {
		return 0, fmt.Errorf("requeue abandoned messages: %w", err)
	}
	return tag.RowsAffected(), nil
}

// abandoned returns the ids in both sweeps' lists.
func abandoned(before, now []int64) []int64 {
	seen := make(map[int64]bool, len(before))
	for _, id := range before {
		seen[id] = true
	}
	var out []int64
	for _, id := range now {
		if seen[id] {
			out = append(out, id)
		}
	}
	return out
}
