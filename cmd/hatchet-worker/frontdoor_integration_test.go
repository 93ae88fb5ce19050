//go:build integration

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// TestFrontDoor runs the service with the front door on the platform's
// "celery" queue (in a vhost of the test's own) and the flags sending
// everything to Hatchet, with the fixture Celery worker on the twin:
//   - Python's send_task("echo").get() still answers: a task without a
//     route goes to the twin unchanged and the worker's rpc:// reply finds
//     the caller;
//   - Python's send_task("async_execute_bin", …) becomes a workflow
//     execution on Hatchet, keyed by the Celery task id, which succeeds;
//   - the same task id sent again (a redelivery) starts no second run.
func TestFrontDoor(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service, Python Celery and a worker; skipped with -short")
	}
	vhost := testenv.AMQPVHost(t)
	testenv.StartCeleryWorker(t, testenv.WithCeleryBroker(vhost), testenv.WithCeleryQueues("celery.legacy"))
	docs, files := frontDoorFiles(t)
	settings := frontDoorSettings(t)
	llm := testenv.NewLLMServer(t, "")
	svc := startService(t, buildBinary(t), "DATABASE_URL="+database(t, "hw_test_frontdoor"), "CELERY_BROKER_URL="+vhost,
		"FRONT_DOOR=celery:async_execute_bin", "WORKFLOW_SETTINGS_FILE="+settings, "USE_TASK_ABSTRACTION=true",
		"DOCUMENTS_ROOTS="+docs, "SHIM_TRACK_INTERVAL=200ms",
		fmt.Sprintf(`LLM_ADAPTERS={"default": {"base_url": %q, "model": "stub"}}`, llm.BaseURL()))

	dir, err := testenv.CeleryAppDir()
	if err != nil {
		t.Fatal(err)
	}
	py := exec.Command(testenv.CeleryPython, filepath.Join(dir, "roundtrip.py"), vhost, "celery")
	py.Stdin = strings.NewReader("5\n")
	if out, err := py.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "ready") {
		t.Fatalf("Python's echo round trips through the front door: %v\n%s\n%s", err, out, svc.log.String())
	}

	args, _ := json.Marshal([]any{"org_fd", "wf-fd", "ex-fd-1", files})
	out, err := exec.Command(testenv.CeleryPython, filepath.Join(dir, "send_task.py"), vhost, "celery", "async_execute_bin",
		string(args), `{"pipeline_id": null, "use_file_history": false}`).CombinedOutput()
	if err != nil {
		t.Fatalf("send_task.py: %v\n%s", err, out)
	}
	taskID := strings.TrimSpace(string(out))
	var found execStatus
	svc.within(t, 2*time.Minute, func() bool {
		ids := keyed(t, svc, taskID)
		if len(ids) == 1 {
			found = svc.status(t, ids[0])
		}
		return found.State == "succeeded"
	}, func() string { return fmt.Sprintf("no succeeded Hatchet execution keyed %s (last %+v)", taskID, found) })
	if !strings.Contains(string(found.Result), `"successful_files":3`) {
		t.Errorf("result %s, want 3 files succeeded", found.Result)
	}

	again, err := celerybridge.Dial(t.Context(), vhost)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = again.Close(context.Background()) }()
	var call []any
	_ = json.Unmarshal(args, &call)
	if _, err := again.Send(t.Context(), "async_execute_bin", call, nil, celerybridge.WithTaskID(taskID), celerybridge.WithQueue("celery")); err != nil {
		t.Fatal(err)
	}
	replayed := `front_door_messages_total{outcome="replayed",queue="celery"} 1`
	svc.within(t, 30*time.Second, func() bool { return strings.Contains(svc.text(t, "/metrics"), replayed) },
		func() string { return "metrics lack " + replayed })
	if ids := keyed(t, svc, taskID); len(ids) != 1 {
		t.Errorf("%d executions keyed %s after it was sent again, want 1", len(ids), taskID)
	}
}

