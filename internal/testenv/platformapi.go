package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// PlatformAPI is a contract stand-in for the Unstract backend's internal
// API, the one service the tests cannot run. It serves, in memory, exactly
// the endpoints through which workers report an execution, as the
// platform's source (github.com/Zipstack/unstract, HEAD of 2026-08) defines
// them, and refuses everything else as the platform would:
//
//   - auth: backend/middleware/internal_api_auth.py. Every path below
//     /internal/ needs "Authorization: Bearer <INTERNAL_SERVICE_API_KEY>"
//     (401 otherwise, before any URL is resolved); X-Organization-ID scopes
//     the lookups (backend/utils/organization_utils.py: an organisation the
//     platform does not know, or another one's execution, is not found).
//   - routes: backend/backend/internal_base_urls.py (v1/workflow-execution/,
//     v1/workflow-manager/, v1/file-execution/, v1/pipeline/); an unknown path
//     is 404, a known path with another method 405 (DRF); a path without its
//     trailing slash is 404 (the stand-in does not redirect).
//   - GET v1/workflow-execution/{id}/ and POST …/{id}/update_status/:
//     backend/workflow_manager/internal_views.py
//     (WorkflowExecutionInternalViewSet) with
//     WorkflowExecutionStatusUpdateSerializer
//     (backend/workflow_manager/internal_serializers.py); the final-status
//     rule of update_status and WorkflowExecution._apply_guarded_status
//     (backend/workflow_manager/workflow_v2/models/execution.py): a guarded
//     execution (one the platform dispatched on its queue transport) never
//     leaves COMPLETED or STOPPED for another status; a Celery one takes
//     whatever comes (_apply_legacy_update).
//   - POST v1/workflow-manager/file-batch/ (FileBatchCreateAPIView: a
//     PENDING file execution per file, every time) and
//     POST v1/workflow-manager/increment-files/ (FileCountIncrementAPIView).
//   - POST v1/file-execution/ (get-or-create by execution, file_path and
//     file_hash: backend/workflow_manager/file_execution/internal_views.py
//     and models.py) and POST v1/file-execution/{id}/status/.
//   - PUT v1/pipeline/{id}/ (backend/pipeline_v2/internal_api_views.py).
//
// Errors that the platform raises inside a view's "except Exception" (an
// unknown execution in update_status or file-batch, several file executions
// for one get-or-create) answer 500, as there. Every call is recorded.
type PlatformAPI struct {
	// URL is the internal API's base URL (…/internal), the platform's
	// INTERNAL_API_BASE_URL.
	URL string
	// Key is the platform's INTERNAL_SERVICE_API_KEY.
	Key string

	srv *httptest.Server

	mu         sync.Mutex // guards the fields below
	orgs       map[string]bool
	executions map[string]*platformExecution
	pipelines  map[string]*PlatformPipeline
	calls      []*PlatformCall
	down       time.Time // answer 503 to everything until then
	losses     []loss    // calls served whose answer is then lost
}

// PlatformCall is one request the stand-in received.
type PlatformCall struct {
	Method string
	// Path is below the base URL, e.g. "v1/workflow-execution/ID/update_status/".
	Path string
	// Query is the raw query string.
	Query string
	// Org is the X-Organization-ID header.
	Org string
	// Body is the request body.
	Body json.RawMessage
	// Status is the HTTP status it was answered with.
	Status int
	// Skipped says an update_status was answered "skipped: already_final".
	Skipped bool
	At      time.Time
}

// PlatformExecution is a workflow execution as the stand-in holds it.
type PlatformExecution struct {
	ID, Org, WorkflowID string
	// Guarded executions never leave COMPLETED or STOPPED (see PlatformAPI).
	Guarded      bool
	Status       string
	Attempts     int
	ErrorMessage string
	// TotalFiles, SuccessfulFiles and FailedFiles are nil until reported.
	TotalFiles, SuccessfulFiles, FailedFiles *int
	// CompletedIncrements and FailedIncrements count increment-files calls
	// (the platform's ExecutionCacheUtils counters).
	CompletedIncrements, FailedIncrements int
	// Files are its file executions in the order they were created.
	Files []PlatformFile
}

// PlatformFile is a file execution.
type PlatformFile struct {
	ID, Name, Path, Hash string
	Status               string
	Error                string
	// ExecutionTime is set when the status became final.
	ExecutionTime *float64
}

