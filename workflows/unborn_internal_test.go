//lint:file-ignore SA1019 the fake batch runs stand in for the SDK's v0 run handle (pkg/client.Workflow).

package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	v0client "github.com/hatchet-dev/hatchet/pkg/client"
)

// fakeRun is a batch run whose wait fails with "<id> failed" after end, or
// never ends when end is 0.
type fakeRun struct {
	id   string
	end  time.Duration
	stop <-chan struct{}
}

func (r fakeRun) RunId() string { return r.id }

func (r fakeRun) Result() (*v0client.WorkflowResult, error) {
	if r.end == 0 {
		<-r.stop
		return nil, errors.New("test over")
	}
	time.Sleep(r.end)
	return nil, fmt.Errorf("%s failed", r.id)
}

// fakeRecords holds the runs in held; with broken set, it answers nothing.
type fakeRecords struct {
	held   map[string]bool
	broken bool
}

func (f fakeRecords) Exists(_ context.Context, id string) (bool, error) {
	if f.broken {
		return false, errors.New("engine unreachable")
	}
	return f.held[id], nil
}

// TestWaitBatches runs two batches whose runs end (or not) as each case
// says, and checks which run gave each batch's outcome and which keys were
// spawned again.
func TestWaitBatches(t *testing.T) {
	const after = 40 * time.Millisecond
	never := time.Duration(0)
	tests := []struct {
		name string
		ends map[string]time.Duration // run id → when its wait ends; a and b are spawned first
		held map[string]bool
		// broken: the records answer nothing; unwatched: no records.
		broken, unwatched bool
		want              []string // run whose failure is each batch's outcome
		wantKeys          []string // keys spawned again
	}{
		{name: "found runs are waited for however long they take",
			ends: map[string]time.Duration{"a": 5 * after, "b": time.Millisecond},
			held: map[string]bool{"a": true, "b": true}, want: []string{"a", "b"}},
		{name: "an unborn run is spawned again under a key named after it",
			ends: map[string]time.Duration{"a": never, "b": time.Millisecond, "a2": time.Millisecond},
			held: map[string]bool{"b": true, "a2": true}, want: []string{"a2", "b"}, wantKeys: []string{"batch:0:after:a"}},
		{name: "an unborn replacement is replaced in turn",
			ends: map[string]time.Duration{"a": never, "b": time.Millisecond, "a2": never, "a3": time.Millisecond},
			held: map[string]bool{"b": true, "a3": true}, want: []string{"a3", "b"},
			wantKeys: []string{"batch:0:after:a", "batch:0:after:a2"}},
		{name: "a run that turns up after its replacement still counts",
			ends: map[string]time.Duration{"a": 4 * after, "b": time.Millisecond, "a2": never},
			held: map[string]bool{"b": true, "a2": true}, want: []string{"a", "b"}, wantKeys: []string{"batch:0:after:a"}},
		{name: "records that answer nothing replace nothing",
			ends:   map[string]time.Duration{"a": 5 * after, "b": time.Millisecond},
			broken: true, want: []string{"a", "b"}},
		{name: "no records, no watch",
			ends:      map[string]time.Duration{"a": 5 * after, "b": time.Millisecond},
			unwatched: true, want: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stop := make(chan struct{})
			t.Cleanup(func() { close(stop) })
			run := func(id string) fakeRun { return fakeRun{id: id, end: tt.ends[id], stop: stop} }
			batches := []batchRun{
				{files: []PlannedFile{{Name: "one.pdf"}}, run: run("a")},
				{files: []PlannedFile{{Name: "two.pdf"}}, run: run("b")},
			}
			var mu sync.Mutex
			var keys []string
			watch := &unbornWatch{records: fakeRecords{held: tt.held, broken: tt.broken}, after: after,
				respawn: func(batch int, key string) (runHandle, error) {
					mu.Lock()
					defer mu.Unlock()
					keys = append(keys, key)
					return run(fmt.Sprintf("a%d", len(keys)+1)), nil
				},
				warn: func(string, ...any) {}}
			if tt.unwatched {
				watch.records = nil
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			files, err := waitBatches(ctx, batches, watch)
			if err != nil {
				t.Fatal(err)
			}
			for i, name := range []string{"one.pdf", "two.pdf"} {
				if got, want := files[name].Error, "batch failed: "+tt.want[i]+" failed"; got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
			if !slices.Equal(keys, tt.wantKeys) {
				t.Errorf("spawned again %q, want %q", keys, tt.wantKeys)
			}
		})
	}
}

// TestWaitBatchesRespawnFails: a failed spawn ends the wait with an error
// naming the unborn run, so the task is retried.
func TestWaitBatchesRespawnFails(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	batches := []batchRun{{files: []PlannedFile{{Name: "one.pdf"}}, run: fakeRun{id: "a", stop: stop}}}
	watch := &unbornWatch{records: fakeRecords{}, after: 20 * time.Millisecond, warn: func(string, ...any) {},
		respawn: func(int, string) (runHandle, error) { return nil, errors.New("engine refused") }}
	_, err := waitBatches(t.Context(), batches, watch)
	if err == nil || err.Error() != "spawn batch 0 again in place of run a, which the engine never created: engine refused" {
		t.Fatalf("err = %v", err)
	}
}
