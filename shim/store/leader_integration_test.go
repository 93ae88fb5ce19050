//go:build integration

package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/store"
)

// TestLeader checks that of three replicas sharing a store one leads at a
// time, and that another takes over when the leader stops, is killed or
// loses its connection.
func TestLeader(t *testing.T) {
	first, dbURL := openStore(t, "hw_test_store_leader")
	replicas := []*store.Postgres{first}
	for range 2 {
		s, err := store.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		replicas = append(replicas, s)
	}
	const retry = 200 * time.Millisecond
	var leaders []*store.Leader
	for _, s := range replicas {
		l := s.Leader("test-job", retry)
		t.Cleanup(l.Close)
		leaders = append(leaders, l)
	}
	ctx := context.Background()
	dead := map[int]bool{}
	leading := func() []int {
		var out []int
		for i, l := range leaders {
			if dead[i] {
				continue
			}
			ok, err := l.Lead(ctx)
			if err != nil {
				t.Logf("replica %d: %v", i, err)
			}
			if ok {
				out = append(out, i)
			}
		}
		return out
	}
	// leadsAlone waits up to a few retries for exactly one leader other
	// than not, and returns it.
	leadsAlone := func(not int) int {
		t.Helper()
		var got []int
		for deadline := time.Now().Add(10 * retry); time.Now().Before(deadline); time.Sleep(retry / 4) {
			if got = leading(); len(got) == 1 && got[0] != not {
				return got[0]
			}
			if len(got) > 1 {
				t.Fatalf("replicas %v lead at once", got)
			}
		}
		t.Fatalf("leaders %v, want one other than %d", got, not)
		return -1
	}
	a := leadsAlone(-1)
	leaders[a].Close() // a replica that stops lets the lead go
	b := leadsAlone(a)
	// A killed leader: its connection ends, and it asks no more.
	dead[b] = true
	testenv.ExecSQL(t, dbURL, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted`)
	leadsAlone(b)
	// A leader that lost its connection but lives (the database restarted)
	// leads again, or lets another: never two at once.
	testenv.ExecSQL(t, dbURL, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted`)
	leadsAlone(-1)
}
