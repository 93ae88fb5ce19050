package shim

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/unstract/hatchet-worker/featureflag"
)

// submitUnclaimed runs a request that no idempotency key holds on Hatchet,
// whose runs report nothing the shim does not ask for: it submits first and
// records the accepted execution after, one store write where a claim takes
// two. A Hatchet that is down falls back, when the router allows, through
// a claim (a Celery result may arrive unasked). When the store cannot take
// the record within the attempt timeout, the run is cancelled, so the
// client's 503 means, as always, that nothing was accepted.
func (d *Dispatcher) submitUnclaimed(ctx context.Context, route Route, req ExecuteRequest, dec featureflag.Decision) (Accepted, error) {
	e := Execution{ID: uuid.NewString(), Workflow: route.Name, OrganizationID: req.OrganizationID, Backend: dec.Backend, Reason: dec.Reason}
	ref, err := d.attemptOn(context.WithoutCancel(ctx), e, route, req)
	if fb, ok := d.router.Fallback(dec); ok && errors.Is(err, ErrUnavailable) {
		d.log.WarnContext(ctx, "backend unavailable, falling back", "execution_id", e.ID, "from", e.Backend, "to", fb.Backend, "err", err)
		return d.claimAndSubmit(ctx, route, req, fb)
	}
	if err != nil {
		return Accepted{}, d.refused(ctx, e, err)
	}
	e.BackendRef = ref
	recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.recordMargin())
	defer cancel()
	err = d.untilStored(recordCtx, "record execution", e.ID, func(ctx context.Context) error {
		rec, err := d.store.Record(ctx, e)
		if err == nil {
			e = rec
		}
		return err
	})
	if err != nil {
		d.cancelUnrecorded(ctx, e, err)
		return Accepted{}, err
	}
	return Accepted{Execution: e}, nil
}

// cancelUnrecorded cancels e, accepted by its backend but not recorded
// because of cause.
func (d *Dispatcher) cancelUnrecorded(ctx context.Context, e Execution, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.attempt)
	defer cancel()
	log := d.log.With("execution_id", e.ID, "backend", e.Backend, "backend_ref", e.BackendRef, "cause", cause)
	b, err := d.backend(e.Backend)
	if err == nil {
		err = b.Cancel(ctx, e)
	}
	if err != nil {
		log.ErrorContext(ctx, "accepted work neither recorded nor cancelled: it runs without a record", "err", err)
		return
	}
	log.WarnContext(ctx, "accepted work not recorded, so cancelled")
}
