//go:build integration

package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/workflows"
)

// benchFiles is the size of the benchmark's execution: 198 invoices, an
// empty file and a missing one.
const benchFiles = 200

// benchLanes is how many files each side processes at once: Hatchet's
// process-file-batch runs ten batches per organisation, the fixture Celery
// worker has ten threads and cuts an execution into ten batches.
const benchLanes = 10

// benchLLMCap is the stub adapter's max_concurrency in the benchmarks: four
// calls in flight per lane.
const benchLLMCap = 4 * benchLanes

// BenchmarkWorkflowExecution200 runs one 200-file execution through the shim
// on Hatchet (process-file-batch × 10, fan-in) and on the legacy Celery chord
// (process_file_batch × 10 → process_batch_callback, completed by
// chord_unlock polling the Postgres result backend), against the same local
// LLM stub that answers at once, and the engine's ceiling on the same
// engine and worker: 200 trivial tasks without a concurrency key, spawned by
// one durable parent in one call. For each side it reports the wall time
// from submission to the final status, the time each file holds one of the
// ten lanes (wall × 10 / 200) and the peak RSS of the process serving it:
// for Hatchet this test process, holding the embedded engine, the worker and
// the shim; for Celery the Python worker. It also reports where Hatchet's
// time went, from the engine's records: each step's time queued and running.
// The sides alternate which goes first. Run with:
//
//	go test -run '^$' -bench 'WorkflowExecution200$' -benchtime 1x -count 3 ./workflows
func BenchmarkWorkflowExecution200(b *testing.B) {
	benchExecution(b, 0)
}

// BenchmarkWorkflowExecution200Slow is BenchmarkWorkflowExecution200 with a
// stub that takes 200 ms per answer, as a fast hosted model would.
func BenchmarkWorkflowExecution200Slow(b *testing.B) {
	benchExecution(b, 200*time.Millisecond)
}

// benchExecution runs the sides of BenchmarkWorkflowExecution200 with the
// stub answering in delay.
func benchExecution(b *testing.B, delay time.Duration) {
	env := newExecutionEnv(b, 100, envSetup{llmCap: benchLLMCap, extra: ceilingWorkflows()})
	env.llm.SetDelay(delay)
	env.warmUp(b, true)
	files := env.files(b, benchFiles-2)
	sides := []string{"hatchet", "celery", "ceiling"}
	wall := map[string]time.Duration{}
	peak := map[string]float64{}
	var steps stepTimes
	b.ResetTimer()
	for i := range b.N {
		for j := range sides {
			side := sides[(i+j)%len(sides)]
			id := fmt.Sprintf("bench-%s-%d", side, i)
			var w time.Duration
			var p float64
			switch side {
			case "ceiling":
				w, p = env.ceiling(b, id, benchFiles)
			default:
				var ref string
				w, p, ref = env.measure(b, id, files, benchFiles, side == "hatchet", env.celery.PID())
				if side == "hatchet" {
					steps.add(b, env.client, ref)
				}
			}
			wall[side] += w
			peak[side] = max(peak[side], p)
		}
	}
	for _, side := range sides {
		w := wall[side] / time.Duration(b.N)
		b.ReportMetric(w.Seconds(), side+"-s")
		if side != "ceiling" {
			b.ReportMetric(float64(w.Milliseconds())*benchLanes/benchFiles, side+"-lane-ms/file")
		}
		b.ReportMetric(peak[side], side+"-peak-MiB")
	}
	b.ReportMetric(wall["hatchet"].Seconds()/wall["celery"].Seconds(), "hatchet/celery")
	b.ReportMetric(wall["hatchet"].Seconds()/wall["ceiling"].Seconds(), "hatchet/ceiling")
	steps.report(b)
}

// BenchmarkWorkflowExecution2000 runs a 2,000-file execution on Hatchet and,
// in the same run, the 200-file one, each in ten batches, and reports the ratio of their wall
// times and the peak RSS of this process (embedded engine, worker and shim)
// during each.
func BenchmarkWorkflowExecution2000(b *testing.B) {
	env := newExecutionEnv(b, 100, envSetup{llmCap: benchLLMCap})
	env.warmUp(b, false)
	small := env.files(b, benchFiles-2)
	large := env.files(b, 10*benchFiles-2)
	var wall200, wall2000 time.Duration
	var peak200, peak2000 float64
	b.ResetTimer()
	for i := range b.N {
		w, p, _ := env.measure(b, fmt.Sprintf("bench-200-%d", i), small, benchFiles, true, 0)
		wall200, peak200 = wall200+w, max(peak200, p)
		w, p, _ = env.measure(b, fmt.Sprintf("bench-2000-%d", i), large, 10*benchFiles, true, 0)
		wall2000, peak2000 = wall2000+w, max(peak2000, p)
	}
	b.ReportMetric(wall200.Seconds()/float64(b.N), "hatchet200-s")
	b.ReportMetric(wall2000.Seconds()/float64(b.N), "hatchet2000-s")
	b.ReportMetric(wall2000.Seconds()/wall200.Seconds(), "2000/200")
	b.ReportMetric(peak200, "peak200-MiB")
	b.ReportMetric(peak2000, "peak2000-MiB")
}

