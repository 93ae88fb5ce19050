//go:build integration

//lint:file-ignore SA1019 a test marks an injected failure non-retryable as the workflows do, through pkg/worker.NewNonRetryableError.

package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/shim/store"

	pkgworker "github.com/hatchet-dev/hatchet/pkg/worker"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/platform"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/console"
	"github.com/unstract/hatchet-worker/workflows"
)

// The tests below run executions on both backends against one contract
// stand-in of the platform's internal API (testenv.PlatformAPI, which
// follows backend/workflow_manager/internal_views.py,
// backend/workflow_manager/file_execution/internal_views.py and
// backend/pipeline_v2/internal_api_views.py of github.com/Zipstack/unstract)
// and the test Redis, where API results go as
// backend/workflow_manager/endpoint_v2/result_cache_utils.py keeps them.

// platformEnv is an executionEnv whose Hatchet side reports through a
// platform.Reporter and whose legacy fixture reports as the platform's
// workers do, both to one PlatformAPI and one Redis.
type platformEnv struct {
	*executionEnv
	api   *testenv.PlatformAPI
	redis *redis.Client
	log   *testenv.Buffer
}

// lateReports reads the env's store once the dispatcher has opened it.
type lateReports struct {
	store *atomic.Pointer[store.Postgres]
}

func (r lateReports) PlatformReport(ctx context.Context, id string) (shim.PlatformReport, bool, error) {
	s := r.store.Load()
	if s == nil {
		return shim.PlatformReport{}, false, nil
	}
	return s.PlatformReport(ctx, id)
}

// platformOpts configure newPlatformEnv.
type platformOpts struct {
	route       string // shim route (default workflow-execution)
	key         string // the Hatchet side's key ("" the right one)
	change      func(*workflows.Definition)
	changeBatch func(*workflows.Definition)
}

func newPlatformEnv(t *testing.T, o platformOpts) *platformEnv {
	t.Helper()
	api := testenv.StartPlatformAPI(t)
	redisURL := "redis://" + testenv.RedisAddr(t) + "/0"
	results, err := platform.NewRedisResults(redisURL, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = results.Close() })
	ropts, _ := redis.ParseURL(redisURL)
	rc := redis.NewClient(ropts)
	t.Cleanup(func() { _ = rc.Close() })
	key := o.key
	if key == "" {
		key = api.Key
	}
	logs := &testenv.Buffer{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriter{t}), nil))
	client, err := platform.NewClient(api.URL, key, platform.WithRetryFor(2*time.Minute), platform.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	var store atomic.Pointer[store.Postgres]
	observe := func(ev platform.Event) {
		if s := store.Load(); s != nil {
			if err := s.NotePlatformReport(context.Background(), ev.Execution.Key, ev.Final, ev.Err, ev.Retrying); err != nil {
				t.Errorf("record platform report: %v", err)
			}
		}
	}
	env := &executionEnv{route: o.route, changeBatch: o.changeBatch,
		celeryEnv: []string{"FIXTURE_PLATFORM_API_URL=" + api.URL, "FIXTURE_PLATFORM_API_KEY=" + api.Key,
			"FIXTURE_PLATFORM_REDIS_URL=" + redisURL, "FIXTURE_RESULT_TTL_SECONDS=3600"},
		reporter: platform.NewReporter(client, platform.WithResults(results), platform.WithObserver(observe), platform.WithReporterLogger(log)),
		shimOpts: []shim.DispatcherOption{shim.WithPlatformReports(lateReports{&store})}}
	env.start(t, 20, envSetup{change: o.change})
	store.Store(env.store)
	return &platformEnv{executionEnv: env, api: api, redis: rc, log: logs}
}

// testWriter sends log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// run sends one execution of files to the backend the request picks, as
// the platform would (its execution and pipeline created first), waits
// until both the shim and the platform see it ended, and returns what the
// platform saw.
func (env *platformEnv) run(t *testing.T, files map[string]any, hatchetSide bool) (shim.Status, platformView) {
	t.Helper()
	exID := env.api.CreateExecution("org_wx", "wf-1")
	pipeline := env.api.CreatePipeline("org_wx")
	t.Cleanup(func() { env.redis.Del(context.Background(), platform.APIResultsKey("wf-1", exID)) })
	from := len(env.api.Calls())
	a, err := env.shim.Execute(context.Background(), platformRequest(env.route, exID, pipeline, files, hatchetSide))
	if err != nil {
		t.Fatal(err)
	}
	env.waitFinal(t, a.ID, 3*time.Minute)
	waitFor(t, time.Minute, "the platform to hold a final status", func() bool {
		e, _ := env.api.Execution(exID)
		return e.Status == "COMPLETED" || e.Status == "ERROR" || e.Status == "STOPPED"
	})
	st, err := env.shim.Status(context.Background(), a.ID) // read again: the platform report is recorded by now
	if err != nil {
		t.Fatal(err)
	}
	return st, env.view(t, exID, pipeline, env.api.Calls()[from:])
}