// PlatformPipeline is a pipeline's last run.
type PlatformPipeline struct {
	ID, Org string
	// LastRunStatus is the status of the last PUT with is_end.
	LastRunStatus string
	// RunCount counts the runs ended (is_end).
	RunCount int
}

type platformExecution struct {
	PlatformExecution
	created time.Time
	files   []*platformFile
}

type platformFile struct {
	PlatformFile
	created time.Time
}

// loss loses the answers of the next n calls matching method and path suffix.
type loss struct {
	method, suffix string
	n              int
}

// StartPlatformAPI starts a stand-in with a fresh key for the test and stops
// it in t.Cleanup. It needs no service, so it runs under -short too.
func StartPlatformAPI(t testing.TB) *PlatformAPI {
	t.Helper()
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	p := &PlatformAPI{Key: hex.EncodeToString(key), orgs: map[string]bool{},
		executions: map[string]*platformExecution{}, pipelines: map[string]*PlatformPipeline{}}
	p.srv = httptest.NewServer(p.handler())
	p.URL = p.srv.URL + "/internal"
	t.Cleanup(p.srv.Close)
	return p
}

// ExecutionOption configures CreateExecution.
type ExecutionOption func(*PlatformExecution)

// Guarded makes the execution one the platform dispatched on its queue
// transport (queue_message_id set): it never leaves COMPLETED or STOPPED.
func Guarded() ExecutionOption { return func(e *PlatformExecution) { e.Guarded = true } }

// CreateExecution creates a PENDING execution of workflowID in org (known
// from now on), as the backend does before it sends async_execute_bin, and
// returns its id.
func (p *PlatformAPI) CreateExecution(org, workflowID string, opts ...ExecutionOption) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := &platformExecution{PlatformExecution: PlatformExecution{ID: uuid.NewString(), Org: org, WorkflowID: workflowID, Status: "PENDING"}, created: time.Now()}
	for _, o := range opts {
		o(&e.PlatformExecution)
	}
	p.orgs[org] = true
	p.executions[e.ID] = e
	return e.ID
}

// CreatePipeline creates a pipeline of org and returns its id.
func (p *PlatformAPI) CreatePipeline(org string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := uuid.NewString()
	p.orgs[org] = true
	p.pipelines[id] = &PlatformPipeline{ID: id, Org: org}
	return id
}

// Execution returns a copy of the execution, false when there is none.
func (p *PlatformAPI) Execution(id string) (PlatformExecution, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.executions[id]
	if !ok {
		return PlatformExecution{}, false
	}
	out := e.PlatformExecution
	out.Files = make([]PlatformFile, len(e.files))
	for i, f := range e.files {
		out.Files[i] = f.PlatformFile
	}
	return out, true
}

// Pipeline returns a copy of the pipeline, false when there is none.
func (p *PlatformAPI) Pipeline(id string) (PlatformPipeline, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pl, ok := p.pipelines[id]
	if !ok {
		return PlatformPipeline{}, false
	}
	return *pl, true
}

// Calls returns every call received so far, in order.
func (p *PlatformAPI) Calls() []PlatformCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]PlatformCall, len(p.calls))
	for i, c := range p.calls {
		out[i] = *c
	}
	return out
}

// Unavailable answers 503 to every call for d from now, as a backend that
// is down behind its proxy.
func (p *PlatformAPI) Unavailable(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = time.Now().Add(d)
}

// LoseAnswers serves the next n calls whose method is method and whose
// path ends in suffix, then answers 502 instead of the platform's answer:
// a proxy that timed out after the backend committed.
func (p *PlatformAPI) LoseAnswers(method, suffix string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.losses = append(p.losses, loss{method: method, suffix: suffix, n: n})
}

// takeLoss reports whether the call's answer is to be lost.
func (p *PlatformAPI) takeLoss(r *http.Request) bool {
	for i := range p.losses {
		l := &p.losses[i]
		if l.n > 0 && l.method == r.Method && strings.HasSuffix(r.URL.Path, l.suffix) {
			l.n--
			return true
		}
	}
	return false
}

// platformRequest is one request being served.
type platformRequest struct {
	w    http.ResponseWriter
	r    *http.Request
	org  string
	body []byte
	call *PlatformCall
}

func (q *platformRequest) answer(status int, v any) {
	q.call.Status = status
	q.w.Header().Set("Content-Type", "application/json")
	q.w.WriteHeader(status)
	_ = json.NewEncoder(q.w).Encode(v)
}

