package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"
)

// Execution statuses, as the platform's ExecutionStatus names them
// (unstract/core/src/unstract/core/data_models.py).
const (
	StatusPending   = "PENDING"
	StatusExecuting = "EXECUTING"
	StatusCompleted = "COMPLETED"
	StatusStopped   = "STOPPED"
	StatusError     = "ERROR"
)

// Pipeline statuses the workers map a final execution status to
// (workers/shared/clients/execution_client.py, update_pipeline_status).
const (
	PipelineSuccess = "SUCCESS"
	PipelineFailure = "FAILURE"
)

// final reports a status the platform treats as the end of an execution.
func final(status string) bool {
	return status == StatusCompleted || status == StatusError || status == StatusStopped
}

// Execution names one platform execution.
type Execution struct {
	// Key is the caller's own id of the execution (the shim's execution id),
	// passed on to the Observer.
	Key string `json:"key,omitempty"`
	// OrganizationID goes in X-Organization-ID.
	OrganizationID string `json:"organization_id"`
	WorkflowID     string `json:"workflow_id"`
	ExecutionID    string `json:"execution_id"`
	// PipelineID, when set, gets the execution's last run.
	PipelineID string `json:"pipeline_id,omitempty"`
	// API marks an API deployment execution: each file's result is pushed to
	// the api_results list.
	API bool `json:"is_api,omitempty"`
}

// File is one input file of an execution.
type File struct {
	Name string
	Path string
	Hash string
}

// FileOutcome is what became of one file.
type FileOutcome struct {
	// Result is the file's result (any JSON value); ignored when Error is set.
	Result any
	// Error is the file's failure; empty for a success.
	Error string
	// Took is the file's processing time, sent as execution_time.
	Took time.Duration
}

// Event is one report, or one failed attempt of it, told to the Observer.
type Event struct {
	Execution Execution
	// Report names what was reported ("EXECUTING", "file a.pdf ERROR", …).
	Report string
	// Err is the report's failure; nil when the platform took it.
	Err error
	// Retrying says Err is being retried.
	Retrying bool
	// Final says the report was the execution's final status.
	Final bool
}

// Observer is told of every report; it must not block.
type Observer func(Event)

// ResultStore keeps API deployment results (see RedisResults).
type ResultStore interface {
	// Has reports whether the list at key holds a result of fileExecutionID.
	Has(ctx context.Context, key, fileExecutionID string) (bool, error)
	// Push appends entry to the list at key and sets its TTL.
	Push(ctx context.Context, key string, entry []byte) error
}

// Reporter makes the internal API calls of executions in the order the
// platform's workers make them. Every method may be called again for the
// same execution or file (a retried Hatchet step): it reads the platform's
// record first and skips what the platform already has.
type Reporter struct {
	client   *Client
	results  ResultStore
	observer Observer
	log      *slog.Logger
	// workerRetryFor bounds FailedWithoutContext's retries of each call.
	workerRetryFor time.Duration
}

// ReporterOption configures a Reporter.
type ReporterOption func(*Reporter)

// WithResults sets where API deployment results go; without it an API
// execution's results are not pushed.
func WithResults(s ResultStore) ReporterOption { return func(r *Reporter) { r.results = s } }

// WithObserver sets the function told of every report.
func WithObserver(o Observer) ReporterOption { return func(r *Reporter) { r.observer = o } }

// WithReporterLogger sets the logger of failed reports (default slog.Default()).
func WithReporterLogger(l *slog.Logger) ReporterOption { return func(r *Reporter) { r.log = l } }

// NewReporter returns a Reporter calling the internal API through c.
func NewReporter(c *Client, opts ...ReporterOption) *Reporter {
	r := &Reporter{client: c, observer: func(Event) {}, log: slog.Default(), workerRetryFor: workerRetryFor}
	for _, o := range opts {
		o(r)
	}
	return r
}

// executionRecord is the part of GET v1/workflow-execution/{id}/ a reporter
// reads (WorkflowExecutionContextSerializer).
type executionRecord struct {
	Execution struct {
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	} `json:"execution"`
	FileExecutions []fileExecution `json:"file_executions"`
}