// platformRequest is a request of route over files for the platform's
// execution exID of pipeline.
func platformRequest(route, exID, pipeline string, files map[string]any, hatchetSide bool) shim.ExecuteRequest {
	if route == "" {
		route = workflows.WorkflowExecutionName
	}
	input, _ := json.Marshal(map[string]any{
		"schema_name": "org_wx", "workflow_id": "wf-1", "execution_id": exID, "hash_values_of_files": files,
		"pipeline_id": pipeline, "use_file_history": false, "batch_size": 4,
		"outputs": executionOutputs, "llm_adapter_id": "local", "chunk_size": 0, "chunk_overlap": 0,
	})
	return shim.ExecuteRequest{Workflow: route, OrganizationID: "org_wx", Input: input, UseAbstraction: &hatchetSide}
}

// platformView is what the platform saw of one execution, without ids and
// times: the comparison between the backends.
type platformView struct {
	// Statuses are the execution's update_status bodies, in order.
	Statuses []map[string]any
	// FileBatch is the file batch's files (name, path, hash), sorted, and
	// is_api.
	FileBatch []string
	IsAPI     bool
	// FileCalls are each file's status calls in order, by file name.
	FileCalls map[string][]string
	// Files are each file's final status by name, with "+error" when it
	// carries one.
	Files map[string]string
	// FailedIncrements counts increment-files calls of type failed.
	FailedIncrements int
	// Pipeline is the pipeline's last run and run count.
	Pipeline string
	// Results are the API result list's entries, normalised and sorted.
	Results []string
	// Refused lists the calls answered with a 4xx or 5xx.
	Refused []string
	// Orgs are the X-Organization-ID headers sent.
	Orgs []string
}

func (env *platformEnv) view(t *testing.T, exID, pipeline string, calls []testenv.PlatformCall) platformView {
	t.Helper()
	e, _ := env.api.Execution(exID)
	names := map[string]string{}
	v := platformView{FileCalls: map[string][]string{}, Files: map[string]string{}, FailedIncrements: e.FailedIncrements}
	for _, f := range e.Files {
		names[f.ID] = f.Name
		v.Files[f.Name] = f.Status
		if f.Error != "" {
			v.Files[f.Name] += "+error"
		}
	}
	orgs := map[string]bool{}
	for _, c := range calls {
		orgs[c.Org] = true
		if c.Status >= 300 { // not taken: only listed
			v.Refused = append(v.Refused, fmt.Sprintf("%s %s %d", c.Method, c.Path, c.Status))
			continue
		}
		var body map[string]any
		_ = json.Unmarshal(c.Body, &body)
		switch {
		case strings.HasSuffix(c.Path, "/update_status/"):
			delete(body, "error_message")
			v.Statuses = append(v.Statuses, body)
		case c.Path == "v1/workflow-manager/file-batch/":
			v.IsAPI, _ = body["is_api"].(bool)
			for _, f := range body["files"].([]any) {
				m := f.(map[string]any)
				v.FileBatch = append(v.FileBatch, fmt.Sprint(m["file_name"], " ", m["file_path"], " ", m["file_hash"]))
			}
		case strings.HasPrefix(c.Path, "v1/file-execution/") && strings.HasSuffix(c.Path, "/status/"):
			id := strings.TrimSuffix(strings.TrimPrefix(c.Path, "v1/file-execution/"), "/status/")
			v.FileCalls[names[id]] = append(v.FileCalls[names[id]], fmt.Sprint(body["status"]))
		}
	}
	for o := range orgs {
		v.Orgs = append(v.Orgs, o)
	}
	sort.Strings(v.Orgs)
	sort.Strings(v.FileBatch)
	if pl, ok := env.api.Pipeline(pipeline); ok {
		v.Pipeline = fmt.Sprintf("%s x%d", pl.LastRunStatus, pl.RunCount)
	}
	entries, err := env.redis.LRange(context.Background(), platform.APIResultsKey("wf-1", exID), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range entries {
		var r platform.APIResult
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			t.Fatalf("API result %s: %v", raw, err)
		}
		if r.FileExecutionID == "" || r.Metadata == nil {
			t.Errorf("API result %s lacks its file execution or metadata", raw)
		}
		result, _ := json.Marshal(r.Result)
		v.Results = append(v.Results, fmt.Sprintf("%s %s error=%v %s", r.File, r.Status, r.Error != nil, result))
	}
	sort.Strings(v.Results)
	return v
}

