//go:build integration

package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/shim/store"

	hatchetbackend "github.com/unstract/hatchet-worker/shim/backend/hatchet"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/helpers/extract"
	"github.com/unstract/hatchet-worker/helpers/llm"
	"github.com/unstract/hatchet-worker/internal/hatchetrun"
	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/api"
	"github.com/unstract/hatchet-worker/shim/api/apitest"
	"github.com/unstract/hatchet-worker/shim/backend/celery"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
	"github.com/unstract/hatchet-worker/shim/route"
	"github.com/unstract/hatchet-worker/workflows"
)

// executionOutputs are the prompts every file of the test executions runs;
// the fixture Celery app reads the same from FIXTURE_OUTPUTS.
var executionOutputs = []workflows.PromptOutput{
	{Name: "invoice_number", Prompt: "Extract the invoice number"},
	{Name: "total", Prompt: "State the total"},
}

// executionEnv serves workflow-execution both ways: a Hatchet worker running
// it with document-processing-v2, a fixture Celery worker running
// async_execute_bin as a chord on the Postgres result backend, and a shim
// dispatcher on which the request's use_abstraction picks the backend.
type executionEnv struct {
	dir    string
	llm    *testenv.LLMServer
	client *hatchet.Client
	celery *testenv.CeleryWorker
	shim   *shim.Dispatcher
	// Set before start: the fixture worker's extra environment, the
	// workflows' reporter, the shim route the platform tests send to
	// (default workflow-execution) and the dispatcher's options.
	celeryEnv []string
	reporter  workflows.Reporter
	route     string
	shimOpts  []shim.DispatcherOption
	// changeBatch, when set, alters process-file-batch before it is
	// registered.
	changeBatch func(*workflows.Definition)
	store       *store.Postgres
}

// envSetup alters what newExecutionEnv registers.
type envSetup struct {
	// change, when not nil, alters the workflow-execution definition.
	change func(*workflows.Definition)
	// extra are registered on the same worker.
	extra []workflows.Definition
	// llmCap is the stub adapter's max_concurrency (0: the default).
	llmCap int
}

// newExecutionEnv starts both sides, set up as setup says.
func newExecutionEnv(t testing.TB, slots int, setup envSetup) *executionEnv {
	t.Helper()
	env := &executionEnv{}
	env.start(t, slots, setup)
	return env
}

// start starts both sides of env as its fields and setup say.
func (env *executionEnv) start(t testing.TB, slots int, setup envSetup) {
	t.Helper()
	env.dir, env.llm = t.TempDir(), testenv.NewLLMServer(t, "")
	queue := "wx_" + testName(t)
	bridge := env.startCelery(t, queue)
	var routes []route.Route
	env.client, routes = env.startHatchet(t, slots, bridge, setup)
	env.shim = env.dispatcher(t, bridge, routes, queue)
}

// startCelery starts the fixture worker on this test's own queues and a
// bridge client whose default queue is the execution queue.
func (env *executionEnv) startCelery(t testing.TB, queue string) *celerybridge.Client {
	t.Helper()
	outputs, _ := json.Marshal(executionOutputs)
	backend := testenv.CeleryPostgresBackend(t)
	env.celery = testenv.StartCeleryWorker(t, testenv.WithCeleryBackend(backend), testenv.WithCeleryConcurrency(10),
		testenv.WithCeleryQueues(queue, queue+"_api", queue+"_files", queue+"_callback"),
		testenv.WithCeleryEnv(append([]string{"FIXTURE_FILE_QUEUE=" + queue + "_files", "FIXTURE_CALLBACK_QUEUE=" + queue + "_callback",
			"FIXTURE_API_QUEUE=" + queue + "_api", "FIXTURE_LLM_URL=" + env.llm.BaseURL(), "FIXTURE_OUTPUTS=" + string(outputs),
			"MAX_PARALLEL_FILE_BATCHES=10"}, env.celeryEnv...)...))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bridge, err := celerybridge.Dial(ctx, testenv.AMQPURL(t), celerybridge.WithResultBackend(backend), celerybridge.WithDefaultQueue(queue))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bridge.Close(context.Background()) })
	return bridge
}

