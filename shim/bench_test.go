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
// concurrency, workflow, input and run metadata, alternating in chunks so
// both see the same machine. It reports both rates and shim/sdk.
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
	const chunk = 100
	var shimTime, sdkTime time.Duration
	b.ResetTimer()
	for left := b.N; left > 0; left -= chunk {
		n := min(left, chunk)
		shimTime += concurrently(b, n, shimOne)
		sdkTime += concurrently(b, n, sdkOne)
	}
	b.ReportMetric(float64(b.N)/shimTime.Seconds(), "shim-req/s")
	b.ReportMetric(float64(b.N)/sdkTime.Seconds(), "sdk-runs/s")
	b.ReportMetric(sdkTime.Seconds()/shimTime.Seconds(), "shim/sdk")
}

// benchClients is how many requests the benchmarks keep in flight.
var benchClients = 4 * runtime.GOMAXPROCS(0)

// concurrently runs one n times from benchClients goroutines and returns
// the time taken.
func concurrently(b *testing.B, n int, one func() error) time.Duration {
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	began := time.Now()
	for range min(n, benchClients) {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := one(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(began)
}

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
	resp, err := benchClient.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body) // read to the end, or the connection is not reused
	resp.Body.Close()
	return resp.StatusCode
}
