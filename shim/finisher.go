package shim

import (
	"context"
	"log/slog"
	"time"
)

// finisher records executions' outcomes, for status reads and tracking
// alike: it writes them, counts them and logs them.
type finisher struct {
	store   Outcomes
	metrics *dispatchMetrics
	log     *slog.Logger
}

// noteUnknown records, once per execution, that its backend cannot show it
// any more: it counts it in shim_executions_unknown_total and logs why.
func (f finisher) noteUnknown(ctx context.Context, e Execution, st Status) {
	first, err := f.store.MarkUnknown(ctx, e.ID)
	if err != nil {
		f.log.WarnContext(ctx, "record unknown execution", "execution_id", e.ID, "err", err)
		return
	}
	if !first {
		return
	}
	reason := ""
	if st.Error != nil {
		reason = st.Error.Type
	}
	f.metrics.unknown.WithLabelValues(e.Workflow, string(e.Backend), reason).Inc()
	f.log.ErrorContext(ctx, "execution unknown to its backend", "execution_id", e.ID, "workflow", e.Workflow,
		"backend", e.Backend, "backend_ref", e.BackendRef, "reason", reason, "created_at", e.CreatedAt)
}

// finish records st, a terminal status, as e's outcome; the call that
// records it counts it in shim_executions_finished_total and
// shim_execution_duration_seconds and logs it. A store error is logged:
// tracking or the next status read records it later. It returns the
// record, or e when it could not be written.
func (f finisher) finish(ctx context.Context, e Execution, st Status) Execution {
	rec, first, err := f.store.Finish(ctx, e, outcomeOf(st))
	if err != nil {
		f.log.WarnContext(ctx, "record execution outcome", "execution_id", e.ID, "err", err)
		return e
	}
	if first {
		f.counted(ctx, rec)
	}
	return rec
}

// counted counts and logs rec, an execution whose outcome was just recorded.
func (f finisher) counted(ctx context.Context, rec Execution) {
	f.metrics.finished.WithLabelValues(rec.Workflow, string(rec.Backend), rec.State).Inc()
	f.metrics.duration.WithLabelValues(rec.Workflow, string(rec.Backend)).Observe(rec.DurationSeconds)
	f.log.InfoContext(ctx, "execution finished", "execution_id", rec.ID, "workflow", rec.Workflow, "backend", rec.Backend,
		"status", rec.State, "duration", time.Duration(rec.DurationSeconds*float64(time.Second)).Round(time.Millisecond))
}