func (q *platformRequest) fail(status int, msg string) {
	q.answer(status, map[string]any{"error": msg})
}

// decode reads the body as a JSON object, as DRF's request.data.
func (q *platformRequest) decode() (map[string]any, bool) {
	data := map[string]any{}
	if len(q.body) == 0 {
		return data, true
	}
	if err := json.Unmarshal(q.body, &data); err != nil {
		q.answer(http.StatusBadRequest, map[string]any{"detail": "JSON parse error - " + err.Error()})
		return nil, false
	}
	return data, true
}

func (p *PlatformAPI) handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h func(*platformRequest)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			q := r.Context().Value(platformKey{}).(*platformRequest)
			q.w, q.r = w, r
			p.mu.Lock()
			defer p.mu.Unlock()
			h(q)
		})
	}
	route("GET /internal/v1/workflow-execution/{id}/{$}", p.getExecution)
	route("POST /internal/v1/workflow-execution/{id}/update_status/{$}", p.updateStatus)
	route("POST /internal/v1/workflow-manager/file-batch/{$}", p.fileBatch)
	route("POST /internal/v1/workflow-manager/increment-files/{$}", p.incrementFiles)
	route("POST /internal/v1/file-execution/{$}", p.fileExecution)
	route("POST /internal/v1/file-execution/{id}/status/{$}", p.fileStatus)
	route("PUT /internal/v1/pipeline/{id}/{$}", p.updatePipeline)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		p.mu.Lock()
		call := &PlatformCall{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, "/internal/"),
			Query: r.URL.RawQuery, Org: r.Header.Get("X-Organization-ID"), Body: body, At: time.Now()}
		p.calls = append(p.calls, call)
		q := &platformRequest{w: w, r: r, org: strings.TrimSpace(r.Header.Get("X-Organization-ID")), body: body, call: call}
		early := p.gate(q)
		lose := !early && p.takeLoss(r)
		p.mu.Unlock()
		if early {
			return
		}
		if lose {
			mux.ServeHTTP(&statusRecorder{ResponseWriter: httptest.NewRecorder(), p: p, q: q}, r.WithContext(contextWith(r, q)))
			p.mu.Lock()
			call.Status = http.StatusBadGateway
			p.mu.Unlock()
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		mux.ServeHTTP(&statusRecorder{ResponseWriter: w, p: p, q: q}, r.WithContext(contextWith(r, q)))
	})
}

// gate answers what comes before the views: an outage and the
// authentication middleware. It reports whether it answered.
func (p *PlatformAPI) gate(q *platformRequest) (answered bool) {
	if time.Now().Before(p.down) {
		q.fail(http.StatusServiceUnavailable, "Service Unavailable")
		return true
	}
	if !strings.HasPrefix(q.r.URL.Path, "/internal/") {
		q.fail(http.StatusNotFound, "Not Found")
		return true
	}
	defer func() {
		// Every route ends in a slash; the stand-in does not redirect.
		if !answered && !strings.HasSuffix(q.r.URL.Path, "/") {
			q.fail(http.StatusNotFound, "Not Found")
			answered = true
		}
	}()
	auth := q.r.Header.Get("Authorization")
	switch {
	case auth == "":
		q.answer(http.StatusUnauthorized, map[string]any{"error": "Authorization header required for internal APIs", "detail": "Missing Authorization header"})
		return true
	case !strings.HasPrefix(auth, "Bearer "):
		q.answer(http.StatusUnauthorized, map[string]any{"error": "Bearer token required for internal APIs", "detail": "Invalid authorization format"})
		return true
	case auth[len("Bearer "):] != p.Key:
		q.answer(http.StatusUnauthorized, map[string]any{"error": "Invalid internal service API key", "detail": "API key does not match configured value"})
		return true
	}
	return false
}

// visible reports whether the request's organisation scope lets it see
// something of org: no header sees everything (the viewsets'
// skip_org_filter), an unknown organisation nothing.
func (p *PlatformAPI) visible(q *platformRequest, org string) bool {
	return q.org == "" || (p.orgs[q.org] && q.org == org)
}

func (p *PlatformAPI) execution(q *platformRequest, id string) *platformExecution {
	e := p.executions[id]
	if e == nil || !p.visible(q, e.Org) {
		return nil
	}
	return e
}

