package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/app"
	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/internal/hatchetrun"
	"github.com/unstract/hatchet-worker/internal/worker"
	"github.com/unstract/hatchet-worker/workflows"
)

const (
	// pollInterval is how often `workflows test` reads the run's state.
	pollInterval = 500 * time.Millisecond
	// queueAllowance is added to the workflow's timeout when --timeout is
	// not given, for the run to be queued and picked up.
	queueAllowance = 30 * time.Second
	// testWorkerName and testWorkerSlots describe the worker `workflows
	// test` starts in this process.
	testWorkerName  = "hatchet-worker-cli"
	testWorkerSlots = 5
	// testWorkerLabel is the worker label, unique per command, that pins
	// the test run to the command's own worker.
	testWorkerLabel = "cli-test-run"
)

// testArgs are the parsed arguments of "workflows test".
type testArgs struct {
	workflow string
	input    json.RawMessage
	timeout  time.Duration // 0: the workflow's timeout plus queueAllowance
}

func testCommand(ctx context.Context, defs []workflows.Definition, args []string, stdout, stderr io.Writer, getenv func(string) string, m *worker.Metrics) int {
	ta, err := parseTest(args, stderr)
	if err == nil {
		_, _, err = checkTest(defs, ta) // before starting an engine for nothing
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "workflows test: %v\n", err)
		}
		return usageExit(err)
	}
	s, code := connect(ctx, "workflows test", getenv, stderr, config.UseCelery, config.UseHelpers)
	if s == nil {
		return code
	}
	defer s.close(ctx)
	deps, err := app.OpenDependencies(ctx, s.cfg, s.log)
	if err != nil {
		fmt.Fprintf(stderr, "workflows test: %v\n", err)
		return ExitUsage
	}
	defer deps.Close(context.WithoutCancel(ctx))
	deps.Workflows.Runs = hatchetrun.Records{Client: s.conn.Client}
	return runTest(ctx, s.conn.Client, workflows.Registry(deps.Workflows), ta, cmdIO{stdout: stdout, stderr: stderr, log: s.log, metrics: m})
}

