//go:build integration

package worker_test

import (
	"context"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/engine"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
)

type attempt struct {
	Retries int `json:"retries"`
}

// retries is a one-task workflow whose task returns its RetryCount.
func retries(client *hatchet.Client, name string) *hatchet.Workflow {
	wf := client.NewWorkflow(name)
	wf.NewTask("count", func(ctx hatchet.Context, _ empty) (attempt, error) {
		return attempt{Retries: ctx.RetryCount()}, nil
	}, hatchet.WithRetries(3))
	return wf
}

// TestDrainHandsOver stops the only worker of a workflow, then submits
// runs and starts a new worker, as a restart does. A drained worker is one
// the engine's scheduler has let go of (it holds no lease on it), so no
// run is assigned to the stopped worker: each runs on its first attempt
// (RetryCount 0), never after a "could not send task to worker" retry.
func TestDrainHandsOver(t *testing.T) {
	conn := hatchettest.Engine(t)
	const name = "handover"
	old := startRegistered(t, conn, "handover-old", 10, retries(conn.Client, name))
	oldID := workerID(t, conn, "handover-old")
	waitLeased(t, conn, oldID)
	began := time.Now()
	if err := old.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("drain of an idle worker took %s", time.Since(began).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	released, err := conn.Embedded.WorkerReleased(ctx, oldID)
	if err != nil || !released {
		t.Errorf("drained worker still leased by the scheduler (released %v, err %v)", released, err)
	}
	var runs []*hatchet.WorkflowRunRef
	for range 10 {
		ref, err := conn.Client.RunNoWait(ctx, name, empty{})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, ref)
	}
	next := startRegistered(t, conn, "handover-new", 10, retries(conn.Client, name))
	defer func() { _ = next.Drain(context.Background()) }()
	for _, ref := range runs {
		res, err := ref.Result()
		if err != nil {
			t.Fatalf("run %s: %v", ref.RunId, err)
		}
		var out attempt
		if err := res.TaskOutput("count").Into(&out); err != nil {
			t.Fatal(err)
		}
		if out.Retries != 0 {
			t.Errorf("run %s ran at RetryCount %d, want 0: it was assigned to the drained worker", ref.RunId, out.Retries)
		}
	}
}

// workerID is the engine's id of the worker called name, once the
// engine lists it.
func workerID(t *testing.T, conn *engine.Conn, name string) string {
	t.Helper()
	for range 100 {
		list, err := conn.Client.Workers().List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range *list.Rows {
			if w.Name == name {
				return w.Metadata.Id
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the engine lists no worker called %s", name)
	return ""
}

// waitLeased returns once the engine's scheduler holds a lease on the
// worker, as it does on every worker it assigns tasks to.
func waitLeased(t *testing.T, conn *engine.Conn, id string) {
	t.Helper()
	for range 150 {
		released, err := conn.Embedded.WorkerReleased(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !released {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the scheduler took no lease on worker %s in 15 s", id)
}