// listedExecution is an execution as the executions API lists it.
type listedExecution struct {
	ID             string `json:"execution_id"`
	IdempotencyKey string `json:"idempotency_key"`
	Backend        string `json:"backend"`
	Ingress        string `json:"ingress"`
	BackendRef     string `json:"backend_ref"`
}

// executions lists the service's executions of workflow-execution.
func executions(t *testing.T, svc *service) []listedExecution {
	t.Helper()
	var page struct {
		Executions []listedExecution `json:"executions"`
	}
	if err := json.Unmarshal(svc.api(t, "GET", "/api/v2/workflows/executions?workflow=workflow-execution", "", 200), &page); err != nil {
		t.Fatal(err)
	}
	return page.Executions
}

// keyed returns the Hatchet executions of workflow-execution whose
// idempotency key is key.
func keyed(t *testing.T, svc *service, key string) []string {
	t.Helper()
	var ids []string
	for _, e := range executions(t, svc) {
		if e.IdempotencyKey == key && e.Backend == "hatchet" {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// frontDoorFiles writes three invoices and returns their folder and the
// hash_values_of_files naming them.
func frontDoorFiles(t *testing.T) (string, map[string]any) {
	t.Helper()
	docs := t.TempDir()
	files := map[string]any{}
	for i := range 3 {
		name := fmt.Sprintf("invoice-%d.txt", i)
		p := filepath.Join(docs, name)
		if err := os.WriteFile(p, fmt.Appendf(nil, "Invoice INV-%d\nTotal %d.00 EUR\n", i, 10+i), 0o600); err != nil {
			t.Fatal(err)
		}
		files["hash-"+name] = map[string]any{"file_name": name, "file_path": p, "file_hash": "sha-" + name}
	}
	return docs, files
}

// frontDoorOutputs is the one prompt of the platform workflow wf-fd, in
// the settings file and in the fixture worker's FIXTURE_OUTPUTS.
const frontDoorOutputs = `[{"name": "total", "prompt": "State the total"}]`

// frontDoorSettings writes the settings file of wf-fd.
func frontDoorSettings(t *testing.T) string {
	t.Helper()
	settings := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(settings, []byte("workflows:\n  wf-fd:\n    outputs: "+frontDoorOutputs+"\n    llm_adapter_id: default\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return settings
}

// TestFrontDoorResults sends async_execute_bin from Python's own client
// through the front door, for each result backend, and reads the result
// with AsyncResult(id).get(): once for an organisation the flags keep on
// Celery (the fixture worker runs it from the twin queue, as a chord) and
// once for one they send to Hatchet (the service stores the run's result
// in Celery's format). Both return the same value; on rpc://, where
// Celery refuses the platform's chord, only the Hatchet side succeeds.
// The platform's internal API (its contract stand-in) is told the same of
// both executions.
func TestFrontDoorResults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service, Python Celery and a worker; skipped with -short")
	}
	for _, b := range testenv.ResultBackends(14) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel() // each backend on a vhost, databases and a worker of its own
			vhost, backend := testenv.AMQPVHost(t), b.Open(t)
			docs, files := frontDoorFiles(t)
			llm, api := testenv.NewLLMServer(t, ""), testenv.StartPlatformAPI(t)
			testenv.StartCeleryWorker(t, testenv.WithCeleryBroker(vhost), testenv.WithCeleryBackend(backend),
				testenv.WithCeleryQueues("celery.legacy", "file_processing", "file_processing_callback"),
				testenv.WithCeleryEnv("FIXTURE_LLM_URL="+llm.BaseURL(), "FIXTURE_OUTPUTS="+frontDoorOutputs,
					"FIXTURE_PLATFORM_API_URL="+api.URL, "FIXTURE_PLATFORM_API_KEY="+api.Key))
			flags := filepath.Join(t.TempDir(), "flags.yaml")
			if err := os.WriteFile(flags, []byte("use_task_abstraction: true\ndeny_orgs: [org_celery]\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			svc := startService(t, buildBinary(t), "DATABASE_URL="+database(t, "hw_test_frontdoor_results_"+b.Name), "CELERY_BROKER_URL="+vhost,
				"CELERY_RESULT_BACKEND="+backend, "FRONT_DOOR=celery:async_execute_bin", "WORKFLOW_SETTINGS_FILE="+frontDoorSettings(t),
				"FEATURE_FLAGS_FILE="+flags, "DOCUMENTS_ROOTS="+docs, "SHIM_TRACK_INTERVAL=200ms",
				"PLATFORM_INTERNAL_API_URL="+api.URL, "PLATFORM_INTERNAL_API_KEY="+api.Key,
				fmt.Sprintf(`LLM_ADAPTERS={"default": {"base_url": %q, "model": "stub"}}`, llm.BaseURL()))

			exCelery, exHatchet := api.CreateExecution("org_celery", "wf-fd"), api.CreateExecution("org_hatchet", "wf-fd")
			goneCelery, goneHatchet := uuid.NewString(), uuid.NewString() // executions the platform does not know
			calls, _ := json.Marshal([]any{
				[]any{[]any{"org_celery", "wf-fd", exCelery, files}, map[string]any{"use_file_history": false}},
				[]any{[]any{"org_hatchet", "wf-fd", exHatchet, files}, map[string]any{"use_file_history": false}},
				[]any{[]any{"org_celery", "wf-fd", goneCelery, files}, map[string]any{"use_file_history": false}},
				[]any{[]any{"org_hatchet", "wf-fd", goneHatchet, files}, map[string]any{"use_file_history": false}},
			})
			ids, results := awaitResults(t, backend, vhost, string(calls))
			for i, want := range []int{0, 1, 0, 1} {
				if n := len(keyed(t, svc, ids[i])); n != want {
					t.Fatalf("%d Hatchet executions keyed by task %d, want %d\n%s", n, i, want, svc.log.String())
				}
			}
			checkRaisedAlike(t, svc, api, results[2:], goneCelery, goneHatchet)
			var celeryOut, hatchetOut struct {
				Value   map[string]any `json:"value"`
				ExcType string         `json:"exc_type"`
				Message string         `json:"message"`
			}
			if err := json.Unmarshal([]byte(results[1]), &hatchetOut); err != nil || hatchetOut.Value["successful_files"] != 3.0 {
				t.Fatalf("the Hatchet side's result %s, want 3 files succeeded (%v)\n%s", results[1], err, svc.log.String())
			}
			if err := json.Unmarshal([]byte(results[0]), &celeryOut); err != nil {
				t.Fatal(err)
			}
			checkIngress(t, svc, ids, b.Name != "rpc")
			if b.Name == "rpc" { // Celery runs no chord on rpc://, so the platform's task cannot succeed there
				if celeryOut.ExcType != "NotImplementedError" || !strings.Contains(celeryOut.Message, "does not support chords") {
					t.Errorf("the Celery side's result %s, want the chord refused", results[0])
				}
				return
			}
			if !reflect.DeepEqual(celeryOut, hatchetOut) {
				t.Errorf("AsyncResult.get() differs:\n celery:  %s\n hatchet: %s", results[0], results[1])
			}
			celerySeen, hatchetSeen := platformSaw(t, api, exCelery), platformSaw(t, api, exHatchet)
			if celerySeen.Status != "COMPLETED" || !reflect.DeepEqual(celerySeen, hatchetSeen) {
				t.Errorf("the platform saw different executions (want both COMPLETED):\n celery:  %+v\n hatchet: %+v", celerySeen, hatchetSeen)
			}
		})
	}
}

// platformSeen is what the platform's internal API saw of one execution,
// without its ids and times.
type platformSeen struct {
	Status                        string
	Attempts                      int
	Total, Successful, Failed     int
	Files                         []string // name, path, hash and final status
	Statuses                      []string // the update_status bodies, in order
	FileCalls, Refused, Increment int
}

// platformSaw reads what api saw of execution id, once its status is final.
func platformSaw(t *testing.T, api *testenv.PlatformAPI, id string) platformSeen {
	t.Helper()
	var e testenv.PlatformExecution
	deadline := time.Now().Add(time.Minute)
	for e, _ = api.Execution(id); e.Status != "COMPLETED" && e.Status != "ERROR" && time.Now().Before(deadline); e, _ = api.Execution(id) {
		time.Sleep(100 * time.Millisecond)
	}
	v := platformSeen{Status: e.Status, Attempts: e.Attempts, Total: deref(e.TotalFiles), Successful: deref(e.SuccessfulFiles),
		Failed: deref(e.FailedFiles), Increment: e.FailedIncrements}
	for _, f := range e.Files {
		v.Files = append(v.Files, fmt.Sprint(f.Name, " ", f.Path, " ", f.Hash, " ", f.Status))
	}
	sort.Strings(v.Files)
	for _, c := range api.Calls() {
		switch {
		case !strings.Contains(c.Path, id) && !strings.Contains(string(c.Body), id):
		case c.Status >= 300:
			v.Refused++
		case strings.HasSuffix(c.Path, "/update_status/"):
			var body map[string]any
			_ = json.Unmarshal(c.Body, &body)
			delete(body, "error_message")
			normal, _ := json.Marshal(body) // keys sorted
			v.Statuses = append(v.Statuses, string(normal))
		}
		if strings.HasPrefix(c.Path, "v1/file-execution/") && strings.HasSuffix(c.Path, "/status/") && fileOf(e, c.Path) {
			v.FileCalls++
		}
	}
	return v
}

// fileOf says whether a file-execution path names one of e's files.
func fileOf(e testenv.PlatformExecution, path string) bool {
	for _, f := range e.Files {
		if strings.Contains(path, f.ID) {
			return true
		}
	}
	return false
}

func deref(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// checkIngress checks the executions of the tasks TestFrontDoorResults
// sent, in pairs kept on Celery and run on Hatchet, the first pair to
// succeed and the second to fail: each listed once with the front door as
// its ingress and the task id as its key, on its backend; with tracked,
// each Celery one is seen to end as its result backend tells.
func checkIngress(t *testing.T, svc *service, ids []string, tracked bool) {
	t.Helper()
	want := map[string]string{ids[0]: "celery", ids[1]: "hatchet", ids[2]: "celery", ids[3]: "hatchet"}
	for _, e := range executions(t, svc) {
		if want[e.IdempotencyKey] != e.Backend || e.Ingress != "front_door" {
			t.Errorf("execution %+v, want one per task on its backend, from the front door", e)
		}
		delete(want, e.IdempotencyKey)
		if e.Backend == "celery" && tracked {
			end := map[string]string{ids[0]: "succeeded", ids[2]: "failed"}[e.IdempotencyKey]
			var st execStatus
			svc.within(t, 30*time.Second, func() bool { st = svc.status(t, e.ID); return st.State == end && st.Ingress == "front_door" },
				func() string {
					return fmt.Sprintf("the Celery execution of task %s is %+v, want %s", e.IdempotencyKey, st, end)
				})
			if e.BackendRef != e.IdempotencyKey {
				t.Errorf("the Celery execution's ref %s, want its task id %s", e.BackendRef, e.IdempotencyKey)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("no execution listed for %v", want)
	}
}

// checkRaisedAlike checks the results of two tasks for executions the
// platform does not know, the first kept on Celery and the second run on
// Hatchet: get() raises the same builtin Exception with the same message
// for both, as the platform's task raises it, and the internal API saw the
// same calls for both (each distinct call once: the platform's task sends
// its ERROR twice).
func checkRaisedAlike(t *testing.T, svc *service, api *testenv.PlatformAPI, results []string, celeryEx, hatchetEx string) {
	t.Helper()
	want := `{"exc_module": "builtins", "exc_type": "Exception", "message": "Failed to get execution context: Client error: 404 Not Found: `
	if results[0] != results[1] || !strings.HasPrefix(results[0], want) {
		t.Errorf("get() of an execution the platform does not know:\n celery:  %s\n hatchet: %s\nwant both to start %s", results[0], results[1], want)
	}
	var celerySaw, hatchetSaw []string
	svc.within(t, 30*time.Second, func() bool {
		celerySaw, hatchetSaw = callsFor(api, celeryEx), callsFor(api, hatchetEx)
		return len(celerySaw) > 1 && reflect.DeepEqual(celerySaw, hatchetSaw)
	}, func() string {
		return fmt.Sprintf("the platform saw different calls of executions it does not know:\n celery:  %q\n hatchet: %q", celerySaw, hatchetSaw)
	})
}

// callsFor is each distinct call api saw of execution id, sorted, with the
// id replaced by ID.
func callsFor(api *testenv.PlatformAPI, id string) []string {
	seen := map[string]bool{}
	for _, c := range api.Calls() {
		if !strings.Contains(c.Path, id) && !strings.Contains(string(c.Body), id) {
			continue
		}
		var body any
		_ = json.Unmarshal(c.Body, &body)
		normal, _ := json.Marshal(body) // keys sorted
		seen[strings.ReplaceAll(fmt.Sprint(c.Method, " ", c.Path, "?", c.Query, " ", c.Status, " ", string(normal)), id, "ID")] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// awaitResults runs await_result.py with calls of async_execute_bin on
// the queue "celery", and returns the task ids and the result lines.
func awaitResults(t *testing.T, backend, vhost, calls string) ([]string, []string) {
	t.Helper()
	dir, err := testenv.CeleryAppDir()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, testenv.CeleryPython, filepath.Join(dir, "await_result.py"), vhost, backend, "celery",
		"async_execute_bin", calls).Output()
	if err != nil {
		t.Fatalf("await_result.py: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	half := len(lines) / 2
	return lines[:half], lines[half:]
}

// TestFrontDoorRevoke revokes, with Python's app.control.revoke, a task the
// front door runs on Hatchet while its run is under way: the run is
// cancelled, and the caller's AsyncResult.get() raises Celery's
// TaskRevokedError.
func TestFrontDoorRevoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service and Python Celery; skipped with -short")
	}
	vhost, backend := testenv.AMQPVHost(t), testenv.CeleryPostgresBackend(t)
	docs, files := frontDoorFiles(t)
	llm := testenv.NewLLMServer(t, "")
	llm.SetDelay(2 * time.Second)
	svc := startService(t, buildBinary(t), "DATABASE_URL="+database(t, "hw_test_frontdoor_revoke"), "CELERY_BROKER_URL="+vhost,
		"CELERY_RESULT_BACKEND="+backend, "FRONT_DOOR=celery:async_execute_bin", "WORKFLOW_SETTINGS_FILE="+frontDoorSettings(t),
		"USE_TASK_ABSTRACTION=true", "DOCUMENTS_ROOTS="+docs, "SHIM_TRACK_INTERVAL=200ms",
		fmt.Sprintf(`LLM_ADAPTERS={"default": {"base_url": %q, "model": "stub"}}`, llm.BaseURL()))
	dir, err := testenv.CeleryAppDir()
	if err != nil {
		t.Fatal(err)
	}
	calls, _ := json.Marshal([]any{[]any{[]any{"org_fd", "wf-fd", "ex-revoke", files}, map[string]any{}}})
	py := exec.CommandContext(t.Context(), testenv.CeleryPython, filepath.Join(dir, "await_result.py"), vhost, backend, "celery",
		"async_execute_bin", string(calls))
	out, err := py.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := py.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = py.Process.Kill(); _ = py.Wait() }()
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatal("await_result.py printed no task id")
	}
	taskID := lines.Text()
	var running execStatus
	svc.within(t, time.Minute, func() bool {
		if ids := keyed(t, svc, taskID); len(ids) == 1 {
			running = svc.status(t, ids[0])
		}
		return running.State == "running"
	}, func() string { return fmt.Sprintf("no running execution keyed %s (last %+v)", taskID, running) })

	if out, err := exec.Command(testenv.CeleryPython, filepath.Join(dir, "revoke.py"), vhost, taskID).CombinedOutput(); err != nil {
		t.Fatalf("revoke.py: %v\n%s", err, out)
	}
	if !lines.Scan() {
		t.Fatalf("await_result.py printed no result\n%s", svc.log.String())
	}
	want := `{"exc_module": "celery.exceptions", "exc_type": "TaskRevokedError", "message": "revoked"}`
	if lines.Text() != want {
		t.Errorf("AsyncResult.get(): %s, want %s", lines.Text(), want)
	}
	if st := svc.status(t, keyed(t, svc, taskID)[0]); st.State != "cancelled" {
		t.Errorf("execution %s after the revoke, want cancelled", st.State)
	}
	if m := `front_door_revokes_total{outcome="cancelled"} 1`; !strings.Contains(svc.text(t, "/metrics"), m) {
		t.Errorf("metrics lack %s", m)
	}
}

// TestFrontDoorForwardsUnchanged publishes, to the platform's queue taken
// by the front door (the flags sending everything to Hatchet), a task with
// no route, an async_execute_bin the front door cannot read (a pickle) and
// one with an eta: each reaches the twin queue byte for byte, body,
// headers and properties.
func TestFrontDoorForwardsUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service; skipped with -short")
	}
	vhost := testenv.AMQPVHost(t)
	docs, files := frontDoorFiles(t)
	startService(t, buildBinary(t), "DATABASE_URL="+database(t, "hw_test_frontdoor_bytes"), "CELERY_BROKER_URL="+vhost,
		"FRONT_DOOR=celery:async_execute_bin", "WORKFLOW_SETTINGS_FILE="+frontDoorSettings(t), "USE_TASK_ABSTRACTION=true",
		"DOCUMENTS_ROOTS="+docs, `LLM_ADAPTERS={"default": {"base_url": "http://127.0.0.1:9/v1", "model": "stub"}}`)
	args, _ := json.Marshal([]any{[]any{"org_fd", "wf-fd", "ex-bytes", files}, map[string]any{}, map[string]any{"callbacks": nil, "errbacks": nil, "chain": nil, "chord": nil}})
	task := func(id, name string, eta any) amqp.Publishing {
		return amqp.Publishing{
			Headers: amqp.Table{"lang": "py", "task": name, "id": id, "eta": eta, "expires": nil, "retries": int32(0), "root_id": id,
				"parent_id": nil, "argsrepr": "(…)", "kwargsrepr": "{}", "origin": "gen1@host", "ignore_result": false},
			ContentType: "application/json", ContentEncoding: "utf-8", DeliveryMode: amqp.Persistent, CorrelationId: id,
			ReplyTo: "caller-reply", Body: args,
		}
	}
	pickled := task("id-pickle", "async_execute_bin", nil)
	pickled.ContentType, pickled.ContentEncoding, pickled.Body = "application/x-python-serialize", "binary", []byte{0x80, 0x04, 0x95, '[', '{'}
	sent := []amqp.Publishing{task("id-unknown", "unknown.task", nil), pickled, task("id-eta", "async_execute_bin", "2099-01-01T00:00:00+00:00")}

	ch := testenv.Channel(t, vhost)
	for _, m := range sent {
		if err := ch.PublishWithContext(t.Context(), "", "celery", false, false, m); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]amqp.Delivery{}
	for range sent {
		d := testenv.TakeMessage(t, ch, "celery.legacy", 30*time.Second)
		got[d.CorrelationId] = d
	}
	for _, m := range sent {
		if !testenv.SameMessage(got[m.CorrelationId], m) {
			t.Errorf("%s reached the twin changed:\n got %+v\nwant %+v", m.CorrelationId, got[m.CorrelationId], m)
		}
	}
}