// parseTest parses --workflow NAME [--input JSON|@FILE] [--timeout D].
func parseTest(args []string, stderr io.Writer) (testArgs, error) {
	var ta testArgs
	var input string
	fs := flag.NewFlagSet("workflows test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&ta.workflow, "workflow", "", "name of the workflow to run (see workflows list)")
	fs.StringVar(&input, "input", "{}", "run input: a JSON object, or @FILE to read it from FILE")
	fs.DurationVar(&ta.timeout, "timeout", 0, "how long to wait for the run (default: the workflow's timeout plus 30s)")
	if err := fs.Parse(args); err != nil {
		return ta, err
	}
	if fs.NArg() > 0 {
		return ta, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if ta.workflow == "" {
		return ta, errors.New("--workflow is required")
	}
	if ta.timeout < 0 {
		return ta, errors.New("--timeout must be positive")
	}
	if file, ok := strings.CutPrefix(input, "@"); ok {
		b, err := os.ReadFile(file)
		if err != nil {
			return ta, fmt.Errorf("--input: %w", err)
		}
		input = string(b)
	}
	ta.input = json.RawMessage(input)
	return ta, nil
}

// checkTest finds the workflow ta names and checks its input is one JSON
// object; it returns the definition and the effective timeout.
func checkTest(defs []workflows.Definition, ta testArgs) (workflows.Definition, time.Duration, error) {
	i := slices.IndexFunc(defs, func(d workflows.Definition) bool { return d.Name == ta.workflow })
	if i < 0 {
		names := make([]string, len(defs))
		for j, d := range defs {
			names[j] = d.Name
		}
		return workflows.Definition{}, 0, fmt.Errorf("unknown workflow %q (known: %s)", ta.workflow, strings.Join(names, ", "))
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(ta.input))
	if err := dec.Decode(&obj); err != nil {
		return workflows.Definition{}, 0, fmt.Errorf("--input must be a JSON object: %w", err)
	}
	if obj == nil {
		return workflows.Definition{}, 0, errors.New("--input must be a JSON object, not null")
	}
	if dec.More() {
		return workflows.Definition{}, 0, errors.New("--input: trailing data after the JSON object")
	}
	timeout := ta.timeout
	if timeout == 0 {
		timeout = defs[i].Timeout + queueAllowance
	}
	return defs[i], timeout, nil
}

// runTest runs the workflow ta names on client end to end: it starts a
// worker in this process for that workflow, triggers a run (metadata
// source=cli), prints its state changes on stderr and its output on stdout.
// It returns ExitOK when the run completed, ExitFailed when it failed or
// was cancelled, ExitUsage for bad arguments or an engine that refuses the
// worker or the run, and ExitTimeout when the run did not finish in time
// (the run is then cancelled).
func runTest(ctx context.Context, client *hatchet.Client, defs []workflows.Definition, ta testArgs, c cmdIO) int {
	d, timeout, err := checkTest(defs, ta)
	if err != nil {
		fmt.Fprintf(c.stderr, "workflows test: %v\n", err)
		return ExitUsage
	}
	wf, err := d.Build(client)
	if err != nil {
		fmt.Fprintf(c.stderr, "workflows test: %v\n", err)
		return ExitUsage
	}
	// Only the workflow under test: on a shared engine this worker must not
	// take other workflows' runs. The run requires this worker's own label,
	// so the service's workers (other settings) or an earlier test worker
	// that just stopped never take it.
	label := map[string]any{testWorkerLabel: rand.Text()}
	w, err := worker.Start(client, testWorkerName, testWorkerSlots, []*hatchet.Workflow{wf}, c.log, worker.WithLabels(label), worker.WithoutHandOver())
	if err != nil {
		fmt.Fprintf(c.stderr, "workflows test: %v\n", err)
		return ExitUsage
	}
	defer stopWorker(ctx, w, c)

	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	began := time.Now()
	ref, err := client.RunNoWait(runCtx, d.Name, ta.input, hatchet.WithRunMetadata(map[string]string{"source": "cli"}),
		hatchet.WithDesiredWorkerLabels(map[string]*hatchet.DesiredWorkerLabel{
			testWorkerLabel: {Value: label[testWorkerLabel], Required: true}}))
	if err != nil {
		fmt.Fprintf(c.stderr, "workflows test: start %s: %v\n", d.Name, err)
		if runCtx.Err() != nil {
			c.metrics.Ran(d.Name, "timeout", time.Since(began))
			return ExitTimeout
		}
		return ExitUsage
	}
	fmt.Fprintf(c.stderr, "run %s of %s started (timeout %s)\n", ref.RunId, d.Name, timeout)
	details, last, err := watch(runCtx, client, ref.RunId, began, c.stderr)
	took := time.Since(began)
	if err != nil {
		why := "timed out"
		if ctx.Err() != nil {
			why = "interrupted"
		}
		c.metrics.Ran(d.Name, strings.ReplaceAll(why, "timed out", "timeout"), took)
		fmt.Fprintf(c.stderr, "workflows test: %s after %s; run %s was %s: %v\n", why, took.Round(time.Millisecond), ref.RunId, orUnknown(last), err)
		cancelRun(ctx, client, ref.RunId, c)
		if ctx.Err() != nil {
			return ExitFailed
		}
		return ExitTimeout
	}
	run := details.Run
	c.metrics.Ran(d.Name, strings.ToLower(string(run.Status)), took)
	if run.Status != rest.V1TaskStatusCOMPLETED {
		msg := hatchetrun.Error(details)
		if msg == "" {
			msg = "no error message"
		}
		fmt.Fprintf(c.stderr, "workflows test: run %s %s: %s\n", ref.RunId, run.Status, msg)
		return ExitFailed
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(run.Output); err != nil {
		fmt.Fprintf(c.stderr, "workflows test: write output: %v\n", err)
		return ExitFailed
	}
	return ExitOK
}

// stopWorker drains the test worker. A task still running (a cancelled
// run) gets a few seconds to see its cancellation first: stopping the
// worker also stops the stream that cancellations arrive on.
func stopWorker(ctx context.Context, w *worker.Worker, c cmdIO) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	for w.Running() > 0 && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := w.Drain(ctx); err != nil {
		c.log.Warn("drain test worker", "err", err)
	}
}

// watch polls the run until it reaches a final state, printing each change
// of the run's and its tasks' states. It returns the final details, or the
// last state seen and ctx's error (with the last poll error, if any).
func watch(ctx context.Context, client *hatchet.Client, runID string, began time.Time, progress io.Writer) (*rest.V1WorkflowRunDetails, rest.V1TaskStatus, error) {
	var (
		last    rest.V1TaskStatus
		lastErr error
		tasks   = map[string]rest.V1TaskStatus{}
	)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		d, err := client.Runs().Get(ctx, runID)
		switch {
		case err != nil && !hatchetrun.NotYetVisible(err):
			if lastErr == nil || lastErr.Error() != err.Error() {
				fmt.Fprintf(progress, "  (reading run: %v)\n", err)
			}
			lastErr = err
		case err == nil:
			lastErr = nil
			elapsed := time.Since(began).Seconds()
			if st := d.Run.Status; st != last {
				if last == "" {
					fmt.Fprintf(progress, "run %s (%.1fs)\n", st, elapsed)
				} else {
					fmt.Fprintf(progress, "run %s → %s (%.1fs)\n", last, st, elapsed)
				}
				last = st
			}
			for _, t := range d.Tasks {
				id := t.TaskExternalId.String()
				if prev, seen := tasks[id]; !seen || prev != t.Status {
					fmt.Fprintf(progress, "  task %s: %s\n", hatchetrun.TaskName(t), t.Status)
					tasks[id] = t.Status
				}
			}
			if hatchetrun.Final(d.Run.Status) {
				return d, last, nil
			}
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return nil, last, fmt.Errorf("%w (last error: %w)", ctx.Err(), lastErr)
			}
			return nil, last, ctx.Err()
		case <-ticker.C:
		}
	}
}

// cancelRun cancels a run the command gave up on, so it does not linger on
// the engine after this process (and its worker) are gone.
func cancelRun(ctx context.Context, client *hatchet.Client, runID string, c cmdIO) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := hatchetrun.Cancel(ctx, client, runID); err != nil {
		fmt.Fprintf(c.stderr, "workflows test: %v\n", err)
		return
	}
	fmt.Fprintf(c.stderr, "cancelled run %s\n", runID)
}

func orUnknown(s rest.V1TaskStatus) string {
	if s == "" {
		return "not visible yet"
	}
	return string(s)
}