// TestPlatformSeesTheSameFromBothBackends sends the same 11-file execution
// (2 files failing) once to each backend, on each route, and compares what
// the platform saw: execution statuses, file executions and their calls,
// the pipeline's last run and the API results.
func TestPlatformSeesTheSameFromBothBackends(t *testing.T) {
	for _, route := range []string{workflows.WorkflowExecutionName, workflows.APIDeploymentExecutionName} {
		t.Run(route, func(t *testing.T) {
			env := newPlatformEnv(t, platformOpts{route: route})
			files := env.files(t, 9)
			views := map[featureflag.Backend]platformView{}
			for _, hatchetSide := range []bool{true, false} {
				st, v := env.run(t, files, hatchetSide)
				if st.State != shim.StateSucceeded {
					t.Fatalf("%s: %s %+v", st.Backend, st.State, st.Error)
				}
				views[st.Backend] = v
				if hatchetSide && (st.PlatformReport == nil || !st.PlatformReport.Reported || st.PlatformReport.LastError != nil) {
					t.Errorf("hatchet status: platform report %+v, want reported without error", st.PlatformReport)
				}
			}
			h, c := views[featureflag.BackendHatchet], views[featureflag.BackendCelery]
			if !reflect.DeepEqual(h, c) {
				t.Errorf("the platform saw different executions:\nhatchet %s\ncelery  %s", mustJSON(h), mustJSON(c))
			}
			checkView(t, h, route == workflows.APIDeploymentExecutionName)
		})
	}
}