// startHatchet registers document-processing-v2 and workflow-execution on a
// worker with slots slots, and returns the shim routes of workflow-execution
// and document-processing-v2.
func (env *executionEnv) startHatchet(t testing.TB, slots int, bridge *celerybridge.Client, setup envSetup) (*hatchet.Client, []route.Route) {
	t.Helper()
	adapters, err := workflows.NewLLMAdapters(map[string]llm.Adapter{"local": {BaseURL: env.llm.BaseURL(), Model: "tiny", MaxConcurrency: setup.llmCap}})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := extract.New("", "")
	if err != nil {
		t.Fatal(err)
	}
	conn := hatchettest.Engine(t)
	deps := workflows.Deps{Log: slog.Default(), Extractor: ex, LLM: adapters, Documents: testenv.LocalDocuments(t, env.dir), Celery: bridge, Reporter: env.reporter,
		Runs: hatchetrun.Records{Client: conn.Client}}
	execution := workflows.WorkflowExecution(deps)
	if setup.change != nil {
		setup.change(&execution)
	}
	batch := workflows.FileBatch(deps)
	if env.changeBatch != nil {
		env.changeBatch(&batch)
	}
	documents := workflows.DocumentProcessing(deps)
	wfs, err := workflows.BuildAll(conn.Client, append([]workflows.Definition{documents, batch, execution}, setup.extra...))
	if err != nil {
		t.Fatal(err)
	}
	hatchettest.StartWorker(t, conn, "wx-"+testName(t), slots, wfs)
	return conn.Client, workflows.Routes([]workflows.Definition{execution, documents})
}

// testName is the test's name as queue, worker and database names take it:
// lower case, anything but letters and digits an underscore.
func testName(t testing.TB) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.ToLower(t.Name()))
}

// byRequest routes by the request's use_abstraction: true Hatchet, else Celery.
type byRequest struct{}

func (byRequest) Decide(r featureflag.Request) featureflag.Decision {
	b := featureflag.BackendCelery
	if r.Override != nil && *r.Override {
		b = featureflag.BackendHatchet
	}
	return featureflag.Decision{Backend: b, Reason: featureflag.ReasonRequest, Workflow: r.Workflow}
}

func (byRequest) Fallback(featureflag.Decision) (featureflag.Decision, bool) {
	return featureflag.Decision{}, false
}

