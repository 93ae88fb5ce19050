package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
)

// List returns the accepted executions q selects, newest first (keyset
// paging on created_at and id, served by the executions_created index).
func (s *Postgres) List(ctx context.Context, q shim.ListQuery) ([]shim.Execution, error) {
	where, args := []string{"backend_ref <> ''"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	for _, f := range []struct {
		col, val string
	}{{"workflow", q.Workflow}, {"backend", string(q.Backend)}, {"state", q.Status}, {"organization_id", q.OrganizationID}} {
		if f.val != "" {
			add(f.col+" = $%d", f.val)
		}
	}
	if !q.Since.IsZero() {
		add("created_at >= $%d", q.Since)
	}
	if q.After != nil {
		args = append(args, q.After.CreatedAt, q.After.ID)
		where = append(where, fmt.Sprintf("(created_at, id) < ($%d, $%d::uuid)", len(args)-1, len(args)))
	}
	args = append(args, q.Limit)
	rows, err := s.pool.Query(ctx, `SELECT `+executionColumns+` FROM hatchet_worker.executions
		WHERE `+strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, storeErr("list executions", err)
	}
	es, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shim.Execution, error) { return scanExecution(r) })
	if err != nil {
		return nil, storeErr("list executions", err)
	}
	return es, nil
}

// Stats counts the accepted executions since, by workflow, backend and
// state, with the p50 and p95 queue-to-finish durations of the succeeded
// ones: two grouped queries over the window.
func (s *Postgres) Stats(ctx context.Context, since time.Time) ([]shim.BackendStats, error) {
	byKey := map[[2]string]*shim.BackendStats{}
	var out []*shim.BackendStats
	get := func(w string, b featureflag.Backend) *shim.BackendStats {
		k := [2]string{w, string(b)}
		if byKey[k] == nil {
			byKey[k] = &shim.BackendStats{Workflow: w, Backend: b, Counts: map[string]int{}}
			out = append(out, byKey[k])
		}
		return byKey[k]
	}
	if err := s.countStates(ctx, since, get); err != nil {
		return nil, err
	}
	if err := s.percentiles(ctx, since, get); err != nil {
		return nil, err
	}
	stats := make([]shim.BackendStats, len(out))
	for i, b := range out {
		stats[i] = *b
	}
	return stats, nil
}

// countStates adds the executions since to the stats get returns.
func (s *Postgres) countStates(ctx context.Context, since time.Time, get func(string, featureflag.Backend) *shim.BackendStats) error {
	rows, err := s.pool.Query(ctx, `SELECT workflow, backend, state, count(*) FROM hatchet_worker.executions
		WHERE created_at >= $1 AND backend_ref <> '' GROUP BY 1, 2, 3`, since)
	if err != nil {
		return storeErr("count executions", err)
	}
	var w, state string
	var b featureflag.Backend
	var n int
	_, err = pgx.ForEachRow(rows, []any{&w, &b, &state, &n}, func() error {
		st := get(w, b)
		st.Counts[state] += n
		st.Total += n
		return nil
	})
	if err != nil {
		return storeErr("count executions", err)
	}
	return nil
}

// percentiles sets the duration percentiles of the succeeded executions since.
func (s *Postgres) percentiles(ctx context.Context, since time.Time, get func(string, featureflag.Backend) *shim.BackendStats) error {
	rows, err := s.pool.Query(ctx, `SELECT workflow, backend,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at)),
			percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at))
		FROM hatchet_worker.executions
		WHERE created_at >= $1 AND state = 'succeeded' AND finished_at IS NOT NULL GROUP BY 1, 2`, since)
	if err != nil {
		return storeErr("duration percentiles", err)
	}
	var w string
	var b featureflag.Backend
	var p50, p95 float64
	_, err = pgx.ForEachRow(rows, []any{&w, &b, &p50, &p95}, func() error {
		st := get(w, b)
		st.P50Seconds, st.P95Seconds = new(p50), new(p95)
		return nil
	})
	if err != nil {
		return storeErr("duration percentiles", err)
	}
	return nil
}

// Series counts the accepted executions since in step-long buckets, by
// workflow and backend: one grouped query (date_bin) over the window.
func (s *Postgres) Series(ctx context.Context, since time.Time, step time.Duration) ([]shim.Point, error) {
	rows, err := s.pool.Query(ctx, `SELECT workflow, backend, date_bin($2 * interval '1 millisecond', created_at, $1) AS at,
			count(*), count(*) FILTER (WHERE state = 'succeeded'), count(*) FILTER (WHERE state = 'failed')
		FROM hatchet_worker.executions
		WHERE created_at >= $1 AND backend_ref <> '' GROUP BY 1, 2, 3 ORDER BY 3`, since, step.Milliseconds())
	if err != nil {
		return nil, storeErr("execution series", err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shim.Point, error) {
		var p shim.Point
		err := r.Scan(&p.Workflow, &p.Backend, &p.At, &p.Total, &p.Succeeded, &p.Failed)
		return p, err
	})
	if err != nil {
		return nil, storeErr("execution series", err)
	}
	return ps, nil
}
