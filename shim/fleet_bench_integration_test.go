//go:build integration

package shim_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/store"
)

// BenchmarkTrackingFleet measures what outcome tracking costs a fleet:
// with 10,000 executions in flight (never ending), one replica tracks for
// fleetIntervals intervals, then three replicas sharing the store do, each
// with its own connection pool and leader election, as separate processes
// would. It reports, per tracking interval, the store's and the result
// backend's committed transactions (pg_stat_database) and the Hatchet runs
// list requests (one per 100 Hatchet executions a pass reads), for each
// fleet size, and three replicas' over one's; and, for comparison, three
// replicas' over one's when each tracks on its own (no leader).
// Run with: go test -run '^$' -bench TrackingFleet -benchtime 1x ./shim
func BenchmarkTrackingFleet(b *testing.B) {
	s := newStack(b)
	s.realExecutions(b)
	seedInFlight(b, s.storeURL, benchInFlight)
	b.ResetTimer()
	var one, three, unled fleetCost
	for range b.N {
		one = one.add(trackAsFleet(b, s, 1, true))
		three = three.add(trackAsFleet(b, s, 3, true))
		unled = unled.add(trackAsFleet(b, s, 3, false))
	}
	n := float64(b.N)
	b.ReportMetric(one.xact/n, "db-xact/interval@1")
	b.ReportMetric(three.xact/n, "db-xact/interval@3")
	b.ReportMetric(three.xact/one.xact, "db-xact-3/1")
	b.ReportMetric(one.lists/n, "hatchet-lists/interval@1")
	b.ReportMetric(three.lists/n, "hatchet-lists/interval@3")
	b.ReportMetric(three.lists/one.lists, "hatchet-lists-3/1")
	b.ReportMetric(unled.xact/one.xact, "unled-db-xact-3/1")
	b.ReportMetric(unled.lists/one.lists, "unled-hatchet-lists-3/1")
}

// fleetIntervals is how many tracking intervals each fleet runs for.
const fleetIntervals = 8

// fleetCost is what tracking cost per interval.
type fleetCost struct{ xact, lists float64 }

func (c fleetCost) add(o fleetCost) fleetCost { return fleetCost{c.xact + o.xact, c.lists + o.lists} }

// trackAsFleet runs n replicas' trackers for fleetIntervals intervals, led
// by one when led, and returns their cost per interval.
func trackAsFleet(b *testing.B, s *stack, n int, led bool) fleetCost {
	b.Helper()
	ctx, stop := context.WithCancel(context.Background())
	var lists atomic.Int64
	var trackers []*shim.Tracker
	for range n {
		st, err := store.Open(ctx, s.storeURL)
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		var opts []shim.TrackerOption
		if led {
			leader := st.Leader("outcome-tracking", 3*shim.DefaultTrackInterval)
			defer leader.Close()
			opts = append(opts, shim.WithLeader(leader))
		}
		trackers = append(trackers, shim.NewTracker(s.d, countingStore{st, &lists}, opts...))
	}
	time.Sleep(11 * time.Second) // PostgreSQL flushes a backend's counters within 10 s of it going idle
	xact := transactions(b, s)
	var wg sync.WaitGroup
	for _, tr := range trackers {
		wg.Go(func() { _ = tr.Run(ctx) })
	}
	// Run makes a pass at once and every interval: stop just before the
	// pass after the last interval.
	time.Sleep(fleetIntervals*shim.DefaultTrackInterval - shim.DefaultTrackInterval/2)
	stop()
	wg.Wait()
	time.Sleep(11 * time.Second)
	spent := transactions(b, s) - xact - 2 // 2: the counting queries themselves
	return fleetCost{xact: float64(spent) / fleetIntervals, lists: float64(lists.Load()) / fleetIntervals}
}

// countingStore counts the Hatchet runs list requests the executions it
// hands a pass cost: one per 100.
type countingStore struct {
	*store.Postgres
	lists *atomic.Int64
}

// Unfinished reads as the store does, counting Hatchet's list requests.
func (c countingStore) Unfinished(ctx context.Context, backend featureflag.Backend, limit int) ([]shim.Execution, error) {
	es, err := c.Postgres.Unfinished(ctx, backend, limit)
	if backend == featureflag.BackendHatchet {
		c.lists.Add(int64((len(es) + 99) / 100))
	}
	return es, err
}
