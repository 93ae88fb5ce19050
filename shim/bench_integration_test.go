//go:build integration

package shim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/workflows"
)

// BenchmarkExecute measures POST /api/v2/workflows/execute end to end on the
// real stack: each 202 means the work was durably accepted (a Hatchet run
// created, or a Celery message confirmed by RabbitMQ) and recorded for
// status lookups. Run with: go test -run '^$' -bench Execute ./shim
func BenchmarkExecute(b *testing.B) {
	s := newStack(b)
	for _, c := range []struct {
		backend string
		on      bool
	}{{"celery", false}, {"hatchet", true}} {
		b.Run(c.backend, func(b *testing.B) {
			s.writeFlags(b, fmt.Sprintf(`{"use_task_abstraction": %v}`, c.on))
			s.waitFlags(b, func(r featureflag.Rules) bool { return r.UseTaskAbstraction == c.on })
			body, err := json.Marshal(map[string]any{"workflow": workflows.DocumentProcessingName,
				"organization_id": "org-bench", "input": s.input()})
			if err != nil {
				b.Fatal(err)
			}
			var failed atomic.Int64
			b.SetParallelism(4) // 4 × GOMAXPROCS concurrent clients
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if code := post(s.url+"/api/v2/workflows/execute", body); code != http.StatusAccepted {
						failed.Add(1)
					}
				}
			})
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Errorf("%d of %d requests not accepted", n, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "accepted/s")
		})
	}
}

// BenchmarkExecuteVsSDK compares the shim's Hatchet route with the ceiling
// under it, the SDK's own RunNoWait, on the same engine with the same
// concurrency, workflow, input and run metadata. Each client alternates
// between the two, so both see the same machine at every moment (chunks of
// one then the other varied by ±5 % between runs as the engine's backlog
// grew). It reports the rate each would reach with benchClients clients at
// the latency it had, and shim/sdk, the SDK's time over the shim's.
func BenchmarkExecuteVsSDK(b *testing.B) {
	s := newStack(b)
	s.writeFlags(b, `{"use_task_abstraction": true}`)
	s.waitFlags(b, func(r featureflag.Rules) bool { return r.UseTaskAbstraction })
	input, err := json.Marshal(s.input())
	if err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"workflow": workflows.DocumentProcessingName,
		"organization_id": "org-bench", "input": json.RawMessage(input)})
	if err != nil {
		b.Fatal(err)
	}
	shimOne := func() error {
		if code := post(s.url+"/api/v2/workflows/execute", body); code != http.StatusAccepted {
			return fmt.Errorf("execute answered %d", code)
		}
		return nil
	}
	sdkOne := func() error {
		_, err := s.hatchet.RunNoWait(context.Background(), workflows.DocumentProcessingName, json.RawMessage(input),
			hatchet.WithRunMetadata(map[string]string{"organization_id": "org-bench", "execution_id": uuid.NewString(),
				"source": "shim", "route_reason": "global", "shim_workflow": workflows.DocumentProcessingName}))
		return err
	}
	b.ResetTimer()
	shimTime, sdkTime := paired(b, shimOne, sdkOne)
	b.ReportMetric(float64(b.N)/(shimTime.Seconds()/float64(benchClients)), "shim-req/s")
	b.ReportMetric(float64(b.N)/(sdkTime.Seconds()/float64(benchClients)), "sdk-runs/s")
	b.ReportMetric(sdkTime.Seconds()/shimTime.Seconds(), "shim/sdk")
}

// paired makes b.N calls of one and of other from benchClients goroutines,
// each alternating between them (one first on even turns, other first on
// odd ones), and returns the total time spent in each.
func paired(b *testing.B, one, other func() error) (oneTime, otherTime time.Duration) {
	var turn atomic.Int64
	var oneNs, otherNs atomic.Int64
	timed := func(f func() error, total *atomic.Int64) bool {
		began := time.Now()
		err := f()
		total.Add(int64(time.Since(began)))
		if err != nil {
			b.Error(err)
		}
		return err == nil
	}
	var wg sync.WaitGroup
	for range min(b.N, benchClients) {
		wg.Go(func() {
			for t := turn.Add(1) - 1; t < int64(b.N); t = turn.Add(1) - 1 {
				first, second, firstNs, secondNs := one, other, &oneNs, &otherNs
				if t%2 == 1 {
					first, second, firstNs, secondNs = other, one, &otherNs, &oneNs
				}
				if !timed(first, firstNs) || !timed(second, secondNs) {
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Duration(oneNs.Load()), time.Duration(otherNs.Load())
}

// benchClients is how many requests the benchmarks keep in flight.
var benchClients = 4 * runtime.GOMAXPROCS(0)

// benchClient keeps a connection per client alive between requests, as the
// platform's HTTP session does and as the SDK's one gRPC connection does;
// http.DefaultClient keeps two, so most requests would open a connection.
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// post sends one execute request and returns its status (0 on a transport
// error); safe to call from RunParallel's goroutines.
func post(url string, body []byte) int {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := benchClient.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body) // read to the end, or the connection is not reused
	resp.Body.Close()
	return resp.StatusCode
}
