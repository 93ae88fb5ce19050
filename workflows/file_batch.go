//lint:file-ignore SA1019 the SDK tells a non-retryable error apart only through pkg/worker.IsNonRetryableError.

package workflows

import (
	"context"
	"fmt"
	"time"

	pkgworker "github.com/hatchet-dev/hatchet/pkg/worker"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"golang.org/x/sync/errgroup"

	"github.com/unstract/hatchet-worker/helpers/chunk"
	"github.com/unstract/hatchet-worker/platform"
)

// FileBatchName is the Hatchet name of the workflow that processes one batch
// of an execution's files, as the platform's process_file_batch does.
const FileBatchName = "process-file-batch"

// perOrgBatches bounds one organisation's batches in flight, the ten lanes
// the platform runs an execution's batches on (MAX_PARALLEL_FILE_BATCHES).
const perOrgBatches = 10

// fileTimeout is one file's budget within its batch, document-processing-v2's
// budget for a whole document.
const fileTimeout = 30 * time.Minute

// fileAttempts is how often a file is tried when reading it fails in a way
// that may pass (storage down); the DAG's extract-text has two retries.
const fileAttempts = 3

// fileRetryDelay is the wait before a file's second attempt, doubled before
// each further one.
const fileRetryDelay = 2 * time.Second

// FileBatchInput is process-file-batch's input: the files of one batch and
// the settings every file is processed with.
type FileBatchInput struct {
	// OrganizationID is the execution's organisation (its schema_name), the
	// batch's concurrency group.
	OrganizationID string `json:"organization_id"`
	ExecutionID    string `json:"execution_id"`
	// Batch is the batch's index in the execution, from 0.
	Batch int           `json:"batch"`
	Files []PlannedFile `json:"files"`
	DocumentSettings
	// Platform is the execution as the platform knows it, to which each
	// file's start and outcome are reported.
	Platform platform.Execution `json:"platform"`
}

// FileBatchOutput is process-file-batch's output: the counts of
// process_file_batch's result and each file's outcome by name.
type FileBatchOutput struct {
	SuccessfulFiles int                    `json:"successful_files"`
	FailedFiles     int                    `json:"failed_files"`
	Files           map[string]FileOutcome `json:"files"`
}

// FileBatch processes a batch of an execution's files in one task: each
// file is read, chunked and prompted, the files and their prompts at once
// within the LLM adapter's max_concurrency. A failing file fails only
// itself; the task fails only when it is cancelled or times out.
func FileBatch(deps Deps) Definition {
	if deps.Documents == nil {
		deps.Documents = refuseAll{}
	}
	b := &batchTasks{docs: &documentTasks{deps: deps}, reporter: deps.Reporter}
	return Definition{
		Name:        FileBatchName,
		Description: "Process one batch of a workflow execution's files: extract, chunk and prompt each file, and report every file's outcome.",
		Timeout:     4 * time.Hour,
		Options:     []hatchet.WorkflowOption{perOrganization(perOrgBatches)},
		// One retry, for a worker lost mid-batch; the retry processes the
		// batch's files again.
		Tasks: []Task{{Name: "process-batch", Timeout: 4 * time.Hour, Retries: 1, Fn: b.process}},
	}
}

// batchTasks holds process-file-batch's task function.
type batchTasks struct {
	docs     *documentTasks
	reporter Reporter // nil reports nothing
}

