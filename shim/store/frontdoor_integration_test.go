//go:build integration

package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/frontdoor"
)

// TestStoreCeleryResults walks a front-door task's caller: recorded once
// (a redelivery changes nothing), found by its task id, awaited only once
// its execution has finished, returned with the execution's outcome and
// the call, and gone once its result is written. A caller that ignores
// results is never awaited.
func TestStoreCeleryResults(t *testing.T) {
	ctx := context.Background()
	store, _ := openStore(t, "hw_test_shim_celery_results")
	c, err := store.Claim(ctx, shim.Execution{ID: uuid.NewString(), Workflow: "w", OrganizationID: "o",
		Backend: featureflag.BackendHatchet, Reason: featureflag.ReasonHatchetOnly}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	caller := frontdoor.Caller{TaskID: "t-1", Task: "async_execute_bin", Queue: "celery", Args: json.RawMessage(`["org", 12345678901234567890]`),
		Kwargs: json.RawMessage(`{"scheduled": false}`), Retries: 2, ReplyTo: "reply-1"}
	for _, call := range []frontdoor.Caller{caller, {TaskID: "t-1", Task: "again", Queue: "other"}} {
		if err := store.Await(ctx, c.ID, call); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := store.Finished(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("before the execution finished: %+v, %v", got, err)
	}
	if id, ok, err := store.ExecutionOf(ctx, "t-1"); err != nil || !ok || id != c.ID {
		t.Errorf("ExecutionOf(t-1) = %s, %v, %v; want %s", id, ok, err, c.ID)
	}
	if id, ok, err := store.ExecutionOf(ctx, "t-unknown"); err != nil || ok {
		t.Errorf("ExecutionOf(t-unknown) = %s, %v, %v; want none", id, ok, err)
	}
	quiet, err := store.Claim(ctx, shim.Execution{ID: uuid.NewString(), Workflow: "w", OrganizationID: "o",
		Backend: featureflag.BackendHatchet, Reason: featureflag.ReasonHatchetOnly}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Await(ctx, quiet.ID, frontdoor.Caller{TaskID: "t-quiet", Task: "x", Queue: "q", IgnoreResult: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Finish(ctx, quiet.Execution, shim.Outcome{State: shim.StateSucceeded}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Finish(ctx, c.Execution, shim.Outcome{State: shim.StateSucceeded, Result: json.RawMessage(`{"n": 1}`)}); err != nil {
		t.Fatal(err)
	}
	got, err := store.Finished(ctx, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("after it finished: %+v, %v", got, err)
	}
	a := got[0]
	if a.Execution.ID != c.ID || a.Execution.State != shim.StateSucceeded || string(a.Execution.Result) != `{"n": 1}` ||
		a.Caller.TaskID != "t-1" || a.Caller.Task != "async_execute_bin" || a.Caller.Queue != "celery" || a.Caller.Retries != 2 ||
		a.Caller.ReplyTo != "reply-1" || string(a.Caller.Args) != string(caller.Args) || string(a.Caller.Kwargs) != string(caller.Kwargs) {
		t.Errorf("awaited %+v, want the first caller %+v of the succeeded execution", a, caller)
	}
	if err := store.Written(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := store.Finished(ctx, 10); err != nil || len(got) != 0 {
		t.Errorf("after its result was written: %+v, %v", got, err)
	}
}
