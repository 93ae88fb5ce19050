//go:build integration

package shim_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/shim/store"

	hatchetbackend "github.com/unstract/hatchet-worker/shim/backend/hatchet"

	"github.com/google/uuid"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/helpers/extract"
	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/internal/worker"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/workflows"
)

// TestHatchetRunTheEngineNeverMade asks the real engine about a run it has
// no record of: queued while it may still be being created, unknown with
// the reason once SHIM_LOST_AFTER has passed.
func TestHatchetRunTheEngineNeverMade(t *testing.T) {
	conn := hatchettest.Engine(t)
	h := hatchetbackend.New(conn.Client, conn.Ready, hatchetbackend.WithLostAfter(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tests := []struct {
		age  time.Duration
		want string
	}{
		{10 * time.Second, shim.StateQueued},
		{2 * time.Minute, shim.StateUnknown},
	}
	for _, tt := range tests {
		st, err := h.Status(ctx, shim.Execution{ID: uuid.NewString(), Backend: featureflag.BackendHatchet,
			BackendRef: uuid.NewString(), CreatedAt: time.Now().Add(-tt.age)})
		if err != nil {
			t.Fatalf("Status (%s old): %v", tt.age, err)
		}
		if st.State != tt.want {
			t.Errorf("a run the engine never made, %s old: status %s, want %s", tt.age, st.State, tt.want)
		}
		if tt.want == shim.StateUnknown && (st.Error == nil || st.Error.Type != hatchetbackend.UnknownRunNotFound) {
			t.Errorf("unknown run: error = %+v, want type %s", st.Error, hatchetbackend.UnknownRunNotFound)
		}
	}
}

// TestHatchetRunSentToAStoppedWorker submits runs just after a worker
// stopped without handing over, as a crashed one does, while the engine
// may still assign them to it. The engine then
// fails the attempt ("could not send task to worker") and retries it on a
// live worker; the shim must report that run as in progress, never failed,
// and then succeeded.
func TestHatchetRunSentToAStoppedWorker(t *testing.T) {
	conn := hatchettest.Engine(t)
	ex, err := extract.New("", "")
	if err != nil {
		t.Fatal(err)
	}
	defs := []workflows.Definition{workflows.ConnectorValidation(workflows.Deps{Log: slog.Default(), Extractor: ex})}
	wfs, err := workflows.BuildAll(conn.Client, defs)
	if err != nil {
		t.Fatal(err)
	}
	stale, err := worker.Start(conn.Client, "shim-stale", 10, wfs, slog.Default(), worker.WithoutHandOver())
	if err != nil {
		t.Fatal(err)
	}
	hatchettest.StartWorker(t, conn, "shim-live", 10, wfs)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := stale.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	h := hatchetbackend.New(conn.Client, conn.Ready)
	route := workflows.Routes(defs)[0]
	input, _ := json.Marshal(map[string]any{"settings": map[string]any{"type": "filesystem", "path": t.TempDir()}})
	var execs []shim.Execution
	for range 20 {
		e := shim.Execution{ID: uuid.NewString(), Workflow: route.Name, Backend: featureflag.BackendHatchet, CreatedAt: time.Now()}
		if e.BackendRef, err = h.Submit(ctx, e, route, input); err != nil {
			t.Fatal(err)
		}
		execs = append(execs, e)
	}
	for _, e := range execs {
		for {
			st, err := h.Status(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if st.Final() {
				if st.State != shim.StateSucceeded {
					t.Errorf("run %s: %s (%s, %+v), want succeeded", e.BackendRef, st.State, st.BackendState, st.Error)
				}
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestLostRefFoundByExecutionID loses the run id of an accepted execution
// without an idempotency key, as when the process dies between answering
// and recording it: the status is still read, from the run found by its
// execution_id metadata, and the record gets the run id back.
func TestLostRefFoundByExecutionID(t *testing.T) {
	s := newStack(t)
	s.writeFlags(t, `{"use_task_abstraction": true}`)
	s.waitFlags(t, func(r featureflag.Rules) bool { return r.UseTaskAbstraction })
	code, resp := s.execute(t, map[string]any{"workflow": workflows.DocumentProcessingName, "organization_id": "org-ref", "input": s.input()})
	if code != http.StatusAccepted {
		t.Fatalf("execute: %d %v", code, resp)
	}
	id, _ := resp["execution_id"].(string)
	ref := waitRef(t, s.store, id)
	testenv.ExecSQL(t, s.storeURL, `UPDATE hatchet_worker.executions SET backend_ref = '' WHERE id = $1`, id)

	st := s.waitDone(t, id)
	if st["status"] != shim.StateSucceeded || st["backend_ref"] != ref {
		t.Errorf("status %v, want succeeded as run %s", st, ref)
	}
	if rec, err := s.store.Get(context.Background(), id); err != nil || rec.BackendRef != ref {
		t.Errorf("record %+v, %v; want run %s recorded again", rec, err, ref)
	}
}

// waitRef waits until the execution's record has its run id, written after
// the answer, and returns it.
func waitRef(t *testing.T, store *store.Postgres, id string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if rec, err := store.Get(context.Background(), id); err == nil && rec.BackendRef != "" {
			return rec.BackendRef
		}
	}
	t.Fatalf("execution %s: no run id recorded", id)
	return ""
}
