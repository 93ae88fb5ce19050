package hatchettest

import (
	"context"
	"log/slog"
	"testing"
	"time"

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
		if err := worker.WaitListed(ctx, client, name, false); err != nil {
			t.Errorf("hatchettest: worker %s: %v", name, err)
		}
	})
	return w
}
