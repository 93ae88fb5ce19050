//lint:file-ignore SA1019 the SDK hands an on-failure task its upstream errors only through StepRunErrors.

package workflows

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	pkgworker "github.com/hatchet-dev/hatchet/pkg/worker"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/hatchetrun"
	"github.com/unstract/hatchet-worker/platform"
	"github.com/unstract/hatchet-worker/shim/route"
)

// APIDeploymentExecutionName is the shim route of an API deployment's
// execution: async_execute_bin on celery_api_deployments, as the platform
// sends it for API deployments, or workflow-execution on Hatchet with its
// file results pushed to the platform's api_results list.
const APIDeploymentExecutionName = "api-deployment-execution"

// QueueAPIDeployments is the platform's queue of API deployment executions.
const QueueAPIDeployments = "celery_api_deployments"

// Reporter tells the platform what an execution did, as the platform's
// workers do (*platform.Reporter is one). Every method may be called again
// for the same execution or file when a step is retried.
type Reporter interface {
	Started(ctx context.Context, ex platform.Execution, attempt int, files []platform.File) error
	FileStarted(ctx context.Context, ex platform.Execution, f platform.File) error
	FileFinished(ctx context.Context, ex platform.Execution, f platform.File, o platform.FileOutcome) error
	Finished(ctx context.Context, ex platform.Execution, s platform.Summary) error
	Failed(ctx context.Context, ex platform.Execution, cause error) error
	FailedWithoutContext(ctx context.Context, ex platform.Execution, cause error) error
}

// platformExecution is the execution as the platform knows it; meta is
// the run's metadata (the shim's execution id and route).
func platformExecution(in ExecutionInput, meta map[string]string) platform.Execution {
	return platform.Execution{Key: meta[route.MetaExecution], OrganizationID: in.SchemaName, WorkflowID: in.WorkflowID,
		ExecutionID: in.ExecutionID, PipelineID: in.PipelineID, API: meta[route.MetaWorkflow] == APIDeploymentExecutionName}
}

func platformFile(f PlannedFile) platform.File {
	return platform.File{Name: f.Name, Path: f.Path, Hash: f.Hash}
}

// started tells the platform the execution started over the plan's files.
// A record the platform does not give fails the execution, as on the
// platform's workers (a *platform.ContextError, not retried). Any other
// failed report does not stop it: the reporter logs it and the shim's
// status shows it.
func (x *executionTasks) started(ctx hatchet.Context, in ExecutionInput, plan ExecutionPlan) error {
	if x.deps.Reporter == nil {
		return nil
	}
	var files []platform.File
	for _, batch := range plan.Batches {
		for _, f := range batch {
			files = append(files, platformFile(f))
		}
	}
	err := x.deps.Reporter.Started(ctx, platformExecution(in, ctx.AdditionalMetadata()), ctx.RetryCount()+1, files)
	if noContext := new(platform.ContextError); errors.As(err, &noContext) {
		return pkgworker.NewNonRetryableError(noContext)
	}
	return nil
}

// reportFinished tells the platform the execution's final status. A
// platform that stays unavailable fails the step, which Hatchet retries
// (the report is repeatable); a refused report (a wrong key) is logged and
// shown in the status, and the result is kept.
func (x *executionTasks) reportFinished(ctx hatchet.Context, in ExecutionInput, out ExecutionOutput) error {
	if x.deps.Reporter == nil {
		return nil
	}
	s := platform.Summary{Total: out.SuccessfulFiles + out.FailedFiles, Successful: out.SuccessfulFiles, Failed: out.FailedFiles}
	err := x.deps.Reporter.Finished(ctx, platformExecution(in, ctx.AdditionalMetadata()), s)
	if errors.Is(err, platform.ErrUnavailable) {
		return fmt.Errorf("report the final status: %w", err)
	}
	return nil
}

// failed is workflow-execution's on-failure task: it tells the platform
// the execution failed, with the failed tasks' errors.
func (x *executionTasks) failed(ctx hatchet.Context, in ExecutionInput) (struct{}, error) {
	if x.deps.Reporter == nil {
		return struct{}{}, nil
	}
	errs := ctx.StepRunErrors()
	ex := platformExecution(in, ctx.AdditionalMetadata())
	if msg, ok := contextFailure(errs); ok {
		_ = x.deps.Reporter.FailedWithoutContext(ctx, ex, errors.New(msg)) // logged; the platform's workers go on too
		return struct{}{}, nil
	}
	tasks := make([]string, 0, len(errs))
	for t := range errs {
		tasks = append(tasks, t)
	}
	sort.Strings(tasks)
	parts := make([]string, len(tasks))
	for i, t := range tasks {
		parts[i] = hatchetrun.TaskFailure(t, errs[t])
	}
	cause := errors.New(strings.Join(parts, "; "))
	if len(parts) == 0 {
		cause = errors.New("the execution failed")
	}
	if err := x.deps.Reporter.Failed(ctx, ex, cause); err != nil {
		return struct{}{}, fmt.Errorf("report the failure: %w", err)
	}
	return struct{}{}, nil
}

// contextFailure finds, among the failed tasks' errors, the failure of an
// execution whose record the platform did not give (platform.ContextError),
// and returns it as the platform's workers word it.
func contextFailure(errs map[string]string) (string, bool) {
	for _, msg := range errs {
		if text, ok := platform.ContextFailureIn(hatchetrun.TaskError(msg)); ok {
			return text, true
		}
	}
	return "", false
}

// reportFileStarted tells the platform a file started; a failed report is
// logged and shown in the status, and the file is processed all the same.
func (b *batchTasks) reportFileStarted(ctx context.Context, in FileBatchInput, f PlannedFile) {
	if b.reporter != nil {
		_ = b.reporter.FileStarted(ctx, in.Platform, platformFile(f))
	}
}

// reportFileFinished tells the platform a file's outcome; a failed report
// is logged and shown in the status.
func (b *batchTasks) reportFileFinished(ctx context.Context, in FileBatchInput, f PlannedFile, o FileOutcome, took time.Duration) {
	if b.reporter == nil {
		return
	}
	po := platform.FileOutcome{Error: o.Error, Took: took}
	if o.Result != nil {
		po.Result = o.Result
	}
	_ = b.reporter.FileFinished(ctx, in.Platform, platformFile(f), po)
}
