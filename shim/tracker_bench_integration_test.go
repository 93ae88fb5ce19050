//go:build integration

package shim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/workflows"
)

// benchInFlight is how many executions BenchmarkTracking keeps in flight,
// half on each backend.
const benchInFlight = 10000

// BenchmarkTracking measures outcome tracking with 10,000 executions in
// flight (5,000 per backend, never ending) on the real stack: each
// iteration is one pass at the default batch size (the embedded engine's
// runs list for Hatchet, one celery_taskmeta query for Celery). It reports
// a pass's wall and CPU time (this process's, the embedded engine's share
// of the list requests included), and at the default interval the CPU share
// of one core and the database transactions per second on the shim's store
// and Celery's result database (counted by PostgreSQL, pg_stat_database).
// Run with: go test -run '^$' -bench Tracking -benchtime 20x ./shim
func BenchmarkTracking(b *testing.B) {
	s := newStack(b)
	s.realExecutions(b)
	seedInFlight(b, s.storeURL, benchInFlight)
	tracker := shim.NewTracker(s.d, s.store)
	ctx := context.Background()
	tracker.Pass(ctx) // warm up: connections, prepared statements
	xact := transactions(b, s)
	cpu := cpuTime()
	b.ResetTimer()
	for range b.N {
		tracker.Pass(ctx)
	}
	b.StopTimer()
	perPass := (cpuTime() - cpu) / time.Duration(b.N)
	time.Sleep(11 * time.Second)                                 // PostgreSQL flushes a backend's counters within 10 s of it going idle
	queries := float64(transactions(b, s)-xact-2) / float64(b.N) // 2: the counting queries themselves
	interval := shim.DefaultTrackInterval.Seconds()
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "wall-ms/pass")
	b.ReportMetric(float64(perPass.Microseconds())/1000, "cpu-ms/pass")
	b.ReportMetric(100*perPass.Seconds()/interval, "%core@5s")
	b.ReportMetric(queries, "db-xact/pass")
	b.ReportMetric(queries/interval, "db-xact/s@5s")
	// Hatchet's side: one runs-list request per 100 executions of a batch.
	b.ReportMetric(float64((shim.DefaultTrackBatch+99)/100), "hatchet-lists/pass")
}

// realExecutions runs one execution on each backend to its end, so the
// engine and celery_taskmeta hold real rows besides the seeded ones.
func (s *stack) realExecutions(b *testing.B) {
	b.Helper()
	for _, on := range []bool{false, true} {
		code, resp := s.execute(b, map[string]any{"workflow": workflows.DocumentProcessingName,
			"organization_id": "org-bench", "use_abstraction": on, "input": s.input()})
		if code != http.StatusAccepted {
			b.Fatalf("execute: %d %v", code, resp)
		}
	}
}

// seedInFlight inserts n accepted, unfinished executions, half on each
// backend, as requests a moment ago would have left them.
func seedInFlight(b *testing.B, dbURL string, n int) {
	b.Helper()
	execBench(b, dbURL, `INSERT INTO hatchet_worker.executions
		(id, workflow, organization_id, backend, reason, backend_ref, created_at)
		SELECT gen_random_uuid(), 'document-processing-v2', 'org-bench', CASE WHEN i % 2 = 0 THEN 'hatchet' ELSE 'celery' END,
			'global', gen_random_uuid()::text, now() FROM generate_series(1, $1) i`, n)
}

// transactions is the number of committed transactions so far on the
// store's and the result backend's databases.
func transactions(b *testing.B, s *stack) int64 {
	b.Helper()
	var total int64
	for _, url := range []string{s.storeURL, "postgresql://" + strings.SplitN(s.celeryDB, "://", 2)[1]} {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		var n int64
		err = conn.QueryRow(ctx, `SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
		conn.Close(ctx)
		if err != nil {
			b.Fatal(err)
		}
		total += n
	}
	return total
}

// cpuTime is the CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func execBench(b *testing.B, dbURL, sql string, args ...any) {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkExecuteWhileTracking compares the execute endpoint (Celery
// route) with outcome tracking running at its defaults over 10,000
// executions in flight against the same endpoint with tracking stopped.
// Each iteration is a pair of phases of two tracking intervals, one
// without the tracker, one with it running (a pass at its start and one
// halfway, its steady rate), each sending requests from benchClients
// clients for the whole phase; the pairs alternate which phase goes first. It reports both rates and tracked/untracked.
// Run with: go test -run '^$' -bench ExecuteWhileTracking -benchtime 4x ./shim
func BenchmarkExecuteWhileTracking(b *testing.B) {
	s := newStack(b)
	seedInFlight(b, s.storeURL, benchInFlight)
	body := mustMarshal(b, map[string]any{"workflow": workflows.DocumentProcessingName,
		"organization_id": "org-bench", "input": s.input()})
	one := func() error {
		if code := post(s.url+"/api/v2/workflows/execute", body); code != http.StatusAccepted {
			return fmt.Errorf("execute answered %d", code)
		}
		return nil
	}
	tracker := shim.NewTracker(s.d, s.store)
	phase := 2 * shim.DefaultTrackInterval
	tracked := func() int {
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- tracker.Run(ctx) }()
		n := during(b, phase, one)
		stop()
		<-done
		return n
	}
	during(b, phase/2, one) // warm up: connections, the broker's queue, the worker
	var on, off int
	b.ResetTimer()
	for i := range b.N { // alternate which phase goes first
		if i%2 == 0 {
			off += during(b, phase, one)
			on += tracked()
		} else {
			on += tracked()
			off += during(b, phase, one)
		}
	}
	secs := phase.Seconds() * float64(b.N)
	b.ReportMetric(float64(on)/secs, "tracked-req/s")
	b.ReportMetric(float64(off)/secs, "untracked-req/s")
	b.ReportMetric(float64(on)/float64(off), "tracked/untracked")
}

// during runs one from benchClients goroutines for d and returns how many
// calls completed.
func during(b *testing.B, d time.Duration, one func() error) int {
	var n atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range benchClients {
		wg.Go(func() {
			for time.Now().Before(end) {
				if err := one(); err != nil {
					b.Error(err)
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return int(n.Load())
}

func mustMarshal(b *testing.B, v any) []byte {
	b.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}
