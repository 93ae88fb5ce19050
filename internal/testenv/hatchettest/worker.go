package hatchettest

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/worker"
)

// StartWorker registers wfs on the shared engine under a worker called
// name. At cleanup the worker drains and the test waits until the engine
// lists it inactive: the engine learns of a stopped worker only when its
// stream closes, and until then it may still assign the next test's tasks
// to it (they come back, after a moment, as "could not send task to
// worker" retries).
func StartWorker(t testing.TB, client *hatchet.Client, name string, slots int, wfs []*hatchet.Workflow) *worker.Worker {
	t.Helper()
	w, err := worker.Start(client, name, slots, wfs, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.Drain(ctx); err != nil {
			t.Errorf("hatchettest: drain worker %s: %v", name, err)
		}
		if err := waitInactive(ctx, client, name); err != nil {
			t.Errorf("hatchettest: worker %s: %v", name, err)
		}
	})
	return w
}

// waitInactive polls the engine's worker list until no active worker is
// called name.
func waitInactive(ctx context.Context, client *hatchet.Client, name string) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		list, err := client.Workers().List(ctx)
		if err == nil && !activeNamed(list, name) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still listed active by the engine: %w (last list error: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func activeNamed(list *rest.WorkerList, name string) bool {
	if list == nil || list.Rows == nil {
		return false
	}
	for _, w := range *list.Rows {
		if w.Name == name && w.Status != nil && *w.Status == rest.ACTIVE {
			return true
		}
	}
	return false
}