// fileExecution is a file execution as the platform returns it.
type fileExecution struct {
	ID       string `json:"id"`
	FileName string `json:"file_name"`
	Status   string `json:"status"`
}

// report makes one call and tells the observer.
func (r *Reporter) report(ctx context.Context, ex Execution, what string, c call, isFinal bool) error {
	c.org = ex.OrganizationID
	c.retrying = func(err error) {
		r.observer(Event{Execution: ex, Report: what, Err: err, Retrying: true})
	}
	err := r.client.do(ctx, c)
	if err != nil {
		err = fmt.Errorf("report %s of execution %s: %w", what, ex.ExecutionID, err)
		r.log.Error("platform report failed", "execution_id", ex.ExecutionID, "report", what, "error", err)
	}
	r.observer(Event{Execution: ex, Report: what, Err: err, Final: isFinal && err == nil})
	return err
}

// record reads the execution's record, with its file executions when files.
func (r *Reporter) record(ctx context.Context, ex Execution, files bool) (executionRecord, error) {
	var rec executionRecord
	path := "v1/workflow-execution/" + url.PathEscape(ex.ExecutionID) + "/?file_execution=" + fmt.Sprint(files)
	err := r.report(ctx, ex, "read execution", call{method: "GET", path: path, out: &rec}, false)
	return rec, err
}

// statusCall is the execution's update_status call with body.
func statusCall(ex Execution, body map[string]any) call {
	return call{method: "POST", path: "v1/workflow-execution/" + url.PathEscape(ex.ExecutionID) + "/update_status/", body: body}
}

func (r *Reporter) updateStatus(ctx context.Context, ex Execution, what string, body map[string]any, isFinal bool) error {
	return r.report(ctx, ex, what, statusCall(ex, body), isFinal)
}

// Started reports that attempt (1 the first) of the execution started over
// files: EXECUTING with attempts, the file batch that creates the file
// executions (once: not when the platform already has them), and EXECUTING
// with total_files. An execution the platform already holds as final is
// left alone. A record the platform refuses for the execution itself
// (unknown, or a 4xx other than for the key) is a *ContextError, with
// which the platform's workers fail the execution.
func (r *Reporter) Started(ctx context.Context, ex Execution, attempt int, files []File) error {
	rec, err := r.record(ctx, ex, true)
	if refusedExecution(err) {
		return &ContextError{Err: err}
	}
	if err != nil {
		return err
	}
	if final(rec.Execution.Status) {
		return nil
	}
	if err := r.updateStatus(ctx, ex, "EXECUTING", map[string]any{"status": StatusExecuting, "attempts": attempt}, false); err != nil {
		return err
	}
	if len(rec.FileExecutions) == 0 && len(files) > 0 {
		batch := make([]map[string]any, len(files))
		for i, f := range files {
			batch[i] = map[string]any{"file_name": f.Name, "file_path": f.Path, "file_hash": f.Hash}
		}
		body := map[string]any{"workflow_execution_id": ex.ExecutionID, "files": batch, "is_api": ex.API}
		if err := r.report(ctx, ex, "file batch", call{method: "POST", path: "v1/workflow-manager/file-batch/", body: body, applied: r.batchApplied(ex)}, false); err != nil {
			return err
		}
	}
	return r.updateStatus(ctx, ex, "EXECUTING total_files", map[string]any{"status": StatusExecuting, "total_files": len(files)}, false)
}

// refusedExecution reports a call the platform refused because of the
// execution it names, not because of the service's key (401, 403).
func refusedExecution(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && errors.Is(err, ErrRefused) && apiErr.Status != 401 && apiErr.Status != 403
}

// batchApplied reports whether the platform holds the execution's file
// executions: it creates the files again for each batch it takes, so a
// batch whose answer was lost is looked for before it is sent again.
func (r *Reporter) batchApplied(ex Execution) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		rec, err := r.record(ctx, ex, true)
		return len(rec.FileExecutions) > 0, err
	}
}

