package shim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

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

// post sends one execute request and returns its status (0 on a transport
// error); safe to call from RunParallel's goroutines.
func post(url string, body []byte) int {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
