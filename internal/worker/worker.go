//lint:file-ignore SA1019 the service runs pkg/worker's Worker itself: the SDK's own Start panics on any error of its background registration.

// Package worker runs the service's Hatchet worker under the caller's
// context: Run registers the workflows, takes tasks, and re-registers with
// capped backoff whenever the engine refuses the worker or the listener
// ends, until its context ends or Drain stops it. Drain first hands the
// worker over (paused at the engine, listening until the scheduler lets go
// of it), then waits for the running tasks. No path of the SDK can panic
// the process or end it.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	v0client "github.com/hatchet-dev/hatchet/pkg/client" //nolint:staticcheck // see the file comment
	pkgworker "github.com/hatchet-dev/hatchet/pkg/worker"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/logging"
	"github.com/unstract/hatchet-worker/internal/sdkconn"
)

// Worker is a Hatchet worker the caller runs (Run) and stops (Drain).
type Worker struct {
	name     string
	workflow []string
	slots    int
	labels   map[string]any
	metrics  *Metrics
	log      *slog.Logger
	sdk      *pkgworker.Worker
	pause    func(ctx context.Context, workerID string) error         // nil: Drain does not hand over
	released func(ctx context.Context, workerID string) (bool, error) // nil: wait a lease interval

	inflight sync.WaitGroup
	running  atomic.Int64

	mu         sync.Mutex    // guards the fields below
	stop       func()        // ends Run's listening; nil before Run
	done       chan struct{} // closed when Run returns
	drained    bool          // Drain was called: Run must not (re)start
	registered bool          // the engine accepted the current registration
	id         string        // the engine's id of the current registration
	lastErr    error         // why the last registration or listener ended
	waiters    []chan struct{}
}

// Option configures New.
type Option func(*Worker)

// WithMetrics records registrations and task durations in m.
func WithMetrics(m *Metrics) Option { return func(w *Worker) { w.metrics = m } }

// WithLabels gives the worker Hatchet worker labels, which runs can require
// (hatchet.WithDesiredWorkerLabels) to be executed by this worker only.
func WithLabels(labels map[string]any) Option { return func(w *Worker) { w.labels = labels } }

// WithReleased lets Drain ask the engine whether its scheduler has let go
// of a paused worker, so a drain ends as soon as it has rather than after a
// whole lease interval (engine.Embedded.WorkerReleased answers it).
func WithReleased(released func(ctx context.Context, workerID string) (bool, error)) Option {
	return func(w *Worker) { w.released = released }
}

// New prepares a worker called name for wfs, taking at most slots tasks at
// once (durable tasks have 1,000 slots of their own), and puts the
// workflows to the engine, as the SDK's NewWorker does; the worker connects
// and takes tasks only in Run.
func New(client *hatchet.Client, name string, slots int, wfs []*hatchet.Workflow, log *slog.Logger, opts ...Option) (*Worker, error) {
	v0, _, err := sdkconn.Of(client)
	if err != nil {
		return nil, fmt.Errorf("create worker %q: %w", name, err)
	}
	pause := func(ctx context.Context, id string) error {
		_, err := client.Workers().Pause(ctx, id)
		return err
	}
	return newWorker(v0, name, slots, wfs, log, append([]Option{withPause(pause)}, opts...)...)
}

// newWorker is New on the SDK's v0 client.
func newWorker(v0 v0client.Client, name string, slots int, wfs []*hatchet.Workflow, log *slog.Logger, opts ...Option) (*Worker, error) {
	w := &Worker{name: name, slots: slots, log: log, done: make(chan struct{})}
	for _, o := range opts {
		o(w)
	}
	zl := logging.Zerolog(log, "hatchet-worker", zerolog.WarnLevel)
	observed := &observedClient{Client: v0}
	observed.dispatcher = observedDispatcher{DispatcherClient: v0.Dispatcher(), listening: w.listening}
	if err := w.build(observed, wfs, zl); err != nil {
		return nil, fmt.Errorf("create worker %q: %w", name, err)
	}
	return w, nil
}

