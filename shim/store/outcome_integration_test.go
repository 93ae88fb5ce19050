//go:build integration

package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/shim/store"

	"github.com/google/uuid"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/route"
)

// acceptedIn claims and records n executions on backend in store.
func acceptedIn(t *testing.T, store *store.Postgres, backend featureflag.Backend, n int) []shim.Execution {
	t.Helper()
	ctx := context.Background()
	out := make([]shim.Execution, n)
	for i := range out {
		c, err := store.Claim(ctx, shim.Execution{ID: uuid.NewString(), Workflow: "w", OrganizationID: "o",
			Backend: backend, Reason: "global"}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.SetRef(ctx, c, "ref-"+c.ID); err != nil {
			t.Fatal(err)
		}
		out[i] = c.Execution
	}
	return out
}

// TestStoreOutcome records an end once: a second end, a progress report or
// a write naming another backend leaves it as it is.
func TestStoreOutcome(t *testing.T) {
	ctx := context.Background()
	store, err := store.Open(ctx, hatchettest.DatabaseURL(t, "hw_test_shim_outcome"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	e := acceptedIn(t, store, featureflag.BackendCelery, 1)[0]
	if got, _ := store.Get(ctx, e.ID); got.State != shim.StateQueued || got.Finished() {
		t.Fatalf("new record: %q finished %v, want queued", got.State, got.FinishedAt)
	}
	done := time.Now().Add(time.Second).UTC().Truncate(time.Microsecond)
	end := shim.Outcome{State: shim.StateFailed, BackendState: "FAILURE", FinishedAt: &done, Result: json.RawMessage(`{"x": 1}`),
		Error: &shim.FailureInfo{Type: "KeyError", Message: "k", Traceback: "Traceback …"}}
	steps := []struct {
		name      string
		backend   featureflag.Backend
		o         shim.Outcome
		progress  bool
		wantFirst bool
	}{
		{"other backend", featureflag.BackendHatchet, end, false, false},
		{"first end", featureflag.BackendCelery, end, false, true},
		{"second end", featureflag.BackendCelery, shim.Outcome{State: shim.StateSucceeded}, false, false},
		{"late progress", featureflag.BackendCelery, shim.Outcome{State: shim.StateRunning}, true, false},
	}
	for _, st := range steps {
		x := e
		x.Backend = st.backend
		if st.progress {
			if err := store.Progress(ctx, e.ID, st.o); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, first, err := store.Finish(ctx, x, st.o); err != nil || first != st.wantFirst {
			t.Errorf("%s: Finish = %v, %v; want %v", st.name, first, err, st.wantFirst)
		}
	}
	got, err := store.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != shim.StateFailed || !got.FinishedAt.Equal(done) || got.Error == nil || got.Error.Traceback != "Traceback …" ||
		string(got.Result) != `{"x": 1}` || got.DurationSeconds < 1 {
		t.Errorf("record = %+v, want the first end", got.Outcome)
	}
}

// TestStoreUnfinishedWalksAll: batches of two visit every unfinished
// execution of the backend before any twice, and InFlight counts them.
func TestStoreUnfinishedWalksAll(t *testing.T) {
	ctx := context.Background()
	store, err := store.Open(ctx, hatchettest.DatabaseURL(t, "hw_test_shim_unfinished"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	celery := acceptedIn(t, store, featureflag.BackendCelery, 5)
	acceptedIn(t, store, featureflag.BackendHatchet, 2)
	if _, _, err := store.Finish(ctx, celery[0], shim.Outcome{State: shim.StateSucceeded}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for range 2 { // 4 unfinished, batches of 2
		batch, err := store.Unfinished(ctx, featureflag.BackendCelery, 2)
		if err != nil || len(batch) != 2 {
			t.Fatalf("Unfinished = %d, %v; want 2", len(batch), err)
		}
		for _, e := range batch {
			seen[e.ID]++
		}
	}
	if len(seen) != 4 || seen[celery[0].ID] != 0 {
		t.Errorf("two batches saw %v; want the 4 unfinished once each", seen)
	}
	n, err := store.InFlight(ctx)
	if err != nil || n[featureflag.BackendCelery] != 4 || n[featureflag.BackendHatchet] != 2 {
		t.Errorf("InFlight = %v, %v; want celery 4, hatchet 2", n, err)
	}
}

// TestExecutionsPaging pages through the executions newest first, with
// filters, and sees each once.
func TestExecutionsPaging(t *testing.T) {
	ctx := context.Background()
	store, err := store.Open(ctx, hatchettest.DatabaseURL(t, "hw_test_shim_paging"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	celery := acceptedIn(t, store, featureflag.BackendCelery, 5)
	acceptedIn(t, store, featureflag.BackendHatchet, 1)
	for _, e := range celery[:2] {
		if _, _, err := store.Finish(ctx, e, shim.Outcome{State: shim.StateFailed}); err != nil {
			t.Fatal(err)
		}
	}
	d := shim.NewDispatcher(route.Catalog{}, nil, store, nil, shim.WithHistory(store))
	tests := []struct {
		q     shim.ListQuery
		want  int
		pages int
	}{
		{shim.ListQuery{Limit: 2}, 6, 3},
		{shim.ListQuery{Limit: 2, Backend: featureflag.BackendCelery}, 5, 3},
		{shim.ListQuery{Limit: 10, Status: shim.StateFailed}, 2, 1},
		{shim.ListQuery{Limit: 10, Since: time.Now().Add(time.Hour)}, 0, 1},
	}
	for _, tt := range tests {
		var got []shim.Execution
		q, pages := tt.q, 0
		for {
			p, err := d.Executions(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			got, pages = append(got, p.Executions...), pages+1
			if p.NextCursor == "" {
				break
			}
			c, err := shim.ParseCursor(p.NextCursor)
			if err != nil {
				t.Fatal(err)
			}
			q.After = &c
		}
		seen := map[string]bool{}
		for i, e := range got {
			if seen[e.ID] || (i > 0 && e.CreatedAt.After(got[i-1].CreatedAt)) {
				t.Errorf("%+v: %s repeated or out of order", tt.q, e.ID)
			}
			seen[e.ID] = true
		}
		if len(got) != tt.want || pages != tt.pages {
			t.Errorf("%+v: %d executions in %d pages, want %d in %d", tt.q, len(got), pages, tt.want, tt.pages)
		}
	}
}
