//go:build !hatchet_external

package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A trigger the engine retries after a commit it saw fail, though the
// commit happened (its database restarted during the commit: the admin
// service then falls back from optimistic scheduling to its message queue,
// and a message whose ack was lost is handled again), creates the run's
// tasks a second time with the same external ids. The run's lookup entry
// names the first; the second is a duplicate nobody can finish: a worker's
// report for its external id lands on the first. Until it times out, and
// after each retry, it holds its concurrency slot and a worker slot, so a
// concurrency key with five duplicates runs nothing for minutes at a time.
//
// duplicatesSQL lists the duplicate tasks that hold scheduling state: a
// concurrency slot, a queue item, a retry queue item or a runtime. Those
// tables hold only live work, so the sweep reads little however many runs
// the engine keeps.
const duplicatesSQL = `WITH live AS (
		SELECT task_id, task_inserted_at FROM v1_concurrency_slot
		UNION SELECT task_id, task_inserted_at FROM v1_queue_item
		UNION SELECT task_id, task_inserted_at FROM v1_retry_queue_item
		UNION SELECT task_id, task_inserted_at FROM v1_task_runtime
	)
	SELECT t.id, t.inserted_at FROM live
	JOIN v1_task t ON t.id = live.task_id AND t.inserted_at = live.task_inserted_at
	JOIN v1_lookup_table l ON l.external_id = t.external_id
	WHERE l.task_id IS NOT NULL AND l.task_id <> t.id`

// releasedTables hold the scheduling state of a task, in the order the
// engine's own release takes their locks.
var releasedTables = []string{"v1_task_runtime_slot", "v1_task_runtime", "v1_retry_queue_item", "v1_queue_item", "v1_concurrency_slot"}

// releaseSQL deletes the rows of table for the tasks $1 (ids), $2
// (inserted_at).
func releaseSQL(table string) string {
	return `DELETE FROM ` + table + ` WHERE (task_id, task_inserted_at) IN (SELECT * FROM unnest($1::bigint[], $2::timestamptz[]))`
}

// releaseDuplicates frees what duplicate tasks hold (see duplicatesSQL),
// in one transaction. The duplicate task rows stay, inert; the run goes on
// as its first task.
func releaseDuplicates(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, duplicatesSQL)
		if err != nil {
			return fmt.Errorf("list duplicate tasks: %w", err)
		}
		var ids []int64
		var inserted []time.Time
		var id int64
		var at time.Time
		_, err = pgx.ForEachRow(rows, []any{&id, &at}, func() error {
			ids, inserted = append(ids, id), append(inserted, at)
			return nil
		})
		if err != nil || len(ids) == 0 {
			return err
		}
		for _, table := range releasedTables {
			if _, err := tx.Exec(ctx, releaseSQL(table), ids, inserted); err != nil {
				return fmt.Errorf("release duplicate tasks from %s: %w", table, err)
			}
		}
		log.Warn("engine: released duplicate tasks of runs the engine created twice (a trigger retried across a database restart)",
			"tasks", len(ids))
		return nil
	})
}