// process runs every file of the batch and gathers the outcomes.
func (b *batchTasks) process(ctx hatchet.Context, in FileBatchInput) (FileBatchOutput, error) {
	log := b.docs.deps.Log
	lanes := min(max(len(in.Files), 1), b.docs.deps.LLM.MaxConcurrency(in.LLMAdapterID))
	progress(ctx, log, "batch started", "execution_id", in.ExecutionID, "batch", in.Batch, "files", len(in.Files), "lanes", lanes)
	outcomes := make([]FileOutcome, len(in.Files))
	g := errgroup.Group{}
	g.SetLimit(lanes)
	for i, f := range in.Files {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if ctx.Err() == nil {
				outcomes[i] = b.file(ctx, in, f)
			}
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return FileBatchOutput{}, fmt.Errorf("batch %d of execution %s: %w", in.Batch, in.ExecutionID, err)
	}
	out := FileBatchOutput{Files: make(map[string]FileOutcome, len(in.Files))}
	for i, f := range in.Files {
		out.Files[f.Name] = outcomes[i]
		if outcomes[i].Error == "" {
			out.SuccessfulFiles++
		} else {
			out.FailedFiles++
		}
	}
	progress(ctx, log, "batch finished", "execution_id", in.ExecutionID, "batch", in.Batch,
		"successful_files", out.SuccessfulFiles, "failed_files", out.FailedFiles)
	return out, nil
}

// file processes one file: the point where a file starts and finishes with
// its outcome, both written to the batch's log in the dashboard.
func (b *batchTasks) file(ctx hatchet.Context, in FileBatchInput, f PlannedFile) FileOutcome {
	log := b.docs.deps.Log
	began := time.Now()
	progress(ctx, log, "file started", "file", f.Name, "document", f.Path)
	b.reportFileStarted(ctx, in, f)
	o := FileOutcome{RunID: ctx.WorkflowRunId()}
	res, err := b.attempts(ctx, in, f)
	if err != nil {
		o.Error = err.Error()
		progress(ctx, log, "file failed", "file", f.Name, "seconds", secondsSince(began), "error", o.Error)
	} else {
		o.Result = &res
		progress(ctx, log, "file succeeded", "file", f.Name, "seconds", secondsSince(began))
	}
	b.reportFileFinished(ctx, in, f, o, time.Since(began))
	return o
}

// attempts tries the file until it succeeds, fails for good, or has been
// tried fileAttempts times.
func (b *batchTasks) attempts(ctx context.Context, in FileBatchInput, f PlannedFile) (DocumentOutput, error) {
	delay := fileRetryDelay
	for attempt := 1; ; attempt++ {
		res, err := b.once(ctx, in, f)
		if err == nil || pkgworker.IsNonRetryableError(err) || attempt == fileAttempts || ctx.Err() != nil {
			return res, err
		}
		select {
		case <-ctx.Done():
			return DocumentOutput{}, fmt.Errorf("%w (retry of %s stopped: %w)", err, f.Name, ctx.Err())
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// once reads, chunks and prompts one file, as document-processing-v2's three
// steps do, reading the document once.
func (b *batchTasks) once(ctx context.Context, in FileBatchInput, f PlannedFile) (DocumentOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, fileTimeout)
	defer cancel()
	d := b.docs
	doc := DocumentInput{DocumentPath: f.Path, DocumentSettings: in.DocumentSettings,
		OrganizationID: in.OrganizationID, ExecutionID: in.ExecutionID}
	if err := doc.validate(d.deps); err != nil {
		return DocumentOutput{}, err
	}
	text, _, err := d.readText(ctx, f.Path)
	if err != nil {
		return DocumentOutput{}, err
	}
	chunks, err := chunk.Split(text, in.ChunkSize, in.ChunkOverlap, chunk.WholeWhenZero())
	if err != nil {
		return DocumentOutput{}, badInput("chunk: %w", err)
	}
	spans := make([]ChunkSpan, len(chunks))
	for i, c := range chunks {
		spans[i] = ChunkSpan{Index: c.Index, Start: c.Start, End: c.End}
	}
	client, err := d.deps.LLM.Client(in.LLM, in.LLMAdapterID)
	if err != nil {
		return DocumentOutput{}, badInput("%w", err)
	}
	out, _, err := d.deps.LLM.runPrompts(ctx, client, in.LLMAdapterID, in.Outputs, spans, []rune(text))
	return out, err
}

// secondsSince is the time since t in seconds, to the millisecond.
func secondsSince(t time.Time) float64 {
	return float64(time.Since(t).Milliseconds()) / 1000
}
