// Package worker runs the service's Hatchet worker: it registers the
// workflows, counts tasks in flight, and on shutdown stops taking new tasks
// and waits for the running ones to finish before the client closes.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	pkgworker "github.com/hatchet-dev/hatchet/pkg/worker"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/logging"
)

// Worker is a started Hatchet worker.
type Worker struct {
	name     string
	metrics  *Metrics
	stop     func() error
	inflight sync.WaitGroup
	running  atomic.Int64
	started  atomic.Bool
	log      *slog.Logger
	labels   map[string]any
}

// Option configures Start.
type Option func(*Worker)

// WithMetrics records registrations and task durations in m.
func WithMetrics(m *Metrics) Option { return func(w *Worker) { w.metrics = m } }

// WithLabels gives the worker Hatchet worker labels, which runs can require
// (hatchet.WithDesiredWorkerLabels) to be executed by this worker only.
func WithLabels(labels map[string]any) Option { return func(w *Worker) { w.labels = labels } }

// Start registers workflows with the engine under name and starts taking
// tasks, using at most slots tasks at once.
func Start(client *hatchet.Client, name string, slots int, wfs []*hatchet.Workflow, log *slog.Logger, opts ...Option) (*Worker, error) {
	bases := make([]hatchet.WorkflowBase, len(wfs))
	for i, wf := range wfs {
		bases[i] = wf
	}
	w := &Worker{name: name, log: log}
	for _, o := range opts {
		o(w)
	}
	sdkOpts := []hatchet.WorkerOption{
		hatchet.WithWorkflows(bases...),
		hatchet.WithSlots(slots),
		hatchet.WithLogger(logging.Zerolog(log, "hatchet-worker", zerolog.WarnLevel)),
	}
	if w.labels != nil {
		sdkOpts = append(sdkOpts, hatchet.WithLabels(w.labels))
	}
	sdk, err := client.NewWorker(name, sdkOpts...)
	if err != nil {
		return nil, fmt.Errorf("create worker %q: %w", name, err)
	}
	sdk.Use(w.track)
	stop, err := sdk.Start()
	for _, wf := range wfs {
		w.metrics.Registered(wf.GetName(), err)
	}
	if err != nil {
		return nil, fmt.Errorf("start worker %q: %w", name, err)
	}
	w.stop = stop
	w.started.Store(true)
	log.Info("worker registered", "worker", name, "workflows", len(wfs), "slots", slots)
	return w, nil
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

// Ready reports whether the worker is registered and taking tasks.
func (w *Worker) Ready(context.Context) error {
	if !w.started.Load() {
		return errors.New("worker not registered")
	}
	return nil
}

// Drain stops taking new tasks and waits until the running ones finish or
// ctx ends. Tasks cut off by ctx are retried by the engine elsewhere.
func (w *Worker) Drain(ctx context.Context) error {
	w.started.Store(false)
	stopErr := w.stop()
	n := w.running.Load()
	if n > 0 {
		w.log.Info("draining tasks in flight", "tasks", n)
	}
	began := time.Now()
	done := make(chan struct{})
	go func() { w.inflight.Wait(); close(done) }()
	select {
	case <-done:
		w.log.Info("worker drained", "worker", w.name, "took", time.Since(began).Round(time.Millisecond))
		return stopErr
	case <-ctx.Done():
		return errors.Join(stopErr, fmt.Errorf("drain %d tasks: %w", w.running.Load(), ctx.Err()))
	}
}