// fileExecution gets or creates the file's execution (POST
// v1/file-execution/, keyed by execution, path and hash).
func (r *Reporter) fileExecution(ctx context.Context, ex Execution, f File) (fileExecution, error) {
	var fe fileExecution
	body := map[string]any{"execution_id": ex.ExecutionID, "workflow_id": ex.WorkflowID,
		"file_hash": map[string]any{"file_name": f.Name, "file_path": f.Path, "file_hash": f.Hash}}
	err := r.report(ctx, ex, "file "+f.Name+" execution", call{method: "POST", path: "v1/file-execution/", body: body, out: &fe}, false)
	return fe, err
}

func (r *Reporter) fileStatus(ctx context.Context, ex Execution, f File, id string, body map[string]any) error {
	path := "v1/file-execution/" + url.PathEscape(id) + "/status/"
	return r.report(ctx, ex, "file "+f.Name+" "+body["status"].(string), call{method: "POST", path: path, body: body}, false)
}

// FileStarted reports the file EXECUTING, unless the platform already
// holds it as executing or ended.
func (r *Reporter) FileStarted(ctx context.Context, ex Execution, f File) error {
	fe, err := r.fileExecution(ctx, ex, f)
	if err != nil {
		return err
	}
	if fe.Status == StatusExecuting || final(fe.Status) {
		return nil
	}
	return r.fileStatus(ctx, ex, f, fe.ID, map[string]any{"status": StatusExecuting})
}

// FileFinished reports the file's outcome: for an API execution its result
// first (once per file execution), then COMPLETED or ERROR with
// execution_time, and for a failure the failed-files increment. A file the
// platform already holds as ended is left alone, so it is never counted
// twice; a step that dies between the status and the increment leaves the
// platform's running failed count one short, which the final status's
// failed_files corrects.
func (r *Reporter) FileFinished(ctx context.Context, ex Execution, f File, o FileOutcome) error {
	fe, err := r.fileExecution(ctx, ex, f)
	if err != nil {
		return err
	}
	if final(fe.Status) {
		return nil
	}
	if ex.API && r.results != nil {
		if err := r.pushResult(ctx, ex, f, fe.ID, o); err != nil {
			return err
		}
	}
	body := map[string]any{"status": StatusCompleted, "execution_time": o.Took.Seconds()}
	if o.Error != "" {
		body["status"], body["error_message"] = StatusError, o.Error
	}
	if err := r.fileStatus(ctx, ex, f, fe.ID, body); err != nil {
		return err
	}
	if o.Error == "" {
		return nil
	}
	inc := map[string]any{"workflow_id": ex.WorkflowID, "execution_id": ex.ExecutionID, "increment_type": "failed"}
	return r.report(ctx, ex, "file "+f.Name+" failed count", call{method: "POST", path: "v1/workflow-manager/increment-files/", body: inc}, false)
}

// APIResult is one entry of api_results:{workflow_id}:{execution_id}, the
// platform's FileExecutionResult.to_json
// (backend/workflow_manager/endpoint_v2/dto.py).
type APIResult struct {
	File            string         `json:"file"`
	FileExecutionID string         `json:"file_execution_id"`
	Status          string         `json:"status"`
	Result          any            `json:"result"`
	Error           *string        `json:"error"`
	Metadata        map[string]any `json:"metadata"`
}

// API result statuses (ApiDeploymentResultStatus).
const (
	ResultSuccess = "Success"
	ResultFailed  = "Failed"
)

// APIResultsKey is the Redis list of an execution's API results.
func APIResultsKey(workflowID, executionID string) string {
	return "api_results:" + workflowID + ":" + executionID
}