func (p *PlatformAPI) getExecution(q *platformRequest) {
	id := q.r.PathValue("id")
	e := p.execution(q, id)
	if e == nil {
		if p.executions[id] != nil { // exists but scoped out: the view answers 500 to keep reapers off
			q.fail(http.StatusInternalServerError, "Failed to retrieve workflow execution")
			return
		}
		q.fail(http.StatusNotFound, "WorkflowExecution not found")
		return
	}
	files := []any{}
	if q.r.URL.Query().Get("file_execution") == "" || strings.ToLower(q.r.URL.Query().Get("file_execution")) == "true" {
		for _, f := range e.files {
			files = append(files, fileJSON(e, f))
		}
	}
	q.answer(http.StatusOK, map[string]any{
		"execution": map[string]any{"id": e.ID, "workflow": e.WorkflowID, "status": e.Status, "attempts": e.Attempts,
			"error_message": e.ErrorMessage, "total_files": e.TotalFiles, "successful_files": e.SuccessfulFiles, "failed_files": e.FailedFiles},
		"workflow_definition": map[string]any{"workflow_id": e.WorkflowID}, "source_config": map[string]any{},
		"destination_config": map[string]any{}, "organization_context": map[string]any{"organization_id": e.Org},
		"file_executions": files,
	})
}

func fileJSON(e *platformExecution, f *platformFile) map[string]any {
	return map[string]any{"id": f.ID, "workflow_execution_id": e.ID, "file_name": f.Name, "file_path": f.Path,
		"file_hash": f.Hash, "status": f.Status, "execution_error": f.Error, "execution_time": f.ExecutionTime}
}

// executionStatuses are the platform's ExecutionStatus choices.
var executionStatuses = []string{"PENDING", "EXECUTING", "COMPLETED", "STOPPED", "ERROR"}

func finalStatus(s string) bool { return s == "COMPLETED" || s == "ERROR" || s == "STOPPED" }

// fieldErrors collects a DRF serializer's errors.
type fieldErrors map[string][]string

func (fe fieldErrors) add(field, msg string) { fe[field] = append(fe[field], msg) }

// intField reads an optional IntegerField(min_value=0).
func intField(data map[string]any, name string, errs fieldErrors) *int {
	v, ok := data[name]
	if !ok || v == nil {
		return nil
	}
	f, ok := v.(float64)
	if !ok || f != float64(int(f)) {
		errs.add(name, "A valid integer is required.")
		return nil
	}
	if f < 0 {
		errs.add(name, "Ensure this value is greater than or equal to 0.")
		return nil
	}
	n := int(f)
	return &n
}

// floatField reads an optional FloatField(min_value=0).
func floatField(data map[string]any, name string, errs fieldErrors) *float64 {
	v, ok := data[name]
	if !ok || v == nil {
		return nil
	}
	f, ok := v.(float64)
	if !ok {
		errs.add(name, "A valid number is required.")
		return nil
	}
	if f < 0 {
		errs.add(name, "Ensure this value is greater than or equal to 0.")
		return nil
	}
	return &f
}

// statusField reads a required ChoiceField of ExecutionStatus.
func statusField(data map[string]any, errs fieldErrors) string {
	v, ok := data["status"]
	if !ok {
		errs.add("status", "This field is required.")
		return ""
	}
	s, _ := v.(string)
	if !slices.Contains(executionStatuses, s) {
		errs.add("status", fmt.Sprintf("%q is not a valid choice.", fmt.Sprint(v)))
	}
	return s
}

func stringField(data map[string]any, name string, errs fieldErrors) string {
	v, ok := data[name]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		errs.add(name, "Not a valid string.")
	}
	return s
}

