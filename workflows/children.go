//lint:file-ignore SA1019 SpawnWorkflows hands back the SDK's v0 run handle (pkg/client.Workflow).

package workflows

import (
	"context"
	"fmt"
	"strings"

	v0client "github.com/hatchet-dev/hatchet/pkg/client"
)

// runHandle is a spawned run as the SDK hands it back (*client.Workflow):
// its id and a wait for its result.
type runHandle interface {
	RunId() string
	Result() (*v0client.WorkflowResult, error)
}

// batchRun is a spawned process-file-batch run and the files it processes.
type batchRun struct {
	files []PlannedFile
	run   runHandle
}

// waited is one batch run's end: its files' outcomes, or a lost result
// stream.
type waited struct {
	batch    int
	outcomes map[string]FileOutcome
	err      error
}

// waitBatches waits for every batch and returns each file's outcome by
// name. A batch that failed as a whole is every one of its files' error,
// not an error; losing the engine's result stream is an error (the task is
// retried and finds the same batches). A batch run the watch finds unborn
// is spawned again, and the batch's outcome is that of whichever of its
// runs ends first. When ctx ends first (the run was cancelled or timed
// out) it returns at once; each wait left behind ends when its batch run
// ends.
func waitBatches(ctx context.Context, batches []batchRun, watch *unbornWatch) (map[string]FileOutcome, error) {
	done := make(chan struct{})
	defer close(done)
	results := make(chan waited)
	wait := func(i int, b batchRun) {
		go func() {
			o, err := outcomesOf(b)
			select {
			case results <- waited{batch: i, outcomes: o, err: err}:
			case <-done:
			}
		}()
	}
	for i, b := range batches {
		wait(i, b)
	}
	watch.begin(batches)
	defer watch.stop()
	files, gathered := map[string]FileOutcome{}, make([]bool, len(batches))
	for left := len(batches); left > 0; {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for batches of %d files (%d gathered): %w", countFiles(batches), len(files), ctx.Err())
		case w := <-results:
			if w.err != nil {
				return nil, fmt.Errorf("wait for batch %d: %w", w.batch, w.err)
			}
			if gathered[w.batch] {
				continue // its other run ended first
			}
			gathered[w.batch], left = true, left-1
			for name, o := range w.outcomes {
				files[name] = o
			}
		case <-watch.tick():
			again, err := watch.check(ctx, gathered)
			if err != nil {
				return nil, err
			}
			for i, run := range again {
				wait(i, batchRun{files: batches[i].files, run: run})
			}
		}
	}
	return files, nil
}

// countFiles is how many files the batches hold.
func countFiles(batches []batchRun) int {
	n := 0
	for _, b := range batches {
		n += len(b.files)
	}
	return n
}

// outcomesOf waits for one batch run. Its failure becomes each of its files'
// error; only a lost result stream is returned as an error.
func outcomesOf(b batchRun) (map[string]FileOutcome, error) {
	res, err := b.run.Result()
	if err != nil && streamLost(err) {
		return nil, err
	}
	if err == nil {
		var out FileBatchOutput
		if err = res.StepOutput("process-batch", &out); err == nil {
			return completed(b, out), nil
		}
		err = fmt.Errorf("read process-batch output: %w", err)
	}
	files := make(map[string]FileOutcome, len(b.files))
	for _, f := range b.files {
		files[f.Name] = FileOutcome{RunID: b.run.RunId(), Error: "batch failed: " + err.Error()}
	}
	return files, nil
}

// completed is a finished batch's outcomes; a file its output lacks has
// "no result".
func completed(b batchRun, out FileBatchOutput) map[string]FileOutcome {
	files := make(map[string]FileOutcome, len(b.files))
	for _, f := range b.files {
		o, ok := out.Files[f.Name]
		if !ok {
			o = FileOutcome{RunID: b.run.RunId(), Error: "no result"}
		}
		files[f.Name] = o
	}
	return files
}

// streamLost reports the SDK's errors for a result subscription that broke,
// as opposed to a run that failed; it says so only in their text.
func streamLost(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "failed to listen for workflow events") || strings.HasPrefix(msg, "workflow run listener terminated")
}
