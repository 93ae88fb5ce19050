package shim

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// refRetryMax caps the wait between two attempts of a store write while
// the store's database restarts.
const refRetryMax = 2 * time.Second

// recordRef stores ref for the claim once the backend has accepted the
// work. The work exists now, so a store outage is retried until ctx ends
// (the claim's lease, which keeps the record margin for this) rather than
// answered at once: a client retry would otherwise submit the same work a
// second time. When the store stays away the answer is a 503 and the claim
// keeps no reference (a retry after its lease submits again).
func (d *Dispatcher) recordRef(ctx context.Context, c Claim, ref string) error {
	err := d.untilStored(ctx, "record backend ref", c.ID, func(ctx context.Context) error { return d.store.SetRef(ctx, c, ref) })
	if err != nil {
		return fmt.Errorf("%s accepted execution %s as %s but it could not be recorded: %w", c.Backend, c.ID, ref, err)
	}
	return nil
}

// untilStored runs write until it succeeds, fails for another reason than a
// store outage, or ctx ends, backing off in between (docs/architecture.md:
// writes that settle a record).
func (d *Dispatcher) untilStored(ctx context.Context, what, id string, write func(context.Context) error) error {
	wait := 100 * time.Millisecond
	for {
		err := write(ctx)
		if err == nil || !errors.Is(err, ErrStoreUnavailable) {
			return err
		}
		d.log.WarnContext(ctx, "execution store unavailable, retrying", "op", what, "execution_id", id, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, refRetryMax)
	}
}

// noteUnknown records, once per execution, that its backend cannot show it
// any more: it counts it in shim_executions_unknown_total and logs why.
func (d *Dispatcher) noteUnknown(ctx context.Context, e Execution, st Status) {
	first, err := d.store.MarkUnknown(ctx, e.ID)
	if err != nil {
		d.log.WarnContext(ctx, "record unknown execution", "execution_id", e.ID, "err", err)
		return
	}
	if !first {
		return
	}
	reason := ""
	if st.Error != nil {
		reason = st.Error.Type
	}
	d.metrics.unknown.WithLabelValues(e.Workflow, string(e.Backend), reason).Inc()
	d.log.ErrorContext(ctx, "execution unknown to its backend", "execution_id", e.ID, "workflow", e.Workflow,
		"backend", e.Backend, "backend_ref", e.BackendRef, "reason", reason, "created_at", e.CreatedAt)
}

// finish records st, a terminal status, as e's outcome; the call that
// records it counts it in shim_executions_finished_total and
// shim_execution_duration_seconds and logs it. A store error is logged:
// tracking or the next status read records it later.
func (d *Dispatcher) finish(ctx context.Context, e Execution, st Status) {
	rec, first, err := d.store.Finish(ctx, e, outcomeOf(st))
	if err != nil {
		d.log.WarnContext(ctx, "record execution outcome", "execution_id", e.ID, "err", err)
		return
	}
	if first {
		d.counted(ctx, rec)
	}
}

// counted counts and logs rec, an execution whose outcome was just recorded.
func (d *Dispatcher) counted(ctx context.Context, rec Execution) {
	d.metrics.finished.WithLabelValues(rec.Workflow, string(rec.Backend), rec.State).Inc()
	d.metrics.duration.WithLabelValues(rec.Workflow, string(rec.Backend)).Observe(rec.DurationSeconds)
	d.log.InfoContext(ctx, "execution finished", "execution_id", rec.ID, "workflow", rec.Workflow, "backend", rec.Backend,
		"status", rec.State, "duration", time.Duration(rec.DurationSeconds*float64(time.Second)).Round(time.Millisecond))
}