func (r *Reporter) pushResult(ctx context.Context, ex Execution, f File, feID string, o FileOutcome) error {
	key := APIResultsKey(ex.WorkflowID, ex.ExecutionID)
	has, err := r.results.Has(ctx, key, feID)
	if err == nil && has {
		return nil
	}
	if err == nil {
		res := APIResult{File: f.Name, FileExecutionID: feID, Status: ResultSuccess, Result: o.Result,
			Metadata: map[string]any{"execution_time": o.Took.Seconds(), "from_cache": false, "from_file_history": false, "manual_review": false}}
		if o.Error != "" {
			msg := o.Error
			res.Status, res.Result, res.Error = ResultFailed, nil, &msg
		}
		var entry []byte
		if entry, err = json.Marshal(res); err == nil {
			err = r.results.Push(ctx, key, entry)
		}
	}
	if err != nil {
		err = fmt.Errorf("report file %s result of execution %s: %w", f.Name, ex.ExecutionID, err)
		r.log.Error("platform report failed", "execution_id", ex.ExecutionID, "report", "file "+f.Name+" result", "error", err)
	}
	r.observer(Event{Execution: ex, Report: "file " + f.Name + " result", Err: err})
	return err
}

// Summary counts an execution's files.
type Summary struct {
	Total, Successful, Failed int
}

// FinalStatus is the callback's rule (workers/callback/tasks.py): ERROR
// when files were expected but none was processed, or every file failed;
// COMPLETED otherwise.
func FinalStatus(expected int, s Summary) string {
	processed := s.Successful + s.Failed
	if expected > 0 && processed == 0 {
		return StatusError
	}
	if s.Failed > 0 && s.Failed == processed {
		return StatusError
	}
	return StatusCompleted
}

// Finished reports the execution's end: its final status by FinalStatus
// with the counts, then the pipeline's last run when it has a pipeline. An
// execution the platform already holds as ended is left alone.
func (r *Reporter) Finished(ctx context.Context, ex Execution, s Summary) error {
	status := FinalStatus(s.Total, s)
	return r.finish(ctx, ex, status, map[string]any{"status": status, "total_files": s.Total,
		"successful_files": s.Successful, "failed_files": s.Failed})
}

// Failed reports that the execution itself failed: ERROR with the error's
// text, and FAILURE as the pipeline's last run. An execution the platform
// already holds as ended is left alone.
func (r *Reporter) Failed(ctx context.Context, ex Execution, cause error) error {
	return r.finish(ctx, ex, StatusError, map[string]any{"status": StatusError, "error_message": cause.Error()})
}

// workerRetryFor is how long the platform's workers retry a call
// (INTERNAL_API_RETRY_ATTEMPTS 3, backoff factor 1: 1, 2 and 4 s).
const workerRetryFor = 8 * time.Second

// FailedWithoutContext reports the failure of an execution whose record
// the internal API did not give (a *ContextError), as the platform's
// workers do: ERROR with the error's text and FAILURE as the pipeline's
// last run, with no read of the record first, each call retried only as
// long as theirs. Their failures are logged and returned.
func (r *Reporter) FailedWithoutContext(ctx context.Context, ex Execution, cause error) error {
	body := map[string]any{"status": StatusError, "error_message": cause.Error()}
	return r.end(ctx, ex, StatusError, body, r.workerRetryFor)
}

func (r *Reporter) finish(ctx context.Context, ex Execution, status string, body map[string]any) error {
	rec, err := r.record(ctx, ex, false)
	if err != nil {
		return err
	}
	if final(rec.Execution.Status) {
		r.observer(Event{Execution: ex, Report: rec.Execution.Status, Final: true})
		return nil
	}
	return r.end(ctx, ex, status, body, 0)
}

// end sends the final status and the pipeline's last run; retryFor, when
// set, bounds each call's retries.
func (r *Reporter) end(ctx context.Context, ex Execution, status string, body map[string]any, retryFor time.Duration) error {
	c := statusCall(ex, body)
	c.retryFor = retryFor
	if err := r.report(ctx, ex, status, c, false); err != nil {
		return err
	}
	if ex.PipelineID != "" {
		pipeline := PipelineSuccess
		if status != StatusCompleted {
			pipeline = PipelineFailure
		}
		path := "v1/pipeline/" + url.PathEscape(ex.PipelineID) + "/"
		c := call{method: "PUT", path: path, body: map[string]any{"status": pipeline, "is_end": true}, retryFor: retryFor}
		if err := r.report(ctx, ex, "pipeline "+pipeline, c, false); err != nil {
			return err
		}
	}
	r.observer(Event{Execution: ex, Report: status, Final: true})
	return nil
}
