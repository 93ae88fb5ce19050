//go:build integration

package worker_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/unstract/hatchet-worker/internal/engine"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/internal/worker"
)

type empty struct{}

// gated is a one-task workflow whose task signals started, then waits for
// release (or its own cancellation).
func gated(client *hatchet.Client, name string, started chan<- struct{}, release <-chan struct{}) *hatchet.Workflow {
	wf := client.NewWorkflow(name)
	wf.NewTask("wait", func(ctx hatchet.Context, _ empty) (empty, error) {
		started <- struct{}{}
		select {
		case <-release:
			return empty{}, nil
		case <-ctx.Done():
			return empty{}, ctx.Err()
		}
	}, hatchet.WithExecutionTimeout(time.Minute))
	return wf
}

// startGated starts a worker for a gated workflow and one run of it, and
// returns once the task is running.
func startGated(t *testing.T, name string, m *worker.Metrics) (*worker.Worker, chan struct{}) {
	t.Helper()
	conn := hatchettest.Engine(t)
	client := conn.Client
	started, release := make(chan struct{}, 1), make(chan struct{})
	w := startRegistered(t, conn, name+"-worker", 2, gated(client, name, started, release), worker.WithMetrics(m))
	if err := w.Ready(t.Context()); err != nil {
		t.Fatalf("Ready once registered: %v", err)
	}
	if _, err := client.RunNoWait(t.Context(), name, empty{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("task did not start within 30s")
	}
	if n := w.Running(); n != 1 {
		t.Fatalf("Running() = %d with one task in flight, want 1", n)
	}
	return w, release
}

// startRegistered starts a worker called name for wf on conn's engine,
// handing over as the service's does, and waits until it is registered.
func startRegistered(t *testing.T, conn *engine.Conn, name string, slots int, wf *hatchet.Workflow, opts ...worker.Option) *worker.Worker {
	t.Helper()
	opts = append([]worker.Option{worker.WithReleased(conn.Embedded.WorkerReleased)}, opts...)
	w, err := worker.Start(conn.Client, name, slots, []*hatchet.Workflow{wf}, slog.Default(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := w.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestDrainWaitsForRunningTask checks Drain returns only after the task in
// flight finished, records it, and leaves the worker not ready.
func TestDrainWaitsForRunningTask(t *testing.T) {
	m := worker.NewMetrics(prometheus.NewRegistry())
	w, release := startGated(t, "worker-test-drain", m)

	drained := make(chan error, 1)
	go func() { drained <- w.Drain(context.Background()) }()
	select {
	case err := <-drained:
		t.Fatalf("Drain returned %v while a task was running", err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := w.Ready(t.Context()); err == nil {
		t.Error("Ready() = nil while draining, want an error")
	}
	close(release)
	select {
	case err := <-drained:
		if err != nil {
			t.Fatalf("Drain: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Drain did not return after the task finished")
	}
	if n := w.Running(); n != 0 {
		t.Errorf("Running() = %d after drain, want 0", n)
	}
	if got := testutil.ToFloat64(m.Registrations.WithLabelValues("worker-test-drain", "ok")); got != 1 {
		t.Errorf("registrations{ok} = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(m.TaskDuration, "hatchet_worker_task_duration_seconds"); n != 1 {
		t.Errorf("%d task duration series, want 1", n)
	}
	if got := sampleCount(t, m.TaskDuration, "worker-test-drain:wait", "ok"); got != 1 {
		t.Errorf("task duration samples for worker-test-drain:wait ok = %d, want 1", got)
	}
}

// TestDrainGivesUpAtDeadline checks Drain stops waiting when its context
// ends and says how many tasks it left.
func TestDrainGivesUpAtDeadline(t *testing.T) {
	w, release := startGated(t, "worker-test-deadline", nil)
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := w.Drain(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "drain 1 tasks") {
		t.Fatalf("Drain = %v, want deadline exceeded naming 1 task", err)
	}
}

func sampleCount(t *testing.T, h *prometheus.HistogramVec, labels ...string) uint64 {
	t.Helper()
	o, err := h.GetMetricWithLabelValues(labels...)
	if err != nil {
		t.Fatal(err)
	}
	var pb dto.Metric
	if err := o.(prometheus.Metric).Write(&pb); err != nil {
		t.Fatal(err)
	}
	return pb.GetHistogram().GetSampleCount()
}
