package frontdoor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
	"github.com/unstract/hatchet-worker/shim/route"
)

// Caller is the Celery caller of a task the front door ran on Hatchet: what
// its result is stored under and with.
type Caller struct {
	TaskID string
	Task   string
	Queue  string
	// Args and Kwargs are the call's arguments (JSON, as sent).
	Args, Kwargs json.RawMessage
	Retries      int
	// ReplyTo is the caller's rpc:// reply queue, if it has one.
	ReplyTo string
	// IgnoreResult is set when the caller wants no result stored.
	IgnoreResult bool
}

// Awaited is a finished execution whose Celery caller awaits its result.
type Awaited struct {
	Execution shim.Execution
	Caller    Caller
}

// Results keeps the callers of the tasks the front door ran on Hatchet
// (*store.Postgres): for their results, and for revokes.
type Results interface {
	// Await records the execution's caller; again for the same execution
	// changes nothing.
	Await(ctx context.Context, executionID string, c Caller) error
	// ExecutionOf returns the execution of the task with taskID, false
	// when the front door ran none.
	ExecutionOf(ctx context.Context, taskID string) (string, bool, error)
	// Finished returns at most limit finished executions whose callers
	// await results not stored yet, the earliest finished first.
	Finished(ctx context.Context, limit int) ([]Awaited, error)
	// Written records that the execution's result is stored.
	Written(ctx context.Context, executionID string) error
}

// ResultStore stores a Celery result where the caller reads it
// (*celerybridge.Client).
type ResultStore interface {
	StoreResult(ctx context.Context, r celerybridge.StoredResult) error
}

// Exception types of the Celery results of Hatchet runs that did not
// succeed. Python's AsyncResult.get() raises an exception of that name.
const (
	// ExcWorkflowFailed is a run that failed; its message is the run's error.
	ExcWorkflowFailed = "WorkflowFailed"
	// ExcModule is the module the exceptions are reported from; Python,
	// which cannot import it, recreates the type by name.
	ExcModule = "hatchet_worker"
)

// resultsBatch bounds the results one pass of WriteResults stores.
const resultsBatch = 100

// WithResults has the front door keep the caller of each task it runs on
// Hatchet in results, and WriteResults store the task's Celery result
// through store once its execution has finished.
func WithResults(results Results, store ResultStore) Option {
	return func(d *Door) { d.results, d.store = results, store }
}

// WriteResults stores, every interval until ctx ends, the Celery result of
// each task the front door ran on Hatchet whose execution has finished, in
// Celery's own format, so the caller's AsyncResult(task_id) reads it as it
// read a worker's. A result it cannot store now is tried again.
func (d *Door) WriteResults(ctx context.Context, interval time.Duration) error {
	if d.results == nil {
		return nil
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if d.writeFinished(ctx) == resultsBatch {
			continue // more are waiting
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// writeFinished stores the results of executions finished so far and
// returns how many it found.
func (d *Door) writeFinished(ctx context.Context) int {
	awaited, err := d.results.Finished(ctx, resultsBatch)
	if err != nil {
		if ctx.Err() == nil {
			d.log.WarnContext(ctx, "front door: read finished executions", "err", err)
		}
		return 0
	}
	for _, a := range awaited {
		d.write(ctx, a)
	}
	return len(awaited)
}

// write stores one result. An rpc:// caller whose reply queue is gone
// gets none, as from a Celery worker.
func (d *Door) write(ctx context.Context, a Awaited) {
	r, err := d.storedResult(ctx, a)
	if err == nil {
		err = d.store.StoreResult(ctx, r)
	}
	if errors.Is(err, celerybridge.ErrUnroutable) {
		d.log.InfoContext(ctx, "front door: the task's caller is gone; result dropped", "task_id", r.TaskID, "err", err)
		err = nil
	}
	if err != nil {
		d.metrics.results.WithLabelValues(string(r.State), "failed").Inc()
		d.log.WarnContext(ctx, "front door: store result; retrying", "task_id", r.TaskID, "execution_id", a.Execution.ID, "err", err)
		return
	}
	if err := d.results.Written(ctx, a.Execution.ID); err != nil {
		d.log.WarnContext(ctx, "front door: record stored result", "task_id", r.TaskID, "err", err)
		return
	}
	d.metrics.results.WithLabelValues(string(r.State), "stored").Inc()
	d.log.DebugContext(ctx, "front door: result stored", "task_id", r.TaskID, "execution_id", a.Execution.ID, "state", r.State)
}

// storedResult is the Celery result of a finished execution.
func (d *Door) storedResult(ctx context.Context, a Awaited) (celerybridge.StoredResult, error) {
	e, c := a.Execution, a.Caller
	r := celerybridge.StoredResult{Name: c.Task, Args: c.Args, Kwargs: c.Kwargs, Queue: c.Queue, Retries: c.Retries,
		Worker: d.worker, ReplyTo: c.ReplyTo}
	r.TaskID = c.TaskID
	if e.FinishedAt != nil {
		r.DateDone = *e.FinishedAt
	}
	switch e.State {
	case shim.StateSucceeded:
		output, err := d.output(ctx, e)
		if err != nil {
			return r, err
		}
		r.State, r.Value = celerybridge.StateSuccess, d.value(e, output)
	case shim.StateCancelled:
		r.State, r.Value = celerybridge.StateRevoked, celerybridge.ExceptionValue("TaskRevokedError", "celery.exceptions", "revoked")
	default:
		exc := d.raised(e)
		if e.Error != nil {
			r.Traceback = e.Error.Traceback
		}
		r.State, r.Value = celerybridge.StateFailure, celerybridge.ExceptionValue(exc.Type, exc.Module, exc.Message)
	}
	return r, nil
}

// raised is the exception a failed execution raises for its caller: the
// one its route's legacy task raises for the run's error, or WorkflowFailed.
func (d *Door) raised(e shim.Execution) route.Exception {
	msg := "the run ended " + e.State
	if e.Error != nil {
		msg = e.Error.Message
	}
	if lt := d.byName[e.Workflow].Legacy; lt != nil && lt.Raises != nil {
		if exc, ok := lt.Raises(msg); ok {
			return exc
		}
	}
	return route.Exception{Type: ExcWorkflowFailed, Module: ExcModule, Message: msg}
}

// output is a succeeded execution's result: the one its record keeps, or,
// for a result too large to keep there, the one its backend shows.
func (d *Door) output(ctx context.Context, e shim.Execution) (json.RawMessage, error) {
	if len(e.Result) > 0 {
		return e.Result, nil
	}
	st, err := d.dispatch.Status(ctx, e.ID)
	if err != nil {
		return nil, fmt.Errorf("read the result of execution %s: %w", e.ID, err)
	}
	return st.Result, nil
}

// value is the Celery return value of a succeeded execution with output:
// the output as the route's legacy task returns it.
func (d *Door) value(e shim.Execution, output json.RawMessage) json.RawMessage {
	rt := d.byName[e.Workflow]
	if rt.Legacy == nil || rt.Legacy.Result == nil {
		return output
	}
	v, err := rt.Legacy.Result(output)
	if err != nil {
		d.log.Warn("front door: result as the legacy task returns it", "execution_id", e.ID, "err", err)
		return output
	}
	return v
}
