//lint:file-ignore SA1019 the SDK spawns a batch of children in one call only through HatchetContext.SpawnWorkflows.

package workflows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"time"

	pkgworker "github.com/hatchet-dev/hatchet/pkg/worker"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/hatchetrun"
	"github.com/unstract/hatchet-worker/platform"
	"github.com/unstract/hatchet-worker/shim/route"
)

// WorkflowExecutionName is the Hatchet name of a whole workflow execution.
const WorkflowExecutionName = "workflow-execution"

// Platform task and queue of a workflow execution: the backend sends
// async_execute_bin to "celery", and API deployments to QueueAPIDeployments.
const (
	TaskAsyncExecuteBin = "async_execute_bin"
	QueueCelery         = "celery"
)

// DefaultBatchSize is how many files one process-file-batch child processes
// when the input names no batch size.
const DefaultBatchSize = 20

// perOrgExecutions bounds one organisation's executions in flight; their
// batches are bounded by process-file-batch's own per-organisation key.
const perOrgExecutions = 5

// FileHash is one file of an execution as the platform describes it (a value
// of hash_values_of_files). Fields the workflow does not use travel to the
// legacy task untouched and are ignored here.
type FileHash struct {
	FilePath string `json:"file_path"`
	FileName string `json:"file_name,omitempty"`
	FileHash string `json:"file_hash,omitempty"`
}

// ExecutionInput is workflow-execution's input: async_execute_bin's
// arguments, a batch size, the document settings and an optional webhook.
type ExecutionInput struct {
	// SchemaName is the organisation, as the platform names it.
	SchemaName        string              `json:"schema_name"`
	WorkflowID        string              `json:"workflow_id"`
	ExecutionID       string              `json:"execution_id"`
	HashValuesOfFiles map[string]FileHash `json:"hash_values_of_files"`
	Scheduled         bool                `json:"scheduled,omitempty"`
	ExecutionMode     string              `json:"execution_mode,omitempty"`
	PipelineID        string              `json:"pipeline_id,omitempty"`
	UseFileHistory    *bool               `json:"use_file_history,omitempty"`
	LogEventsID       string              `json:"log_events_id,omitempty"`
	// BatchSize is how many files one process-file-batch child processes
	// (default DefaultBatchSize).
	BatchSize int `json:"batch_size,omitempty"`
	// WebhookURL receives the execution's summary through the legacy
	// send_webhook_notification task; empty sends none.
	WebhookURL string `json:"webhook_url,omitempty"`
	DocumentSettings
}

// PlannedFile is one file of a batch: its name (the key of its result) and
// where the document is read.
type PlannedFile struct {
	Name string `json:"name"`
	Path string `json:"path"`
	// Hash is the platform's file_hash, the file execution's key.
	Hash string `json:"hash,omitempty"`
}

// ExecutionPlan is how an execution's files are cut into batches.
type ExecutionPlan struct {
	Files   int             `json:"files"`
	Batches [][]PlannedFile `json:"batches"`
}