// warmUp runs a 10-file execution on each side, and the ceiling over 10
// items when ceiling is set, before the timer starts: the engine starts
// each concurrency strategy and each worker its connections on first use.
func (env *executionEnv) warmUp(b *testing.B, ceiling bool) {
	b.Helper()
	files := env.files(b, 8)
	env.measure(b, "warm-up-hatchet", files, 10, true, 0)
	env.measure(b, "warm-up-celery", files, 10, false, env.celery.PID())
	if ceiling {
		env.ceiling(b, "warm-up-ceiling", 10)
	}
}

// measure runs one execution of n files (two of them failing) to its end
// on Hatchet or Celery and returns its wall time, the peak RSS meanwhile in
// MiB (of this process for Hatchet, of process celeryPID for Celery) and its
// backend's run id.
func (env *executionEnv) measure(b *testing.B, id string, files map[string]any, n int, hatchetSide bool, celeryPID int) (time.Duration, float64, string) {
	b.Helper()
	pid := os.Getpid()
	if !hatchetSide {
		pid = celeryPID
	}
	resetPeakRSS(b, pid)
	calls := env.llm.Calls.Load()
	began := time.Now()
	// Execution ids are unique per run: the sides key what they keep by them.
	id = fmt.Sprintf("%s-%d", id, time.Now().UnixNano())
	// Ten batches, as the fixture chord (MAX_PARALLEL_FILE_BATCHES) cuts them.
	batch := (n + benchLanes - 1) / benchLanes
	a, err := env.shim.Execute(context.Background(), batchedRequest(id, files, hatchetSide, batch))
	if err != nil {
		b.Fatal(err)
	}
	st := env.waitFinalEvery(b, a.ID, 20*time.Minute, 20*time.Millisecond)
	took := time.Since(began)
	out := outputOf(b, st)
	if out.SuccessfulFiles != n-2 || out.FailedFiles != 2 {
		b.Fatalf("%s: %d successful, %d failed; want %d and 2", st.Backend, out.SuccessfulFiles, out.FailedFiles, n-2)
	}
	if got := env.llm.Calls.Load() - calls; got != int64((n-2)*len(executionOutputs)) {
		b.Fatalf("%s: %d LLM calls, want %d", st.Backend, got, (n-2)*len(executionOutputs))
	}
	return took, peakRSS(b, pid), st.BackendRef
}

// resetPeakRSS starts a new peak for process pid (Linux clear_refs 5).
func resetPeakRSS(b *testing.B, pid int) {
	b.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		b.Fatalf("reset peak RSS: %v", err)
	}
}

// peakRSS is process pid's peak resident set since the last reset, in MiB.
func peakRSS(b *testing.B, pid int) float64 {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatalf("VmHWM %q: %v", rest, err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc status")
	return 0
}

// BenchmarkDocumentLatency sends one document at a time through the shim to
// document-processing-v2 on the embedded engine, with the instant stub, 20
// in a row after one to warm up, and reports the p50 and largest time from
// submission to the status succeeded, polled every 10 ms, and each step's
// time queued and running from the engine's records.
func BenchmarkDocumentLatency(b *testing.B) {
	env := newExecutionEnv(b, 100, envSetup{})
	files := env.files(b, 1)
	path := files["hash-invoice-000.txt"].(map[string]any)["file_path"].(string)
	hatchetSide := true
	input, _ := json.Marshal(map[string]any{"document_path": path, "outputs": executionOutputs, "llm_adapter_id": "local"})
	req := shim.ExecuteRequest{Workflow: workflows.DocumentProcessingName, OrganizationID: "org_wx", Input: input, UseAbstraction: &hatchetSide}
	var steps stepTimes
	one := func() time.Duration {
		began := time.Now()
		a, err := env.shim.Execute(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		st := env.waitFinalEvery(b, a.ID, time.Minute, 10*time.Millisecond)
		took := time.Since(began)
		if st.State != shim.StateSucceeded {
			b.Fatalf("document %s: %+v", st.State, st.Error)
		}
		steps.add(b, env.client, st.BackendRef)
		return took
	}
	one()
	var took []time.Duration
	b.ResetTimer()
	for range b.N {
		for range 20 {
			took = append(took, one())
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
	steps.report(b)
}
