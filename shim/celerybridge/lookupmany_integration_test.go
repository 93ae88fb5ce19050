//go:build integration

package celerybridge_test

import (
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

func TestLookupMany(t *testing.T) {
	forEachBackend(t, testLookupMany)
}

// testLookupMany reads a success, a failure and an unknown task in one call,
// in the order asked, and (rpc://) sees both outcomes through OnResult.
func testLookupMany(t *testing.T, b backendCase, c *celerybridge.Client) {
	ctx := testContext(t, 30*time.Second)
	seen := make(chan celerybridge.Result, 4)
	c.OnResult(func(r celerybridge.Result) { seen <- r })
	ok, err := c.Send(ctx, "echo", []any{"many"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := c.Send(ctx, "fail", []any{"boom"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ok, bad} {
		if _, err := c.Wait(ctx, id); err != nil && id == ok {
			t.Fatal(err)
		}
	}
	got, err := c.LookupMany(ctx, []string{bad, "never-sent", ok})
	if err != nil {
		t.Fatal(err)
	}
	asked := []string{bad, "never-sent", ok}
	want := []celerybridge.State{celerybridge.StateFailure, celerybridge.StatePending, celerybridge.StateSuccess}
	if len(got) != len(want) {
		t.Fatalf("LookupMany returned %d results, want %d: %+v", len(got), len(want), got)
	}
	for i, r := range got {
		if r.TaskID != asked[i] || r.State != want[i] {
			t.Errorf("result %d = %s in state %s, want %s in state %s", i, r.TaskID, r.State, asked[i], want[i])
		}
	}
	assertSameJSON(t, got[2].Value, `{"args": ["many"], "kwargs": {}}`)
	if got[0].Traceback == "" {
		t.Error("failure without traceback")
	}
	if b.name != "rpc" {
		return
	}
	for range 2 {
		select {
		case r := <-seen:
			if r.TaskID != ok && r.TaskID != bad {
				t.Errorf("OnResult got %s", r.TaskID)
			}
		case <-ctx.Done():
			t.Fatal("OnResult not called for both results")
		}
	}
}
