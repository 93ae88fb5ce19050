// Package celery is the shim's legacy backend: it sends executions to the
// platform's Celery workers as their own tasks, over shim/celerybridge, and
// reads their results back.
package celery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
	"github.com/unstract/hatchet-worker/shim/route"
)

// Client is what the backend needs from the CeleryBridge client;
// *celerybridge.Client provides it.
type Client interface {
	Send(ctx context.Context, task string, args []any, kwargs map[string]any, opts ...celerybridge.SendOption) (string, error)
	Lookup(ctx context.Context, id string) (celerybridge.Result, error)
	LookupMany(ctx context.Context, ids []string) ([]celerybridge.Result, error)
	Revoke(ctx context.Context, id string) error
	Ready(ctx context.Context) error
}

// Backend runs executions as legacy Celery tasks; the Celery task id is the
// execution id, so the platform's logs and ours name the same thing.
type Backend struct {
	client Client
}

// New returns the Celery backend.
func New(c Client) *Backend { return &Backend{client: c} }

// publishTimeout bounds how long Submit waits for the broker's confirm, so a
// broker that stops answering yields a 503 (or the fallback) rather than a
// request that hangs.
const publishTimeout = 15 * time.Second

// Submit publishes the task and returns once the broker has confirmed it.
// While the bridge is reconnecting it fails at once with ErrUnavailable.
func (c *Backend) Submit(ctx context.Context, e shim.Execution, r route.Route, input json.RawMessage) (string, error) {
	if r.Legacy == nil {
		return "", shim.Fail(shim.ErrUnavailable, nil, "workflow %s has no legacy Celery task", r.Name)
	}
	args, kwargs, err := r.Legacy.Args(route.Call{ExecutionID: e.ID, OrganizationID: e.OrganizationID}, input)
	if err != nil {
		return "", shim.Fail(shim.ErrInvalidInput, err, "input cannot be mapped to the legacy task: %v", err)
	}
	if err := c.client.Ready(ctx); err != nil {
		return "", fmt.Errorf("%w: %w", shim.ErrUnavailable, err)
	}
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	id, err := c.client.Send(ctx, r.Legacy.Task, args, kwargs,
		celerybridge.WithTaskID(e.ID), celerybridge.WithQueue(r.Legacy.Queue))
	if errors.Is(err, celerybridge.ErrUnroutable) {
		return "", shim.Fail(shim.ErrUnavailable, fmt.Errorf("publish %s to %s: %w", r.Legacy.Task, r.Legacy.Queue, err),
			"the broker has no queue for this task: are the legacy Celery workers running?")
	}
	if err != nil {
		return "", fmt.Errorf("%w: publish %s to %s: %w", shim.ErrUnavailable, r.Legacy.Task, r.Legacy.Queue, err)
	}
	return id, nil
}

// Status reads the task's state from the result backend.
func (c *Backend) Status(ctx context.Context, e shim.Execution) (shim.Status, error) {
	res, err := c.client.Lookup(ctx, taskID(e))
	if err != nil {
		return shim.Status{}, fmt.Errorf("%w: look up celery task %s: %w", shim.ErrUnavailable, taskID(e), err)
	}
	return celeryStatus(e, res), nil
}

// Follow reads the tasks of es from the result backend in one round trip
// and returns the status of each the backend knows (not PENDING).
func (c *Backend) Follow(ctx context.Context, es []shim.Execution) ([]shim.Status, error) {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = taskID(e)
	}
	results, err := c.client.LookupMany(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("%w: look up %d celery tasks: %w", shim.ErrUnavailable, len(ids), err)
	}
	var out []shim.Status
	for i, res := range results {
		if res.State != celerybridge.StatePending {
			out = append(out, celeryStatus(es[i], res))
		}
	}
	return out, nil
}

// celeryStatus is e's status from its task's result.
// Observed adapts observe (shim.Tracker.Observe) to the bridge's result
// callback (celerybridge.Client.OnResult): each rpc:// reply becomes the
// status of the execution whose Celery task id it names.
func Observed(observe func(shim.Status)) func(celerybridge.Result) {
	return func(r celerybridge.Result) {
		observe(celeryStatus(shim.Execution{ID: r.TaskID, Backend: featureflag.BackendCelery}, r))
	}
}

// celeryStatus is e's status as the Celery result res tells it.
func celeryStatus(e shim.Execution, res celerybridge.Result) shim.Status {
	st := e.Status()
	st.BackendState = string(res.State)
	st.State = celeryState(res.State)
	if !res.DateDone.IsZero() && res.State.Final() {
		done := res.DateDone
		st.FinishedAt = &done
	}
	switch {
	case res.State == celerybridge.StateSuccess:
		st.Result = res.Value
	case res.Err() != nil:
		var te *celerybridge.TaskError
		if errors.As(res.Err(), &te) {
			st.Error = &shim.FailureInfo{Type: te.ExcType, Message: te.ExcMessage, Traceback: te.Traceback}
		}
	}
	return st
}

func celeryState(s celerybridge.State) string {
	switch s {
	case celerybridge.StateStarted, celerybridge.StateRetry:
		return shim.StateRunning
	case celerybridge.StateSuccess:
		return shim.StateSucceeded
	case celerybridge.StateFailure:
		return shim.StateFailed
	case celerybridge.StateRevoked:
		return shim.StateCancelled
	default:
		return shim.StateQueued
	}
}

// Cancel revokes the task on every worker, as Celery's control.revoke does:
// a task not yet started ends REVOKED; one already running finishes.
func (c *Backend) Cancel(ctx context.Context, e shim.Execution) error {
	if err := c.client.Revoke(ctx, taskID(e)); err != nil {
		return fmt.Errorf("%w: revoke celery task %s: %w", shim.ErrUnavailable, taskID(e), err)
	}
	return nil
}

// Ready reports whether the broker connection is live.
func (c *Backend) Ready(ctx context.Context) error { return c.client.Ready(ctx) }

// taskID is the Celery task id of e: its ref, which is its own id when the
// shim sent the task and the message's when the front door forwarded it.
func taskID(e shim.Execution) string {
	if e.BackendRef != "" {
		return e.BackendRef
	}
	return e.ID
}
