//lint:file-ignore SA1019 SpawnWorkflows hands back the SDK's v0 run handle (pkg/client.Workflow).

package workflows

import (
	"context"
	"fmt"
	"strings"

	v0client "github.com/hatchet-dev/hatchet/pkg/client"
)

// child is a spawned document run and the file it processes.
type child struct {
	name string
	run  *v0client.Workflow
}

// waitChildren waits for every child and returns its outcome by file name.
// A child that failed is an outcome, not an error; losing the engine's
// result stream is an error (the task is retried and finds the same
// children). When ctx ends first (the run was cancelled or timed out) it
// returns at once; each wait left behind ends when its child run ends.
func waitChildren(ctx context.Context, children []child) (map[string]FileOutcome, error) {
	type waited struct {
		name    string
		outcome FileOutcome
		err     error
	}
	results := make(chan waited, len(children))
	for _, c := range children {
		go func() {
			o, err := outcomeOf(c.run)
			results <- waited{name: c.name, outcome: o, err: err}
		}()
	}
	files := make(map[string]FileOutcome, len(children))
	for len(files) < len(children) {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %d of %d files: %w", len(children)-len(files), len(children), ctx.Err())
		case w := <-results:
			if w.err != nil {
				return nil, fmt.Errorf("wait for file %s: %w", w.name, w.err)
			}
			files[w.name] = w.outcome
		}
	}
	return files, nil
}

// outcomeOf waits for one child run. Its failure is the outcome's error;
// only a lost result stream is returned as an error.
func outcomeOf(run *v0client.Workflow) (FileOutcome, error) {
	o := FileOutcome{RunID: run.RunId()}
	res, err := run.Result()
	if err != nil && streamLost(err) {
		return o, err
	}
	if err != nil {
		o.Error = err.Error()
		return o, nil
	}
	var out DocumentOutput
	if err := res.StepOutput("process-llm", &out); err != nil {
		o.Error = fmt.Sprintf("read process-llm output: %v", err)
		return o, nil
	}
	o.Result = &out
	return o, nil
}

// streamLost reports the SDK's errors for a result subscription that broke,
// as opposed to a run that failed; it says so only in their text.
func streamLost(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "failed to listen for workflow events") || strings.HasPrefix(msg, "workflow run listener terminated")
}
