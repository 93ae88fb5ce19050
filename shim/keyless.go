package shim

import (
	"context"

	"github.com/google/uuid"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim/route"
)

// submitKeyless runs a keyless Hatchet request without a claim: the
// answer waits for the run and its record, written side by side; the run's
// id is recorded after the answer (docs/architecture.md: the keyless path).
func (d *Dispatcher) submitKeyless(ctx context.Context, rt route.Route, req ExecuteRequest, dec featureflag.Decision) (Accepted, error) {
	ctx = context.WithoutCancel(ctx) // the record and the run settle whether or not the client stays
	e := Execution{ID: uuid.NewString(), Workflow: rt.Name, OrganizationID: req.OrganizationID, Backend: dec.Backend, Reason: dec.Reason,
		Ingress: req.ingress()}
	recorded := make(chan recordResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, d.recordMargin())
		defer cancel()
		rec, err := d.store.Record(ctx, e)
		recorded <- recordResult{rec, err}
	}()
	ref, err := d.attemptOn(ctx, e, rt, req)
	r := <-recorded
	if err != nil {
		if r.err == nil {
			d.forget(ctx, e.ID)
		}
		if fb, ok := d.fallback(ctx, req, e, err); ok {
			return d.claimAndSubmit(ctx, rt, req, fb)
		}
		return Accepted{}, d.refused(ctx, e, err)
	}
	e.BackendRef = ref
	if r.err != nil {
		d.cancelUnrecorded(ctx, e, r.err)
		return Accepted{}, r.err
	}
	r.rec.BackendRef = ref
	d.fillRefLater(r.rec)
	return Accepted{Execution: r.rec}, nil
}

// recordResult is the outcome of a Store.Record.
type recordResult struct {
	rec Execution
	err error
}

// forget takes back the record of work its backend refused. A record left
// behind reads as not submitted (unknown after the lost-run window).
func (d *Dispatcher) forget(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(ctx, d.recordMargin())
	defer cancel()
	if err := d.untilStored(ctx, "forget unaccepted execution", id, func(ctx context.Context) error { return d.store.Forget(ctx, id) }); err != nil {
		d.log.ErrorContext(ctx, "forget unaccepted execution", "execution_id", id, "err", err)
	}
}

// fillRefLater records e's ref in the background, so that the answer does
// not wait for a second write. A ref that never arrives (the process
// killed, the store gone for the record margin) is found again from the
// run's execution_id metadata when the execution is read (adoptRef). Wait
// waits for these writes.
func (d *Dispatcher) fillRefLater(e Execution) {
	d.later.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), d.recordMargin())
		defer cancel()
		err := d.untilStored(ctx, "record backend ref", e.ID, func(ctx context.Context) error {
			_, err := d.store.FillRef(ctx, e.ID, e.BackendRef)
			return err
		})
		if err != nil {
			d.log.WarnContext(ctx, "backend ref not recorded; it is found again when the execution is read",
				"execution_id", e.ID, "backend_ref", e.BackendRef, "err", err)
		}
	})
}

// Wait waits until the background writes of accepted executions end (at
// most the record margin each). Call it once no request is in flight.
func (d *Dispatcher) Wait() { d.later.Wait() }

// cancelUnrecorded cancels e, accepted by its backend but not recorded
// because of cause.
func (d *Dispatcher) cancelUnrecorded(ctx context.Context, e Execution, cause error) {
	ctx, cancel := context.WithTimeout(ctx, d.attempt)
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
