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