// Start is New, then Run in a goroutine of the worker's own, which Drain
// ends and waits for.
func Start(client *hatchet.Client, name string, slots int, wfs []*hatchet.Workflow, log *slog.Logger, opts ...Option) (*Worker, error) {
	w, err := New(client, name, slots, wfs, log, opts...)
	if err != nil {
		return nil, err
	}
	started := make(chan struct{})
	go func() {
		_ = w.run(context.Background(), func() { close(started) }) // logs its own failures
	}()
	<-started
	return w, nil
}

// build creates the SDK worker on client and registers the workflows'
// tasks, as the SDK's own NewWorker does.
func (w *Worker) build(client v0client.Client, wfs []*hatchet.Workflow, zl *zerolog.Logger) error {
	slotConfig := map[string]int32{"default": int32(w.slots)} // #nosec G115 -- checked by config (1–10000)
	var registrations []func() error
	for _, wf := range wfs {
		req, regular, durable, onFailure := wf.Dump()
		w.workflow = append(w.workflow, wf.GetName())
		if len(durable) > 0 {
			slotConfig["durable"] = durableSlots
		}
		registrations = append(registrations, func() error { return w.sdk.RegisterWorkflowV1(req) })
		// Durable tasks run as ordinary ones, as the SDK runs them on an
		// engine without durable eviction: its durable-task stream and
		// eviction manager are internal to the SDK, and a context told that
		// the engine evicts without a manager to act on it loses its
		// children's results (TestWorkflowExecutionsOutnumberSlots).
		for _, f := range slices.Concat(regular, durable) {
			registrations = append(registrations, func() error { return w.sdk.RegisterAction(f.ActionID, f.Fn) })
		}
		if req.OnFailureTask != nil && onFailure != nil {
			registrations = append(registrations, func() error { return w.sdk.RegisterAction(req.OnFailureTask.Action, onFailure) })
		}
	}
	opts := []pkgworker.WorkerOpt{pkgworker.WithClient(client), pkgworker.WithName(w.name),
		pkgworker.WithSlotConfig(slotConfig), pkgworker.WithLogger(zl)}
	if w.labels != nil {
		opts = append(opts, pkgworker.WithLabels(w.labels))
	}
	var err error
	if w.sdk, err = pkgworker.NewWorker(opts...); err != nil {
		return err
	}
	for _, register := range registrations {
		if err := register(); err != nil {
			return err
		}
	}
	w.sdk.Use(w.track)
	return nil
}

// durableSlots is the number of durable task slots, as the SDK's default.
const durableSlots = 1000

// Registration backoff: the wait before re-registering after a failure
// doubles from retryMin up to retryMax; a registration that held for
// retryReset starts the sequence over.
const (
	retryMin   = time.Second
	retryMax   = 30 * time.Second
	retryReset = time.Minute
)

// Run registers the worker and takes tasks until ctx ends or Drain is
// called, re-registering with capped backoff whenever the engine refuses
// the worker or the listener ends. It returns nil then; tasks still
// running go on until they finish (Drain waits for them).
func (w *Worker) Run(ctx context.Context) error { return w.run(ctx, func() {}) }

// run is Run, calling started once the worker can be stopped.
func (w *Worker) run(ctx context.Context, started func()) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	w.mu.Lock()
	switch {
	case w.stop != nil:
		w.mu.Unlock()
		started()
		return errors.New("worker: Run called twice")
	case w.drained:
		w.mu.Unlock()
		started()
		return nil
	}
	w.stop = stop
	w.mu.Unlock()
	started()
	defer close(w.done)
	for delay := retryMin; ; {
		began := time.Now()
		err := w.listen(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(began) > retryReset {
			delay = retryMin
		}
		w.ended(err, delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, retryMax)
	}
}

