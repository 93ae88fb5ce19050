//go:build integration

//lint:file-ignore SA1019 the ceiling spawns its items in one call as workflow-execution does, through HatchetContext.SpawnWorkflows.

package e2e_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	pkgworker "github.com/hatchet-dev/hatchet/pkg/worker"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"golang.org/x/sync/errgroup"

	"github.com/unstract/hatchet-worker/internal/hatchetrun"
	"github.com/unstract/hatchet-worker/workflows"
)

// Names of the engine-ceiling workflows: a durable parent spawning n
// trivial one-task items in one call and waiting for them, no concurrency
// key on either.
const (
	ceilingParent = "bench-ceiling"
	ceilingItem   = "bench-ceiling-item"
)

// ceilingInput is the parent's input: how many items to spawn.
type ceilingInput struct {
	Items int `json:"items"`
}

// ceilingValue is an item's input and output.
type ceilingValue struct {
	N int `json:"n"`
}

// ceilingWorkflows are the engine-ceiling workflows.
func ceilingWorkflows() []workflows.Definition {
	item := func(_ hatchet.Context, in ceilingValue) (ceilingValue, error) { return in, nil }
	parent := func(ctx hatchet.DurableContext, in ceilingInput) (ceilingValue, error) {
		opts := make([]*pkgworker.SpawnWorkflowsOpts, in.Items)
		for i := range opts {
			key := fmt.Sprintf("item:%d", i)
			opts[i] = &pkgworker.SpawnWorkflowsOpts{WorkflowName: ceilingItem, Input: ceilingValue{N: i}, Key: &key}
		}
		runs, err := ctx.SpawnWorkflows(opts)
		if err != nil {
			return ceilingValue{}, fmt.Errorf("spawn %d items: %w", in.Items, err)
		}
		// Wait for every item at once, as workflow-execution waits for its
		// batches: one wait after another finds each finished item only at
		// the engine's next one-second poll.
		values := make([]int, len(runs))
		var g errgroup.Group
		for i, r := range runs {
			g.Go(func() error {
				res, err := r.Result()
				if err != nil {
					return fmt.Errorf("item %s: %w", r.RunId(), err)
				}
				var v ceilingValue
				if err := res.StepOutput("echo", &v); err != nil {
					return fmt.Errorf("item %s output: %w", r.RunId(), err)
				}
				values[i] = v.N
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return ceilingValue{}, err
		}
		sum := 0
		for _, v := range values {
			sum += v
		}
		return ceilingValue{N: sum}, nil
	}
	return []workflows.Definition{
		{Name: ceilingItem, Description: "Engine ceiling: a trivial task.", Timeout: 10 * time.Minute,
			Tasks: []workflows.Task{{Name: "echo", Timeout: time.Minute, Fn: item}}},
		{Name: ceilingParent, Description: "Engine ceiling: spawn trivial tasks in one call and wait for them.", Timeout: 30 * time.Minute,
			Tasks: []workflows.Task{{Name: "spawn", Timeout: 20 * time.Minute, Durable: true, Fn: parent}}},
	}
}

// ceiling runs the engine-ceiling parent over n items on the execution
// env's engine and worker and returns its wall time and this process's peak
// RSS meanwhile, in MiB.
func (env *executionEnv) ceiling(b *testing.B, id string, n int) (time.Duration, float64) {
	b.Helper()
	resetPeakRSS(b, os.Getpid())
	began := time.Now()
	res, err := env.client.Run(context.Background(), ceilingParent, ceilingInput{Items: n}, hatchet.WithRunMetadata(map[string]string{"bench": id}))
	if err != nil {
		b.Fatal(err)
	}
	took := time.Since(began)
	var v ceilingValue
	if err := res.TaskOutput("spawn").Into(&v); err != nil {
		b.Fatal(err)
	}
	if want := n * (n - 1) / 2; v.N != want {
		b.Fatalf("ceiling: items summed to %d, want %d", v.N, want)
	}
	return took, peakRSS(b, os.Getpid())
}

// stepTimes gathers, from the engine's records, how long each step of the
// measured executions waited queued and ran, by step.
type stepTimes struct {
	queued, running map[string][]time.Duration
	// spawn is from the parent task's start to its first child's creation;
	// gather from the last child's end to the parent task's.
	spawn, gather []time.Duration
}

// add reads the steps of run runID and of the runs it spawned.
func (s *stepTimes) add(b *testing.B, client *hatchet.Client, runID string) {
	b.Helper()
	if s.queued == nil {
		s.queued, s.running = map[string][]time.Duration{}, map[string][]time.Duration{}
	}
	ctx := context.Background()
	d, err := client.Runs().Get(ctx, runID)
	if err != nil {
		b.Fatal(err)
	}
	tasks := d.Tasks
	meta := []string{hatchetrun.ParentRunKey + ":" + runID}
	limit := int64(10000)
	list, err := client.Runs().List(ctx, rest.V1WorkflowRunListParams{Since: time.Now().Add(-time.Hour), AdditionalMetadata: &meta,
		Limit: &limit, OnlyTasks: true})
	if err != nil {
		b.Fatal(err)
	}
	var parentStart, parentEnd, firstChild, lastChild time.Time
	for _, t := range tasks {
		if t.StartedAt != nil && t.FinishedAt != nil {
			parentStart, parentEnd = *t.StartedAt, *t.FinishedAt
		}
	}
	for _, t := range list.Rows {
		if firstChild.IsZero() || t.CreatedAt.Before(firstChild) {
			firstChild = t.CreatedAt
		}
		if t.FinishedAt != nil && t.FinishedAt.After(lastChild) {
			lastChild = *t.FinishedAt
		}
	}
	if !parentStart.IsZero() && !firstChild.IsZero() && !lastChild.IsZero() {
		s.spawn = append(s.spawn, firstChild.Sub(parentStart))
		s.gather = append(s.gather, parentEnd.Sub(lastChild))
	}
	for _, t := range append(tasks, list.Rows...) {
		if t.StartedAt == nil || t.FinishedAt == nil {
			continue
		}
		name := hatchetrun.TaskName(t)
		created := t.CreatedAt
		if created.IsZero() {
			created = t.TaskInsertedAt
		}
		s.queued[name] = append(s.queued[name], t.StartedAt.Sub(created))
		s.running[name] = append(s.running[name], t.FinishedAt.Sub(*t.StartedAt))
	}
}

// report logs every step's median and largest times and reports the
// batches' as metrics.
func (s *stepTimes) report(b *testing.B) {
	var lines []string
	for _, name := range slices.Sorted(maps.Keys(s.queued)) {
		q, r := s.queued[name], s.running[name]
		lines = append(lines, fmt.Sprintf("%s ×%d: queued p50 %s max %s, running p50 %s max %s", name, len(q), p50(q), slices.Max(q), p50(r), slices.Max(r)))
		if name == "process-batch" {
			b.ReportMetric(float64(p50(q).Milliseconds()), "batch-queued-p50-ms")
			b.ReportMetric(float64(slices.Max(q).Milliseconds()), "batch-queued-max-ms")
			b.ReportMetric(float64(p50(r).Milliseconds()), "batch-running-p50-ms")
		}
	}
	if len(s.spawn) > 0 {
		lines = append(lines, fmt.Sprintf("spawn (parent start to first child) p50 %s, gather (last child end to parent end) p50 %s", p50(s.spawn), p50(s.gather)))
		b.ReportMetric(float64(p50(s.spawn).Milliseconds()), "spawn-p50-ms")
		b.ReportMetric(float64(p50(s.gather).Milliseconds()), "gather-p50-ms")
	}
	b.Logf("hatchet steps, from the engine's records:\n%s", strings.Join(lines, "\n"))
}

// p50 is the median of ds.
func p50(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