// dispatcher serves routes, their legacy tasks on queue.
func (env *executionEnv) dispatcher(t testing.TB, bridge *celerybridge.Client, routes []route.Route, queue string) *shim.Dispatcher {
	t.Helper()
	names := make([]string, len(routes))
	for i := range routes {
		legacy := *routes[i].Legacy
		legacy.Queue = queue
		if routes[i].Legacy.Queue == workflows.QueueAPIDeployments {
			legacy.Queue = queue + "_api" // the fixture's FIXTURE_API_QUEUE
		}
		routes[i].Legacy = &legacy
		names[i] = routes[i].Hatchet
	}
	catalog, err := route.NewCatalog(routes, names)
	if err != nil {
		t.Fatal(err)
	}
	store, err := store.Open(context.Background(), hatchettest.DatabaseURL(t, "hw_test_wx_"+testName(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	env.store = store
	conn := hatchettest.Engine(t)
	return shim.NewDispatcher(catalog, byRequest{}, store, map[featureflag.Backend]shim.Backend{
		featureflag.BackendHatchet: hatchetbackend.New(conn.Client, conn.Ready, hatchetbackend.WithResultTasks(catalog.ResultTasks()), hatchetbackend.WithProgress(catalog.Spawning()...)),
		featureflag.BackendCelery:  celery.New(bridge),
	}, env.shimOpts...)
}

// files writes n invoices, an empty file, and names one that does not
// exist, and returns hash_values_of_files for them.
func (env *executionEnv) files(t testing.TB, n int) map[string]any {
	t.Helper()
	files := map[string]any{}
	add := func(name, content string, create bool) {
		p := filepath.Join(env.dir, name)
		if create {
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		files["hash-"+name] = map[string]any{"file_path": p, "file_name": name, "file_hash": "sha-" + name}
	}
	for i := range n {
		add(fmt.Sprintf("invoice-%03d.txt", i), fmt.Sprintf("Invoice INV-%03d\nTotal %d.00 EUR\n", i, 10+i), true)
	}
	add("empty.txt", "", true)
	add("missing.txt", "", false)
	return files
}

// request is a workflow-execution request over files, four to a batch.
func request(executionID string, files map[string]any, hatchetSide bool) shim.ExecuteRequest {
	return batchedRequest(executionID, files, hatchetSide, 4)
}

// batchedRequest is a workflow-execution request over files, batchSize to
// a batch.
func batchedRequest(executionID string, files map[string]any, hatchetSide bool, batchSize int) shim.ExecuteRequest {
	input, _ := json.Marshal(map[string]any{
		"schema_name": "org_wx", "workflow_id": "wf-1", "execution_id": executionID, "hash_values_of_files": files,
		"pipeline_id": "pipe-1", "use_file_history": false, "batch_size": batchSize,
		"outputs": executionOutputs, "llm_adapter_id": "local", "chunk_size": 0, "chunk_overlap": 0,
	})
	return shim.ExecuteRequest{Workflow: workflows.WorkflowExecutionName, OrganizationID: "org_wx", Input: input, UseAbstraction: &hatchetSide}
}

// waitFinal polls the execution's status until it has ended.
func (env *executionEnv) waitFinal(t testing.TB, id string, within time.Duration) shim.Status {
	t.Helper()
	return env.waitFinalEvery(t, id, within, 250*time.Millisecond)
}

// waitFinalEvery polls the execution's status every interval until it has
// ended.
func (env *executionEnv) waitFinalEvery(t testing.TB, id string, within, interval time.Duration) shim.Status {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, err := env.shim.Status(context.Background(), id)
		if err == nil && st.Final() {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s not finished after %s: %+v (err %v)", id, within, st, err)
		}
		time.Sleep(interval)
	}
}

func outputOf(t testing.TB, st shim.Status) workflows.ExecutionOutput {
	t.Helper()
	var out workflows.ExecutionOutput
	if err := json.Unmarshal(st.Result, &out); err != nil {
		t.Fatalf("%s result %s: %v", st.Backend, st.Result, err)
	}
	return out
}

// TestWorkflowExecutionBothWays sends the same execution through Hatchet
// and through the legacy chord and compares the sets of successful and
// failed files, the LLM calls each made, and Hatchet's progress.
func TestWorkflowExecutionBothWays(t *testing.T) {
	env := newExecutionEnv(t, 20, envSetup{})
	files := env.files(t, 9)
	ctx := context.Background()
	outs := map[featureflag.Backend]workflows.ExecutionOutput{}
	for _, hatchetSide := range []bool{true, false} {
		before := env.llm.Calls.Load()
		a, err := env.shim.Execute(ctx, request(fmt.Sprintf("ex-%v", hatchetSide), files, hatchetSide))
		if err != nil {
			t.Fatal(err)
		}
		st := env.waitFinal(t, a.ID, 3*time.Minute)
		if st.State != shim.StateSucceeded {
			t.Fatalf("%s: %s %+v", st.Backend, st.State, st.Error)
		}
		out := outputOf(t, st)
		outs[st.Backend] = out
		if calls := env.llm.Calls.Load() - before; calls != int64(9*len(executionOutputs)) {
			t.Errorf("%s: %d LLM calls, want %d (one per prompt and readable file)", st.Backend, calls, 9*len(executionOutputs))
		}
		if hatchetSide {
			want := hatchetrun.Children{Total: 11, Done: 11, Succeeded: 9, Failed: 2}
			if st.Progress == nil || *st.Progress != want {
				t.Errorf("hatchet progress = %+v, want %+v", st.Progress, want)
			}
			checkBatchVisible(t, env.client, a.ID, "invoice-004.txt")
		}
	}
	h, c := outs[featureflag.BackendHatchet], outs[featureflag.BackendCelery]
	if !reflect.DeepEqual(slices.Sorted(maps.Keys(h.Results)), slices.Sorted(maps.Keys(c.Results))) || !reflect.DeepEqual(slices.Sorted(maps.Keys(h.Errors)), slices.Sorted(maps.Keys(c.Errors))) {
		t.Errorf("hatchet: ok %v failed %v\ncelery: ok %v failed %v", slices.Sorted(maps.Keys(h.Results)), slices.Sorted(maps.Keys(h.Errors)), slices.Sorted(maps.Keys(c.Results)), slices.Sorted(maps.Keys(c.Errors)))
	}
	if h.SuccessfulFiles != 9 || h.FailedFiles != 2 || c.SuccessfulFiles != 9 || c.FailedFiles != 2 {
		t.Errorf("counts: hatchet %d/%d, celery %d/%d, want 9 successful and 2 failed", h.SuccessfulFiles, h.FailedFiles, c.SuccessfulFiles, c.FailedFiles)
	}
	if got := h.Results["invoice-004.txt"].ProcessedResults["invoice_number"]; len(got) != 1 || got[0].Response != "Extract: Invoice INV-004" {
		t.Errorf("hatchet result of invoice-004.txt = %+v", got)
	}
	checkListed(t, env.shim)
}

// checkBatchVisible checks the dashboard shows a file's outcome: the runs
// found by the execution's id and its organisation are its batches, and the
// log of the batch holding file says the file succeeded.
func checkBatchVisible(t *testing.T, client *hatchet.Client, executionID, file string) {
	t.Helper()
	meta := []string{"execution_id:" + executionID, "organization_id:org_wx"}
	and := rest.AND
	list, err := client.Runs().List(context.Background(), rest.V1WorkflowRunListParams{Since: time.Now().Add(-time.Hour),
		AdditionalMetadata: &meta, AdditionalMetadataOperator: &and})
	if err != nil {
		t.Fatal(err)
	}
	var holder *rest.V1TaskSummary
	for i, r := range list.Rows {
		name := ""
		if r.WorkflowName != nil {
			name = *r.WorkflowName
		}
		if name == workflows.WorkflowExecutionName {
			continue
		}
		if name != workflows.FileBatchName {
			t.Errorf("run %s with metadata %v is a %q, want the execution and its %s runs", r.Metadata.Id, meta, name, workflows.FileBatchName)
			continue
		}
		m := *r.AdditionalMetadata
		if first, last := fmt.Sprint(m["first_file"]), fmt.Sprint(m["last_file"]); first <= file && file <= last {
			holder = &list.Rows[i]
		}
	}
	if holder == nil {
		t.Fatalf("no %s run with metadata %v holds %s (%d runs)", workflows.FileBatchName, meta, file, len(list.Rows))
	}
	d, err := client.Runs().Get(context.Background(), holder.Metadata.Id)
	if err != nil {
		t.Fatal(err)
	}
	want := "file succeeded file=" + file
	for _, task := range d.Tasks {
		logs, err := client.Logs().List(context.Background(), task.TaskExternalId, nil)
		if err != nil {
			t.Fatal(err)
		}
		if logs.Rows == nil {
			continue
		}
		for _, l := range *logs.Rows {
			if strings.HasPrefix(l.Message, want) {
				return
			}
		}
	}
	t.Errorf("the log of batch run %s has no line %q", holder.Metadata.Id, want)
}

// checkListed checks GET /api/v2/workflows shows workflow-execution with
// its legacy task.
func checkListed(t *testing.T, d *shim.Dispatcher) {
	t.Helper()
	mux := http.NewServeMux()
	api.NewServer(d, api.WithTokens("tok")).Register(mux)
	req := httptest.NewRequest(http.MethodGet, "/api/v2/workflows", nil)
	req.Header.Set("Authorization", "Bearer tok")
	rec := httptest.NewRecorder()
	apitest.MustNew(t, api.Document()).Handler(t, mux).ServeHTTP(rec, req)
	want := `"workflow":"workflow-execution","hatchet_workflow":"workflow-execution","legacy":{"task":"async_execute_bin"`
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
		t.Errorf("GET /api/v2/workflows = %d %s\nwant it to hold %s", rec.Code, rec.Body, want)
	}
}

// TestWorkflowExecutionWebhook checks the summary goes to the webhook
// through the legacy send_webhook_notification task.
func TestWorkflowExecutionWebhook(t *testing.T) {
	env := newExecutionEnv(t, 20, envSetup{})
	req := request("ex-hook", env.files(t, 2), true)
	var input map[string]any
	_ = json.Unmarshal(req.Input, &input)
	input["webhook_url"] = "https://hooks.example/done"
	req.Input, _ = json.Marshal(input)
	a, err := env.shim.Execute(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	out := outputOf(t, env.waitFinal(t, a.ID, 2*time.Minute))
	if out.WebhookTaskID == "" {
		t.Fatalf("no webhook task in %+v", out)
	}
	calls := env.celery.WebhookCalls(t)
	if len(calls) != 1 || !strings.Contains(calls[0], `"execution_id": "ex-hook"`) || !strings.Contains(calls[0], `"failed_files": 2`) {
		t.Errorf("webhook calls = %v", calls)
	}
}

// TestWorkflowExecutionCancel cancels an execution mid-way through the shim
// and checks the children still waiting are cancelled and make no LLM calls.
func TestWorkflowExecutionCancel(t *testing.T) {
	env := newExecutionEnv(t, 20, envSetup{})
	env.llm.SetDelay(400 * time.Millisecond)
	const files = 40
	a, err := env.shim.Execute(context.Background(), request("ex-cancel", env.files(t, files), true))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "first LLM calls", func() bool { return env.llm.Calls.Load() >= 4 })
	if _, err := env.shim.Cancel(context.Background(), a.ID); err != nil {
		t.Fatal(err)
	}
	st := env.waitFinal(t, a.ID, time.Minute)
	if st.State != shim.StateCancelled {
		t.Fatalf("execution %s, want cancelled", st.State)
	}
	waitFor(t, time.Minute, "children to end", func() bool {
		st, err := env.shim.Status(context.Background(), a.ID)
		return err == nil && st.Progress != nil && st.Progress.Done == st.Progress.Total
	})
	settled := env.llm.Calls.Load()
	time.Sleep(3 * time.Second)
	st, err = env.shim.Status(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if calls := env.llm.Calls.Load(); calls != settled || calls >= files*int64(len(executionOutputs)) {
		t.Errorf("LLM calls %d after the children ended, %d three seconds later; a full run makes %d", settled, calls, files*len(executionOutputs))
	}
	if p := st.Progress; p == nil || p.Cancelled == 0 || p.Total != files+2 {
		t.Errorf("progress after cancel = %+v, want cancelled children among %d", p, files+2)
	}
}

// TestWorkflowExecutionRetriedParent makes process-files time out while its
// children still run: its retry finds the children the first attempt
// started, so every file is processed once (counted at the LLM server).
func TestWorkflowExecutionRetriedParent(t *testing.T) {
	env := newExecutionEnv(t, 20, envSetup{change: func(d *workflows.Definition) {
		for i := range d.Tasks {
			if d.Tasks[i].Name == "process-files" {
				d.Tasks[i].Timeout = 5 * time.Second
			}
		}
	}})
	env.llm.SetDelay(4 * time.Second) // two prompts: each child takes over 8 s
	const files = 6
	a, err := env.shim.Execute(context.Background(), request("ex-retry", env.files(t, files), true))
	if err != nil {
		t.Fatal(err)
	}
	st := env.waitFinal(t, a.ID, 3*time.Minute)
	if st.State != shim.StateSucceeded {
		t.Fatalf("execution %s: %+v", st.State, st.Error)
	}
	out := outputOf(t, st)
	if out.SuccessfulFiles != files || out.FailedFiles != 2 {
		t.Errorf("%d successful, %d failed; want %d and 2 (result %s)", out.SuccessfulFiles, out.FailedFiles, files, st.Result)
	}
	if calls, want := env.llm.Calls.Load(), int64(files*len(executionOutputs)); calls != want {
		t.Errorf("%d LLM calls, want %d: a retried parent ran finished children again", calls, want)
	}
	if attempts := fanOutAttempt(t, env.client, st.BackendRef); attempts < 1 {
		t.Errorf("process-files finished on attempt %d; the test meant it to be retried", attempts)
	}
}

// TestWorkflowExecutionsOutnumberSlots runs more executions at once than
// the worker has slots: the parents wait in durable slots, so the files
// still get the ordinary ones and every execution finishes.
func TestWorkflowExecutionsOutnumberSlots(t *testing.T) {
	env := newExecutionEnv(t, 2, envSetup{})
	files := env.files(t, 3)
	var ids []string
	for i := range 3 {
		a, err := env.shim.Execute(context.Background(), request(fmt.Sprintf("ex-slots-%d", i), files, true))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	for _, id := range ids {
		st := env.waitFinal(t, id, 2*time.Minute)
		if out := outputOf(t, st); st.State != shim.StateSucceeded || out.SuccessfulFiles != 3 || out.FailedFiles != 2 {
			t.Errorf("execution %s: %s, %d successful, %d failed", id, st.State, out.SuccessfulFiles, out.FailedFiles)
		}
	}
}

// fanOutAttempt reads which attempt of process-files gathered the outcomes.
func fanOutAttempt(t *testing.T, client *hatchet.Client, runID string) int {
	t.Helper()
	d, err := client.Runs().Get(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	var fan workflows.ExecutionOutput
	done, err := hatchettest.TaskOutput(d, "process-files", &fan)
	if err != nil {
		t.Fatal(err)
	}
	if done {
		return fan.Attempt
	}
	t.Fatalf("run %s has no completed process-files task", runID)
	return -1
}

func waitFor(t *testing.T, within time.Duration, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