// FileOutcome is what became of one file; RunID is the batch run that
// processed it.
type FileOutcome struct {
	RunID  string          `json:"run_id"`
	Result *DocumentOutput `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// ExecutionOutput is the workflow's result, the shape of the legacy chord's
// process_batch_callback: counts, and each file's result or error by name.
type ExecutionOutput struct {
	SuccessfulFiles int                       `json:"successful_files"`
	FailedFiles     int                       `json:"failed_files"`
	Results         map[string]DocumentOutput `json:"results"`
	Errors          map[string]string         `json:"errors"`
	// WebhookTaskID is the legacy webhook task's id, when one was sent.
	WebhookTaskID string `json:"webhook_task_id,omitempty"`
	// Attempt is the attempt of process-files that gathered the outcomes
	// (0 the first); a retry finds the batches the first one started.
	Attempt int `json:"attempt"`
}

// ErrBadExecution reports input no execution can run with; the shim
// answers it with a 422.
var ErrBadExecution = errors.New("invalid workflow execution")

// WorkflowExecution runs a whole workflow execution in one durable task,
// process-files: it plans the batches, starts one process-file-batch child
// per batch (all in one call, with stable keys), and gathers the outcomes.
// One task rather than a DAG of three: each step of a DAG with a
// concurrency key waits on the engine's concurrency path again (about
// 400 ms a step on the embedded engine). A failing file fails only itself;
// cancelling through the shim cancels the batches too.
func WorkflowExecution(deps Deps) Definition {
	if deps.Documents == nil {
		deps.Documents = refuseAll{}
	}
	x := &executionTasks{deps: deps}
	return Definition{
		Name:        WorkflowExecutionName,
		Description: "Run a platform workflow execution over many files: one process-file-batch child per batch of files, gathered into successful and failed files.",
		Timeout:     4*time.Hour + 15*time.Minute,
		Options:     []hatchet.WorkflowOption{perGroup(schemaKey, perOrgExecutions)},
		Tasks: []Task{
			{Name: "process-files", Timeout: 4 * time.Hour, Retries: 2, Durable: true, Fn: x.run},
		},
		Route: &route.Route{
			Legacy: &route.LegacyTask{Task: TaskAsyncExecuteBin, Queue: QueueCelery, Args: executeBinArgs, Input: executeBinInput, Result: executeBinResult,
				Raises: executeBinRaises},
			Metadata: executionMetadata,
			Check:    ExecutionCheck(deps.Documents, deps.LLM),
			Spawns:   true,
		},
		MoreRoutes: []route.Route{{
			Name: APIDeploymentExecutionName,
			Legacy: &route.LegacyTask{Task: TaskAsyncExecuteBin, Queue: QueueAPIDeployments, Args: executeBinArgs, Input: executeBinInput, Result: executeBinResult,
				Raises: executeBinRaises},
			Metadata: executionMetadata,
			Check:    ExecutionCheck(deps.Documents, deps.LLM),
			Spawns:   true,
		}},
		OnFailure: x.failed,
	}
}

// schemaKey groups executions by the platform's organisation.
const schemaKey = `has(input.schema_name) ? input.schema_name : ""`

// check refuses input that no file of the execution could run with.
func (in ExecutionInput) check(adapters LLMAdapters) error {
	switch {
	case in.SchemaName == "" || in.WorkflowID == "" || in.ExecutionID == "":
		return fmt.Errorf("%w: schema_name, workflow_id and execution_id are required", ErrBadExecution)
	case len(in.HashValuesOfFiles) == 0:
		return fmt.Errorf("%w: hash_values_of_files names no file", ErrBadExecution)
	case in.BatchSize < 0:
		return fmt.Errorf("%w: batch_size must not be negative", ErrBadExecution)
	}
	if err := in.DocumentSettings.Check(adapters); err != nil {
		return fmt.Errorf("%w: %w", ErrBadExecution, err)
	}
	return nil
}

// ExecutionCheck returns the shim's check for workflow-execution input: the
// execution's fields, every file's path (one src may read) and the LLM
// adapter. Its error message is what the caller sees in the 422.
func ExecutionCheck(src DocumentSource, adapters LLMAdapters) func(input json.RawMessage) error {
	return func(input json.RawMessage) error {
		var in ExecutionInput
		if err := json.Unmarshal(input, &in); err != nil {
			return fmt.Errorf("%w: %w", ErrBadExecution, err)
		}
		if err := in.check(adapters); err != nil {
			return err
		}
		plan, err := PlanBatches(in.HashValuesOfFiles, in.BatchSize)
		if err != nil {
			return err
		}
		for _, batch := range plan.Batches {
			for _, f := range batch {
				if err := src.Check(f.Path); err != nil {
					return fmt.Errorf("hash_values_of_files[%s].file_path: %w", f.Name, hinted(err))
				}
			}
		}
		return nil
	}
}

// PlanBatches orders the files by name and cuts them into batches of size
// (DefaultBatchSize when 0). Every file needs a file_path; its name is its
// file_name, or the path's last element, and names must be unique: results
// are keyed by them, as the legacy chord keys them.
func PlanBatches(files map[string]FileHash, size int) (ExecutionPlan, error) {
	if size <= 0 {
		size = DefaultBatchSize
	}
	planned := make([]PlannedFile, 0, len(files))
	seen := make(map[string]string, len(files))
	for key, f := range files {
		if f.FilePath == "" {
			return ExecutionPlan{}, fmt.Errorf("%w: hash_values_of_files[%s] has no file_path", ErrBadExecution, key)
		}
		name := fileName(f)
		if other, dup := seen[name]; dup {
			return ExecutionPlan{}, fmt.Errorf("%w: files %s and %s are both named %q", ErrBadExecution, other, key, name)
		}
		seen[name] = key
		planned = append(planned, PlannedFile{Name: name, Path: f.FilePath, Hash: f.FileHash})
	}
	sort.Slice(planned, func(i, j int) bool { return planned[i].Name < planned[j].Name })
	plan := ExecutionPlan{Files: len(planned)}
	for start := 0; start < len(planned); start += size {
		plan.Batches = append(plan.Batches, planned[start:min(start+size, len(planned))])
	}
	return plan, nil
}

// fileName is the name a file's result is keyed by.
func fileName(f FileHash) string {
	if f.FileName != "" {
		return f.FileName
	}
	return path.Base(f.FilePath)
}

// executionTasks holds workflow-execution's task functions.
type executionTasks struct {
	deps Deps
}

// run plans the execution, processes its batches and gathers the outcomes.
// Its retry plans the same batches and finds the runs the first attempt
// started.
func (x *executionTasks) run(ctx hatchet.DurableContext, in ExecutionInput) (ExecutionOutput, error) {
	plan, err := x.plan(ctx, in)
	if err != nil {
		return ExecutionOutput{}, err
	}
	files, err := x.fanOut(ctx, in, plan)
	if err != nil {
		return ExecutionOutput{}, err
	}
	out, err := x.fanIn(ctx, in, files)
	if err != nil {
		return ExecutionOutput{}, err
	}
	out.Attempt = ctx.RetryCount()
	return out, nil
}

// plan checks the execution and cuts its files into batches; input that
// no file could run with fails the run without retries.
func (x *executionTasks) plan(ctx hatchet.Context, in ExecutionInput) (ExecutionPlan, error) {
	if err := in.check(x.deps.LLM); err != nil {
		return ExecutionPlan{}, badInput("%w", err)
	}
	plan, err := PlanBatches(in.HashValuesOfFiles, in.BatchSize)
	if err != nil {
		return ExecutionPlan{}, badInput("%w", err)
	}
	progress(ctx, x.deps.Log, "execution planned", "execution_id", in.ExecutionID, "files", plan.Files, "batches", len(plan.Batches))
	if err := x.started(ctx, in, plan); err != nil {
		return ExecutionPlan{}, err
	}
	return plan, nil
}

// fanOut starts one process-file-batch child per batch, all in one spawn
// call, and waits for all of them. Children are keyed by batch, so a retry
// of this task finds the runs its first attempt started instead of starting
// new ones; a child the engine never creates is spawned again (see
// unbornWatch). Its task is durable: it waits in a durable slot, so the
// batches never find every ordinary slot held by executions waiting for
// them.
func (x *executionTasks) fanOut(ctx hatchet.DurableContext, in ExecutionInput, plan ExecutionPlan) (map[string]FileOutcome, error) {
	opts := batchRuns(in, ctx.AdditionalMetadata(), plan.Batches)
	spawned, err := ctx.SpawnWorkflows(opts)
	if err != nil {
		return nil, fmt.Errorf("spawn %d batches: %w", len(plan.Batches), err)
	}
	batches := make([]batchRun, len(spawned))
	for i, wf := range spawned {
		batches[i] = batchRun{files: plan.Batches[i], run: wf}
	}
	progress(ctx, x.deps.Log, "batches started", "files", plan.Files, "batches", len(batches), "attempt", ctx.RetryCount())
	return waitBatches(ctx, batches, x.unbornWatch(ctx, opts))
}

// unbornWatch watches the batch runs spawned with opts, spawning one again
// under the key it is given.
func (x *executionTasks) unbornWatch(ctx hatchet.DurableContext, opts []*pkgworker.SpawnWorkflowsOpts) *unbornWatch {
	after := x.deps.UnbornAfter
	if after == 0 {
		after = DefaultUnbornAfter
	}
	respawn := func(batch int, key string) (runHandle, error) {
		again := *opts[batch]
		meta := maps.Clone(*again.AdditionalMetadata)
		meta["spawned_again_as"] = key
		again.Key, again.AdditionalMetadata = &key, &meta
		runs, err := ctx.SpawnWorkflows([]*pkgworker.SpawnWorkflowsOpts{&again})
		if err != nil {
			return nil, err
		}
		return runs[0], nil
	}
	warn := func(msg string, attrs ...any) { runLog(ctx, x.deps.Log, slog.LevelWarn, msg, attrs...) }
	return &unbornWatch{records: x.deps.Runs, after: after, respawn: respawn, warn: warn}
}

// batchRuns describes the batch children: their input, stable key and
// dashboard metadata (organisation, execution, batch, and the file count the
// status's progress weighs the batch by).
func batchRuns(in ExecutionInput, parentMeta map[string]string, batches [][]PlannedFile) []*pkgworker.SpawnWorkflowsOpts {
	executionID := parentMeta[route.MetaExecution]
	if executionID == "" {
		executionID = in.ExecutionID
	}
	opts := make([]*pkgworker.SpawnWorkflowsOpts, len(batches))
	for i, files := range batches {
		key := batchKey(i)
		meta := map[string]string{route.MetaOrganization: in.SchemaName, route.MetaExecution: executionID,
			"batch": strconv.Itoa(i), hatchetrun.BatchFilesKey: strconv.Itoa(len(files)),
			"first_file": files[0].Name, "last_file": files[len(files)-1].Name}
		input := FileBatchInput{OrganizationID: in.SchemaName, ExecutionID: in.ExecutionID, Batch: i, Files: files, DocumentSettings: in.DocumentSettings,
			Platform: platformExecution(in, parentMeta)}
		opts[i] = &pkgworker.SpawnWorkflowsOpts{WorkflowName: FileBatchName, Input: input, Key: &key, AdditionalMetadata: &meta}
	}
	return opts
}

// fanIn gathers the outcomes into the legacy callback's shape and, when the
// execution names a webhook, sends it through the legacy task.
func (x *executionTasks) fanIn(ctx hatchet.Context, in ExecutionInput, files map[string]FileOutcome) (ExecutionOutput, error) {
	out := Summarize(files)
	if err := x.finished(ctx, in, out); err != nil {
		return ExecutionOutput{}, err
	}
	if in.WebhookURL == "" {
		return out, nil
	}
	id, err := x.notify(ctx, in, out)
	if err != nil {
		return ExecutionOutput{}, err
	}
	out.WebhookTaskID = id
	return out, nil
}

// finished is the point where an execution's outcome is known, before its
// webhook is sent: the platform is told its final status (see
// reportFinished).
func (x *executionTasks) finished(ctx hatchet.Context, in ExecutionInput, out ExecutionOutput) error {
	progress(ctx, x.deps.Log, "execution finished", "execution_id", in.ExecutionID, "successful_files", out.SuccessfulFiles, "failed_files", out.FailedFiles)
	return x.reportFinished(ctx, in, out)
}

// Summarize counts the outcomes and sorts them into results and errors.
func Summarize(files map[string]FileOutcome) ExecutionOutput {
	out := ExecutionOutput{Results: map[string]DocumentOutput{}, Errors: map[string]string{}}
	for name, f := range files {
		if f.Result != nil && f.Error == "" {
			out.Results[name] = *f.Result
			continue
		}
		msg := f.Error
		if msg == "" {
			msg = "no result"
		}
		out.Errors[name] = msg
	}
	out.SuccessfulFiles, out.FailedFiles = len(out.Results), len(out.Errors)
	return out
}

// notify sends the execution's summary to its webhook through the legacy
// send_webhook_notification task and returns the task's id.
func (x *executionTasks) notify(ctx hatchet.Context, in ExecutionInput, out ExecutionOutput) (string, error) {
	payload := map[string]any{"event": "execution.completed", "organization_id": in.SchemaName, "workflow_id": in.WorkflowID,
		"execution_id": in.ExecutionID, "successful_files": out.SuccessfulFiles, "failed_files": out.FailedFiles}
	args, err := json.Marshal([]any{in.WebhookURL, payload})
	if err != nil {
		return "", fmt.Errorf("webhook arguments: %w", err)
	}
	res, err := CallCelery(ctx, x.deps, CeleryCall{Task: TaskSendWebhook, Args: args, Timeout: 300})
	if err != nil {
		return "", fmt.Errorf("webhook: %w", err)
	}
	return res.CeleryTaskID, nil
}

// executeBinArgs maps a workflow-execution request to the platform's call:
// async_execute_bin(schema_name, workflow_id, execution_id,
// hash_values_of_files, scheduled=…, execution_mode=…, pipeline_id=…,
// log_events_id=…, use_file_history=…). The files' hashes travel as the
// request sent them, numbers exact.
func executeBinArgs(_ route.Call, input json.RawMessage) ([]any, map[string]any, error) {
	var in struct {
		SchemaName        string         `json:"schema_name"`
		WorkflowID        string         `json:"workflow_id"`
		ExecutionID       string         `json:"execution_id"`
		HashValuesOfFiles map[string]any `json:"hash_values_of_files"`
		Scheduled         bool           `json:"scheduled"`
		ExecutionMode     string         `json:"execution_mode"`
		PipelineID        string         `json:"pipeline_id"`
		LogEventsID       string         `json:"log_events_id"`
		UseFileHistory    *bool          `json:"use_file_history"`
	}
	if err := decodeExact(input, &in); err != nil {
		return nil, nil, fmt.Errorf("execution input: %w", err)
	}
	if in.SchemaName == "" || in.WorkflowID == "" || in.ExecutionID == "" || len(in.HashValuesOfFiles) == 0 {
		return nil, nil, errors.New("execution input: schema_name, workflow_id, execution_id and hash_values_of_files are required")
	}
	useHistory := in.UseFileHistory == nil || *in.UseFileHistory
	args := []any{in.SchemaName, in.WorkflowID, in.ExecutionID, in.HashValuesOfFiles}
	kwargs := map[string]any{"scheduled": in.Scheduled, "execution_mode": nilIfEmpty(in.ExecutionMode),
		"pipeline_id": nilIfEmpty(in.PipelineID), "log_events_id": nilIfEmpty(in.LogEventsID), "use_file_history": useHistory}
	return args, kwargs, nil
}

// executeBinParams are async_execute_bin's parameters in their order, as
// Celery binds a call's positional arguments to them.
var executeBinParams = []string{"schema_name", "workflow_id", "execution_id", "hash_values_of_files",
	"scheduled", "execution_mode", "pipeline_id", "log_events_id", "use_file_history"}

// executeBinUnsupported are async_execute_bin's keyword arguments a
// workflow-execution run cannot honour: a call that sets one stays on
// Celery.
var executeBinUnsupported = []string{"llm_profile_id", "hitl_queue_name", "hitl_packet_id", "custom_data"}

// executeBinInput is the inverse of executeBinArgs: the workflow-execution
// input of an async_execute_bin call, and its organisation (schema_name).
// The document settings are not part of the call; the caller adds them.
func executeBinInput(args, kwargs json.RawMessage) (json.RawMessage, string, error) {
	var pos []json.RawMessage
	named := map[string]json.RawMessage{}
	if err := decodeExact(args, &pos); err != nil {
		return nil, "", fmt.Errorf("async_execute_bin args: %w", err)
	}
	if err := decodeExact(kwargs, &named); err != nil {
		return nil, "", fmt.Errorf("async_execute_bin kwargs: %w", err)
	}
	if len(pos) > len(executeBinParams) {
		return nil, "", fmt.Errorf("async_execute_bin takes %d positional arguments, the call has %d", len(executeBinParams), len(pos))
	}
	for i, v := range pos {
		if _, twice := named[executeBinParams[i]]; twice {
			return nil, "", fmt.Errorf("async_execute_bin: %s given by position and by name", executeBinParams[i])
		}
		named[executeBinParams[i]] = v
	}
	for _, k := range executeBinUnsupported {
		if v, ok := named[k]; ok && string(bytes.TrimSpace(v)) != "null" {
			return nil, "", fmt.Errorf("async_execute_bin: %s is not supported on Hatchet", k)
		}
		delete(named, k)
	}
	delete(named, "transport") // the platform's own choice of transport
	for k := range named {
		if !slices.Contains(executeBinParams, k) {
			return nil, "", fmt.Errorf("async_execute_bin: unknown argument %s", k)
		}
	}
	input, err := json.Marshal(named)
	if err != nil {
		return nil, "", fmt.Errorf("async_execute_bin: %w", err)
	}
	var in ExecutionInput
	if err := decodeExact(input, &in); err != nil {
		return nil, "", fmt.Errorf("async_execute_bin: %w", err)
	}
	if in.SchemaName == "" || in.WorkflowID == "" || in.ExecutionID == "" || len(in.HashValuesOfFiles) == 0 {
		return nil, "", errors.New("async_execute_bin: schema_name, workflow_id, execution_id and hash_values_of_files are required")
	}
	return input, in.SchemaName, nil
}

// executeBinRaises is the exception async_execute_bin raises for a run that
// failed as the platform's task fails: a builtin Exception for an execution
// whose record the platform did not give (platform.ContextError).
func executeBinRaises(runError string) (route.Exception, bool) {
	msg, ok := platform.ContextFailureIn(runError)
	if !ok {
		return route.Exception{}, false
	}
	return route.Exception{Type: "Exception", Module: "builtins", Message: msg}, true
}

// executeBinResult is what async_execute_bin returns for an execution's
// output: its chord's callback result (process_batch_callback), the file
// counts with each file's result and error.
func executeBinResult(output json.RawMessage) (json.RawMessage, error) {
	var out struct {
		SuccessfulFiles json.RawMessage `json:"successful_files"`
		FailedFiles     json.RawMessage `json:"failed_files"`
		Results         json.RawMessage `json:"results"`
		Errors          json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(output, &out); err != nil {
		return nil, fmt.Errorf("execution output: %w", err)
	}
	if out.SuccessfulFiles == nil || out.FailedFiles == nil {
		return nil, errors.New("execution output: no file counts")
	}
	for _, m := range []*json.RawMessage{&out.Results, &out.Errors} {
		if len(*m) == 0 || string(*m) == "null" {
			*m = json.RawMessage("{}")
		}
	}
	return json.Marshal(out)
}

// executionMetadata tags an execution's run with the platform's ids.
func executionMetadata(input json.RawMessage) map[string]string {
	var in struct {
		WorkflowID  string `json:"workflow_id"`
		ExecutionID string `json:"execution_id"`
		PipelineID  string `json:"pipeline_id"`
	}
	if json.Unmarshal(input, &in) != nil {
		return nil
	}
	meta := map[string]string{}
	for k, v := range map[string]string{"workflow_id": in.WorkflowID, "platform_execution_id": in.ExecutionID, "pipeline_id": in.PipelineID} {
		if v != "" {
			meta[k] = v
		}
	}
	return meta
}