// checkView checks what the platform saw of the 11-file execution, 9
// succeeding and empty.txt and missing.txt failing.
func checkView(t *testing.T, v platformView, api bool) {
	t.Helper()
	wantStatuses := []map[string]any{{"status": "EXECUTING", "attempts": 1.0}, {"status": "EXECUTING", "total_files": 11.0},
		{"status": "COMPLETED", "total_files": 11.0, "successful_files": 9.0, "failed_files": 2.0}}
	if !reflect.DeepEqual(v.Statuses, wantStatuses) {
		t.Errorf("statuses %v, want %v", v.Statuses, wantStatuses)
	}
	if len(v.FileBatch) != 11 || v.IsAPI != api {
		t.Errorf("file batch of %d files, is_api %v; want 11, %v", len(v.FileBatch), v.IsAPI, api)
	}
	for name, status := range v.Files {
		want := "COMPLETED"
		if name == "empty.txt" || name == "missing.txt" {
			want = "ERROR+error"
		}
		if status != want || !reflect.DeepEqual(v.FileCalls[name], []string{"EXECUTING", strings.TrimSuffix(want, "+error")}) {
			t.Errorf("file %s: %s after %v, want %s after EXECUTING", name, status, v.FileCalls[name], want)
		}
	}
	if len(v.Files) != 11 || v.FailedIncrements != 2 || v.Pipeline != "SUCCESS x1" || len(v.Refused) != 0 || !reflect.DeepEqual(v.Orgs, []string{"org_wx"}) {
		t.Errorf("files %d, failed increments %d, pipeline %q, refused %v, orgs %v", len(v.Files), v.FailedIncrements, v.Pipeline, v.Refused, v.Orgs)
	}
	if wantResults := map[bool]int{true: 11, false: 0}[api]; len(v.Results) != wantResults {
		t.Errorf("%d API results, want %d: %v", len(v.Results), wantResults, v.Results)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// errInjected fails a task's first attempt after its work and reports.
var errInjected = errors.New("injected failure after the task's reports")

// failFirstAttempt wraps task name of d so that its first attempt fails
// after its work (and its reports) are done.
func failFirstAttempt[In, Out any](t *testing.T, d *workflows.Definition, name string) {
	t.Helper()
	for i := range d.Tasks {
		if d.Tasks[i].Name != name {
			continue
		}
		switch fn := d.Tasks[i].Fn.(type) {
		case func(hatchet.Context, In) (Out, error):
			d.Tasks[i].Fn = func(ctx hatchet.Context, in In) (Out, error) {
				out, err := fn(ctx, in)
				if err == nil && ctx.RetryCount() == 0 {
					return out, errInjected
				}
				return out, err
			}
		case func(hatchet.DurableContext, In) (Out, error):
			d.Tasks[i].Fn = func(ctx hatchet.DurableContext, in In) (Out, error) {
				out, err := fn(ctx, in)
				if err == nil && ctx.RetryCount() == 0 {
					return out, errInjected
				}
				return out, err
			}
		default:
			t.Fatalf("task %s has Fn %T", name, d.Tasks[i].Fn)
		}
		return
	}
	t.Fatalf("no task %s", name)
}

// TestPlatformReportsOnceWhenStepsRetry fails the first attempt of every
// batch and of process-files after they reported: the retries report
// nothing twice.
func TestPlatformReportsOnceWhenStepsRetry(t *testing.T) {
	env := newPlatformEnv(t, platformOpts{
		route: workflows.APIDeploymentExecutionName,
		change: func(d *workflows.Definition) {
			failFirstAttempt[workflows.ExecutionInput, workflows.ExecutionOutput](t, d, "process-files")
		},
		changeBatch: func(d *workflows.Definition) {
			failFirstAttempt[workflows.FileBatchInput, workflows.FileBatchOutput](t, d, "process-batch")
		},
	})
	files := env.files(t, 9)
	before := env.llm.Calls.Load()
	st, v := env.run(t, files, true)
	if st.State != shim.StateSucceeded {
		t.Fatalf("%s %+v", st.State, st.Error)
	}
	if calls := env.llm.Calls.Load() - before; calls != int64(2*9*len(executionOutputs)) {
		t.Errorf("%d LLM calls, want %d: every batch was to be processed twice", calls, 2*9*len(executionOutputs))
	}
	checkView(t, v, true)
	if out := outputOf(t, st); out.Attempt != 1 {
		t.Errorf("process-files ended on attempt %d; the test meant it to be retried once", out.Attempt)
	}
}

// TestPlatformOutageIsRetried makes the internal API answer 503 for 30 s
// once the first file has been reported: reports are retried, nothing is
// lost, the execution ends COMPLETED at the platform, and the shim's status
// shows the delay meanwhile and afterwards.
func TestPlatformOutageIsRetried(t *testing.T) {
	env := newPlatformEnv(t, platformOpts{})
	env.llm.SetDelay(200 * time.Millisecond)
	exID := env.api.CreateExecution("org_wx", "wf-1")
	pipeline := env.api.CreatePipeline("org_wx")
	a, err := env.shim.Execute(context.Background(), platformRequest("", exID, pipeline, env.files(t, 9), true))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "a file reported", func() bool {
		e, _ := env.api.Execution(exID)
		for _, f := range e.Files {
			if f.Status == "COMPLETED" {
				return true
			}
		}
		return false
	})
	outage := time.Now()
	env.api.Unavailable(30 * time.Second)
	var during *shim.PlatformReport
	waitFor(t, 30*time.Second, "the status to show the retried report", func() bool {
		st, err := env.shim.Status(context.Background(), a.ID)
		if err == nil && st.PlatformReport != nil && st.PlatformReport.LastError != nil && st.PlatformReport.LastError.Retrying {
			during = st.PlatformReport
			return true
		}
		return false
	})
	if !strings.Contains(during.LastError.Message, "503") || during.Reported {
		t.Errorf("status during the outage: %+v", during.LastError)
	}
	st := env.waitFinal(t, a.ID, 3*time.Minute)
	if st.State != shim.StateSucceeded {
		t.Fatalf("%s %+v", st.State, st.Error)
	}
	if time.Since(outage) < 30*time.Second {
		t.Errorf("the execution ended %v into a 30 s outage", time.Since(outage))
	}
	st, _ = env.shim.Status(context.Background(), a.ID)
	if st.PlatformReport == nil || !st.PlatformReport.Reported || st.PlatformReport.LastError == nil || st.PlatformReport.LastError.Retrying {
		t.Errorf("status after the outage: %+v", st.PlatformReport)
	}
	e, _ := env.api.Execution(exID)
	v := env.view(t, exID, pipeline, env.api.Calls())
	v.Refused = nil // the 503s
	checkView(t, v, false)
	if e.Status != "COMPLETED" {
		t.Errorf("platform status %s, want COMPLETED", e.Status)
	}
}

// TestPlatformRefusesAWrongKey reports with a wrong key: the report fails
// with a clear error in the log, the status and the console, and the
// Hatchet result is kept.
func TestPlatformRefusesAWrongKey(t *testing.T) {
	env := newPlatformEnv(t, platformOpts{key: "not-the-key"})
	exID := env.api.CreateExecution("org_wx", "wf-1")
	a, err := env.shim.Execute(context.Background(), platformRequest("", exID, env.api.CreatePipeline("org_wx"), env.files(t, 3), true))
	if err != nil {
		t.Fatal(err)
	}
	st := env.waitFinal(t, a.ID, 3*time.Minute)
	if st.State != shim.StateSucceeded {
		t.Fatalf("%s %+v", st.State, st.Error)
	}
	if out := outputOf(t, st); out.SuccessfulFiles != 3 || out.FailedFiles != 2 {
		t.Errorf("result %s", st.Result)
	}
	const want = "401 Invalid internal service API key: API key does not match configured value (check PLATFORM_INTERNAL_API_KEY)"
	if r := st.PlatformReport; r == nil || r.Reported || r.LastError == nil || !strings.Contains(r.LastError.Message, want) || r.LastError.Retrying {
		t.Errorf("status platform report %+v, want the refusal", r)
	}
	if !strings.Contains(env.log.String(), "platform report failed") || !strings.Contains(env.log.String(), "check PLATFORM_INTERNAL_API_KEY") {
		t.Errorf("the log does not say why the report failed:\n%s", env.log.String())
	}
	if e, _ := env.api.Execution(exID); e.Status != "PENDING" || len(e.Files) != 0 {
		t.Errorf("the platform took something: %+v", e)
	}
	c, err := console.New(env.shim)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	c.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/executions/"+a.ID, nil))
	body := strings.ReplaceAll(rec.Body.String(), "&#39;", "'")
	if rec.Code != http.StatusOK || !strings.Contains(body, "not told the final status yet") || !strings.Contains(body, "check PLATFORM_INTERNAL_API_KEY") {
		t.Errorf("console execution page (%d) does not show the refusal:\n%s", rec.Code, body)
	}
}

// TestPlatformToldOfAFailedExecution makes the execution fail for good:
// the on-failure task reports ERROR with the error's text, and the
// pipeline's last run FAILURE.
func TestPlatformToldOfAFailedExecution(t *testing.T) {
	env := newPlatformEnv(t, platformOpts{change: func(d *workflows.Definition) {
		for i := range d.Tasks {
			if d.Tasks[i].Name == "process-files" {
				d.Tasks[i].Fn = func(hatchet.DurableContext, workflows.ExecutionInput) (workflows.ExecutionOutput, error) {
					return workflows.ExecutionOutput{}, pkgworker.NewNonRetryableError(errors.New("source connector unreachable"))
				}
			}
		}
	}})
	exID := env.api.CreateExecution("org_wx", "wf-1")
	pipeline := env.api.CreatePipeline("org_wx")
	a, err := env.shim.Execute(context.Background(), platformRequest("", exID, pipeline, env.files(t, 1), true))
	if err != nil {
		t.Fatal(err)
	}
	if st := env.waitFinal(t, a.ID, 2*time.Minute); st.State != shim.StateFailed {
		t.Fatalf("execution %s, want failed", st.State)
	}
	waitFor(t, time.Minute, "the platform to hold ERROR", func() bool {
		e, _ := env.api.Execution(exID)
		return e.Status == "ERROR"
	})
	e, _ := env.api.Execution(exID)
	if !strings.Contains(e.ErrorMessage, "process-files: source connector unreachable") {
		t.Errorf("platform error message %q", e.ErrorMessage)
	}
	if pl, _ := env.api.Pipeline(pipeline); pl.LastRunStatus != "FAILURE" || pl.RunCount != 1 {
		t.Errorf("pipeline %+v, want FAILURE once", pl)
	}
	waitFor(t, 30*time.Second, "the status to say the platform was told", func() bool {
		st, err := env.shim.Status(context.Background(), a.ID)
		return err == nil && st.PlatformReport != nil && st.PlatformReport.Reported
	})
}