// listen is one registration: the SDK's blocking Run, with a panic of its
// own goroutine turned into an error.
func (w *Worker) listen(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("hatchet worker panicked: %v", r)
		}
	}()
	err = w.sdk.Run(ctx)
	if err == nil && ctx.Err() == nil {
		err = errors.New("listener closed by the engine")
	}
	return err
}

// listening records the outcome of one registration with the engine.
func (w *Worker) listening(id string, err error) {
	for _, name := range w.workflow {
		w.metrics.Registered(name, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.lastErr = err
		return
	}
	w.registered, w.id, w.lastErr = !w.drained, id, nil
	for _, ch := range w.waiters {
		close(ch)
	}
	w.waiters = nil
	w.log.Info("worker registered", "worker", w.name, "worker_id", id, "workflows", len(w.workflow), "slots", w.slots)
}

// ended records that a registration ended with err, to be retried after
// delay.
func (w *Worker) ended(err error, delay time.Duration) {
	w.mu.Lock()
	was := w.registered
	w.registered, w.lastErr = false, err
	w.mu.Unlock()
	msg := "hatchet worker not registered; retrying"
	if was {
		msg = "hatchet worker stopped listening; registering again"
	}
	w.log.Warn(msg, "worker", w.name, "err", err, "retry_in", delay)
}

// track is SDK middleware counting tasks in flight.
func (w *Worker) track(ctx pkgworker.HatchetContext, next func(pkgworker.HatchetContext) error) error {
	w.inflight.Add(1)
	w.running.Add(1)
	defer func() {
		w.running.Add(-1)
		w.inflight.Done()
	}()
	began := time.Now()
	err := next(ctx)
	w.metrics.taskDone(ctx.ActionId(), err, time.Since(began))
	return err
}

// Running returns the number of tasks executing now.
func (w *Worker) Running() int64 { return w.running.Load() }

// Ready reports whether the engine has accepted the worker and it is
// taking tasks; its error says why not.
func (w *Worker) Ready(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.registered:
		return nil
	case w.lastErr != nil:
		return fmt.Errorf("worker not registered: %w", w.lastErr)
	}
	return errors.New("worker not registered yet")
}

// WaitRegistered returns once the engine has accepted the worker, or
// ctx's error when it ends first.
func (w *Worker) WaitRegistered(ctx context.Context) error {
	w.mu.Lock()
	if w.registered {
		w.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	w.waiters = append(w.waiters, ch)
	w.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("worker %q not registered: %w", w.name, ctx.Err())
	}
}

// Drain stops taking new tasks, then waits until the running ones finish
// or ctx ends. A registered worker first hands over (see handOver); then
// Run returns. Tasks cut off by ctx are retried by the engine elsewhere.
func (w *Worker) Drain(ctx context.Context) error {
	w.mu.Lock()
	stop, id, was := w.stop, w.id, w.registered
	w.drained, w.registered = true, false
	w.mu.Unlock()
	if was {
		w.handOver(ctx, id)
	}
	if stop != nil {
		stop()
		w.awaitUnregistered(ctx)
	}
	n := w.running.Load()
	if n > 0 {
		w.log.Info("draining tasks in flight", "tasks", n)
	}
	began := time.Now()
	done := make(chan struct{})
	go func() { w.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		if n := w.running.Load(); n > 0 {
			return fmt.Errorf("drain %d tasks: %w", n, ctx.Err())
		}
	}
	w.log.Info("worker drained", "worker", w.name, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// unregisterWait bounds how long Drain waits for Run to return: it
// unregisters the worker from the engine, which an unreachable engine
// delays by the SDK's retries.
const unregisterWait = 5 * time.Second

// awaitUnregistered waits for Run to return, at most unregisterWait.
func (w *Worker) awaitUnregistered(ctx context.Context) {
	t := time.NewTimer(unregisterWait)
	defer t.Stop()
	select {
	case <-w.done:
	case <-ctx.Done():
	case <-t.C:
		w.log.Warn("worker did not unregister in time; draining its tasks anyway", "worker", w.name, "waited", unregisterWait)
	}
}