func (p *PlatformAPI) updateStatus(q *platformRequest) {
	data, ok := q.decode()
	if !ok {
		return
	}
	e := p.execution(q, q.r.PathValue("id"))
	if e == nil { // get_object's Http404 is caught by the view's "except Exception"
		q.answer(http.StatusInternalServerError, map[string]any{"error": "Failed to update workflow execution status", "detail": "No WorkflowExecution matches the given query."})
		return
	}
	errs := fieldErrors{}
	status := statusField(data, errs)
	errMsg := stringField(data, "error_message", errs)
	total, ok1, failed := intField(data, "total_files", errs), intField(data, "successful_files", errs), intField(data, "failed_files", errs)
	attempts := intField(data, "attempts", errs)
	floatField(data, "execution_time", errs)
	if c, _ := data["cascade_terminal_files"].(bool); c && !finalStatus(status) {
		errs.add("cascade_terminal_files", "cascade_terminal_files=True requires a terminal status (COMPLETED/ERROR/STOPPED).")
	}
	if len(errs) == 0 {
		switch {
		case total == nil && (ok1 != nil || failed != nil):
			errs.add("total_files", "total_files is required when file aggregates are provided.")
		case total != nil && ok1 != nil && *ok1 > *total:
			errs.add("successful_files", "successful_files cannot exceed total_files.")
		case total != nil && failed != nil && *failed > *total:
			errs.add("failed_files", "failed_files cannot exceed total_files.")
		case total != nil && ok1 != nil && failed != nil && *ok1+*failed > *total:
			errs.add("non_field_errors", "successful_files + failed_files cannot exceed total_files.")
		}
	}
	if len(errs) > 0 {
		q.answer(http.StatusBadRequest, errs)
		return
	}
	if e.Guarded && (e.Status == "COMPLETED" || e.Status == "STOPPED") && status != e.Status {
		q.call.Skipped = true
		q.answer(http.StatusOK, map[string]any{"status": "skipped", "reason": "already_final", "execution_id": e.ID, "new_status": e.Status})
		return
	}
	e.Status = status
	if len(errMsg) > 256 {
		errMsg = errMsg[:253] + "..."
	}
	if errMsg != "" {
		e.ErrorMessage = errMsg
	}
	if attempts != nil && *attempts > e.Attempts {
		e.Attempts++
	}
	for _, agg := range []struct {
		dst **int
		v   *int
	}{{&e.TotalFiles, total}, {&e.SuccessfulFiles, ok1}, {&e.FailedFiles, failed}} {
		if agg.v != nil {
			*agg.dst = agg.v
		}
	}
	q.answer(http.StatusOK, map[string]any{"status": "updated", "execution_id": e.ID, "new_status": e.Status})
}

func (p *PlatformAPI) fileBatch(q *platformRequest) {
	data, ok := q.decode()
	if !ok {
		return
	}
	errs := fieldErrors{}
	id := stringField(data, "workflow_execution_id", errs)
	if _, present := data["workflow_execution_id"]; !present {
		errs.add("workflow_execution_id", "This field is required.")
	} else if uuid.Validate(id) != nil {
		errs.add("workflow_execution_id", "Must be a valid UUID.")
	}
	raw, present := data["files"]
	files, isList := raw.([]any)
	switch {
	case !present:
		errs.add("files", "This field is required.")
	case !isList:
		errs.add("files", "Expected a list of items but got type \""+fmt.Sprintf("%T", raw)+"\".")
	case len(files) == 0:
		errs.add("files", "This list may not be empty.")
	}
	for _, f := range files {
		if _, isMap := f.(map[string]any); !isMap {
			errs.add("files", "Expected a dictionary of items.")
			break
		}
	}
	if v, present := data["is_api"]; present {
		if _, isBool := v.(bool); !isBool {
			errs.add("is_api", "Must be a valid boolean.")
		}
	}
	if len(errs) > 0 {
		q.answer(http.StatusBadRequest, errs)
		return
	}
	e := p.executions[id] // get_object_or_404, unscoped; its Http404 is caught as a 500
	if e == nil {
		q.answer(http.StatusInternalServerError, map[string]any{"error": "Failed to create file batch", "detail": "No WorkflowExecution matches the given query."})
		return
	}
	created := []any{}
	for _, f := range files {
		fd := f.(map[string]any)
		name, _ := fd["file_name"].(string)
		path, _ := fd["file_path"].(string)
		hash, _ := fd["file_hash"].(string)
		pf := &platformFile{PlatformFile: PlatformFile{ID: uuid.NewString(), Name: name, Path: path, Hash: hash, Status: "PENDING"}, created: time.Now()}
		e.files = append(e.files, pf)
		created = append(created, map[string]any{"id": pf.ID, "file_name": name, "status": "PENDING"})
	}
	q.answer(http.StatusCreated, map[string]any{"batch_id": uuid.NewString(), "workflow_execution_id": id, "total_files": len(files),
		"created_file_executions": created, "skipped_files": []any{}})
}

