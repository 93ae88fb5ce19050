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
	err := d.untilStored(ctx, "record backend ref", c, func(ctx context.Context) error { return d.store.SetRef(ctx, c, ref) })
	if err != nil {
		return fmt.Errorf("%s accepted execution %s as %s but it could not be recorded: %w", c.Backend, c.ID, ref, err)
	}
	return nil
}

// untilStored runs write until it succeeds, fails for another reason than a
// store outage, or ctx ends, backing off in between. Writes that settle a
// claim use it: given up at once, they would leave the claim to block
// retries with its key until its lease ends.
func (d *Dispatcher) untilStored(ctx context.Context, what string, c Claim, write func(context.Context) error) error {
	wait := 100 * time.Millisecond
	for {
		err := write(ctx)
		if err == nil || !errors.Is(err, ErrStoreUnavailable) {
			return err
		}
		d.log.WarnContext(ctx, "execution store unavailable, retrying", "op", what, "execution_id", c.ID, "err", err)
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
