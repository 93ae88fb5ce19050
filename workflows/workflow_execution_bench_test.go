package workflows_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchFiles is the size of the benchmark's execution: 198 invoices, an
// empty file and a missing one.
const benchFiles = 200

// benchLanes is how many files each side processes at once: Hatchet's
// document-processing-v2 runs ten per organisation, the fixture Celery
// worker has ten threads and cuts an execution into ten batches.
const benchLanes = 10

// BenchmarkWorkflowExecution200 runs one 200-file execution through the shim
// on Hatchet (fan-out to document-processing-v2, fan-in) and on the legacy
// Celery chord (process_file_batch × 10 → process_batch_callback, completed
// by chord_unlock polling the Postgres result backend), against the same
// local LLM stub that answers at once. For each side it reports the wall
// time from submission to the final status, the time each file holds one of
// the ten lanes (wall × 10 / 200: orchestration, extraction and the stub's
// answers) and the peak RSS of the process serving it: for Hatchet this test
// process, holding the embedded engine, the worker and the shim; for Celery
// the Python worker. The sides alternate which goes first. Run with:
//
//	go test -run '^$' -bench WorkflowExecution200 -benchtime 1x ./workflows
func BenchmarkWorkflowExecution200(b *testing.B) {
	env := newExecutionEnv(b, 100, nil)
	files := env.files(b, benchFiles-2)
	sides := []struct {
		name    string
		hatchet bool
		pid     int
	}{{"hatchet", true, os.Getpid()}, {"celery", false, env.celery.PID()}}
	wall := map[string]time.Duration{}
	peak := map[string]float64{}
	b.ResetTimer()
	for i := range b.N {
		for j := range sides {
			side := sides[(i+j)%len(sides)]
			w, p := env.measure(b, fmt.Sprintf("bench-%s-%d", side.name, i), files, side.hatchet, side.pid)
			wall[side.name] += w
			peak[side.name] = max(peak[side.name], p)
		}
	}
	for _, side := range sides {
		w := wall[side.name] / time.Duration(b.N)
		b.ReportMetric(w.Seconds(), side.name+"-s")
		b.ReportMetric(float64(w.Milliseconds())*benchLanes/benchFiles, side.name+"-lane-ms/file")
		b.ReportMetric(peak[side.name], side.name+"-peak-MiB")
	}
	b.ReportMetric(wall["hatchet"].Seconds()/wall["celery"].Seconds(), "hatchet/celery")
}

// measure runs one execution to its end and returns its wall time and the
// peak RSS of process pid meanwhile, in MiB.
func (env *executionEnv) measure(b *testing.B, id string, files map[string]any, hatchetSide bool, pid int) (time.Duration, float64) {
	b.Helper()
	resetPeakRSS(b, pid)
	calls := env.llm.Calls.Load()
	began := time.Now()
	a, err := env.shim.Execute(context.Background(), request(id, files, hatchetSide))
	if err != nil {
		b.Fatal(err)
	}
	st := env.waitFinal(b, a.ID, 20*time.Minute)
	took := time.Since(began)
	out := outputOf(b, st)
	if out.SuccessfulFiles != benchFiles-2 || out.FailedFiles != 2 {
		b.Fatalf("%s: %d successful, %d failed; want %d and 2", st.Backend, out.SuccessfulFiles, out.FailedFiles, benchFiles-2)
	}
	if n := env.llm.Calls.Load() - calls; n != int64((benchFiles-2)*len(executionOutputs)) {
		b.Fatalf("%s: %d LLM calls, want %d", st.Backend, n, (benchFiles-2)*len(executionOutputs))
	}
	return took, peakRSS(b, pid)
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