func (p *PlatformAPI) incrementFiles(q *platformRequest) {
	data, ok := q.decode()
	if !ok {
		return
	}
	wf, _ := data["workflow_id"].(string)
	id, _ := data["execution_id"].(string)
	kind, _ := data["increment_type"].(string)
	if wf == "" || id == "" || kind == "" {
		q.fail(http.StatusBadRequest, "workflow_id, execution_id, and increment_type are required")
		return
	}
	e := p.executions[id] // unscoped lookup, as the view's
	if e == nil {
		q.fail(http.StatusNotFound, "Workflow execution not found")
		return
	}
	switch kind {
	case "completed":
		e.CompletedIncrements++
	case "failed":
		e.FailedIncrements++
	default:
		q.fail(http.StatusBadRequest, "Invalid increment_type: "+kind+". Must be 'completed' or 'failed'")
		return
	}
	q.answer(http.StatusOK, map[string]any{"success": true, "workflow_id": wf, "execution_id": id, "increment_type": kind})
}

func (p *PlatformAPI) fileExecution(q *platformRequest) {
	data, ok := q.decode()
	if !ok {
		return
	}
	id, _ := data["execution_id"].(string)
	if id == "" {
		q.fail(http.StatusBadRequest, "execution_id is required")
		return
	}
	e := p.execution(q, id)
	if e == nil {
		q.fail(http.StatusNotFound, "WorkflowExecution not found or access denied")
		return
	}
	fh, _ := data["file_hash"].(map[string]any)
	name, _ := fh["file_name"].(string)
	path, _ := fh["file_path"].(string)
	hash, _ := fh["file_hash"].(string)
	if conn, _ := fh["source_connection_type"].(string); conn == "API" {
		path = "" // the manager stores no path for API files
	}
	var found []*platformFile
	for _, f := range e.files {
		if f.Path == path && (hash == "" || f.Hash == hash) {
			found = append(found, f)
		}
	}
	var f *platformFile
	switch len(found) {
	case 0:
		f = &platformFile{PlatformFile: PlatformFile{ID: uuid.NewString(), Name: name, Path: path, Hash: hash, Status: "PENDING"}, created: time.Now()}
		e.files = append(e.files, f)
	case 1:
		f = found[0]
	default:
		q.answer(http.StatusInternalServerError, map[string]any{"error": "Failed to get/create file execution", "detail": "get() returned more than one WorkflowFileExecution"})
		return
	}
	q.answer(http.StatusCreated, fileJSON(e, f))
}

func (p *PlatformAPI) fileStatus(q *platformRequest) {
	id := q.r.PathValue("id")
	var f *platformFile
	for _, ex := range p.executions {
		for _, fe := range ex.files {
			if fe.ID == id && p.visible(q, ex.Org) {
				f = fe
			}
		}
	}
	if f == nil {
		q.answer(http.StatusNotFound, map[string]any{"detail": "No file execution found with ID " + id})
		return
	}
	data, ok := q.decode()
	if !ok {
		return
	}
	errs := fieldErrors{}
	status := statusField(data, errs)
	errMsg := stringField(data, "error_message", errs)
	stringField(data, "result", errs)
	floatField(data, "execution_time", errs)
	if len(errs) > 0 {
		q.answer(http.StatusBadRequest, errs)
		return
	}
	f.Status, f.Error = status, errMsg
	if finalStatus(status) {
		t := float64(time.Since(f.created).Milliseconds()) / 1000
		f.ExecutionTime = &t
	}
	q.answer(http.StatusOK, map[string]any{"status": "updated", "file_execution_id": f.ID,
		"data": map[string]any{"status": f.Status, "error_message": nilIfEmpty(f.Error), "result": nil}})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (p *PlatformAPI) updatePipeline(q *platformRequest) {
	data, ok := q.decode()
	if !ok {
		return
	}
	status, _ := data["status"].(string)
	if status == "" {
		q.answer(http.StatusBadRequest, map[string]any{"status": "error", "message": "Status is required"})
		return
	}
	isEnd, _ := data["is_end"].(bool)
	pl := p.pipelines[q.r.PathValue("id")]
	if pl == nil || !p.visible(q, pl.Org) {
		q.answer(http.StatusNotFound, map[string]any{"status": "error", "message": "Pipeline or API deployment not found"})
		return
	}
	if isEnd {
		pl.LastRunStatus = status
		pl.RunCount++
	}
	q.answer(http.StatusOK, map[string]any{"status": "success", "pipeline_id": pl.ID, "new_status": status, "is_end": isEnd,
		"message": "Pipeline status updated successfully"})
}
