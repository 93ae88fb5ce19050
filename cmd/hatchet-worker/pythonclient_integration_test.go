//go:build integration

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/workflows"
)

// pythonCeleryOrg is the organisation the flags of TestPythonClient keep
// on Celery; they send every other one to Hatchet.
const pythonCeleryOrg = "org_py_celery"

// pythonTestsTimeout bounds one run of the Python client's tests.
const pythonTestsTimeout = 6 * time.Minute

// TestPythonClient runs the Python client's tests (clients/python/tests)
// against the service with both backends working, as the platform's
// Django code would call it:
//   - source: Debian's /usr/bin/python3 with the package's source on
//     PYTHONPATH;
//   - venv: the package installed offline (pip --no-index
//     --no-build-isolation) into a virtual environment made with Debian's
//     python3 -m venv, and the tests run by that environment's python.
//
// A test the Python suite skips (its service variables unset) fails this one.
func TestPythonClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service, a Celery worker and the Python client's tests; skipped with -short")
	}
	t.Parallel() // on a service, vhost and databases of its own
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	env := pythonClientService(t)
	t.Run("source", func(t *testing.T) {
		runPython(t, root, append(env, "PYTHONPATH="+filepath.Join(root, "clients", "python", "src")),
			testenv.CeleryPython, pythonTestArgs...)
	})
	t.Run("venv", func(t *testing.T) {
		venv := filepath.Join(t.TempDir(), "venv")
		runPython(t, root, nil, testenv.CeleryPython, "-m", "venv", venv)
		runPython(t, root, nil, filepath.Join(venv, "bin", "pip"), "install", "--no-index", "--no-build-isolation", "./clients/python")
		python := filepath.Join(venv, "bin", "python")
		where := runPython(t, t.TempDir(), nil, python, "-c", "import hatchet_worker_client as c; print(c.__file__)")
		if !strings.HasPrefix(where, venv) {
			t.Fatalf("the venv imports the client from %s, not from its own site-packages", where)
		}
		runPython(t, root, env, python, pythonTestArgs...)
	})
}

// pythonTestArgs runs the client's tests, one line each, from the
// repository's root.
var pythonTestArgs = []string{"-m", "unittest", "discover", "-v", "-s", "clients/python/tests"}

// pythonClientService starts the service the Python tests need: both
// backends (a fixture Celery worker on file_processing, in a vhost of the
// test's own), flags that send pythonCeleryOrg to Celery, the others to
// Hatchet and honour use_abstraction, an LLM stub, a document both backends
// read, and a listener that never answers (for executions that run until
// cancelled). The queue of workflow-execution's legacy task exists with no
// worker on it, so such executions sent to Celery are accepted and stay
// queued; no queue of api-deployment-execution's exists, so those are
// refused 503. It returns the Python tests' environment (see
// clients/python/tests/service.py).
func pythonClientService(t *testing.T) []string {
	t.Helper()
	vhost, llm := testenv.AMQPVHost(t), testenv.NewLLMServer(t, "")
	docs := t.TempDir()
	doc := filepath.Join(docs, "invoice.txt")
	flags := filepath.Join(t.TempDir(), "flags.yaml")
	for path, text := range map[string]string{
		doc:   "Invoice INV-27\nTotal 27.00 EUR\n",
		flags: "use_task_abstraction: true\nallow_request_override: true\ndeny_orgs: [" + pythonCeleryOrg + "]\n",
	} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	testenv.StartCeleryWorker(t, testenv.WithCeleryBroker(vhost), testenv.WithCeleryQueues(workflows.QueueFileProcessing),
		testenv.WithCeleryEnv("FIXTURE_LLM_URL="+llm.BaseURL(), "FIXTURE_OUTPUTS="+frontDoorOutputs))
	if _, err := testenv.Channel(t, vhost).QueueDeclare(workflows.QueueCelery, true, false, false, false, nil); err != nil {
		t.Fatalf("declare %s: %v", workflows.QueueCelery, err)
	}
	const maxBody = "1048576"
	svc := startService(t, buildBinary(t), "DATABASE_URL="+database(t, "hw_test_pyclient"), "CELERY_BROKER_URL="+vhost,
		"FEATURE_FLAGS_FILE="+flags, "DOCUMENTS_ROOTS="+docs,
		fmt.Sprintf(`LLM_ADAPTERS={"default": {"base_url": %q, "model": "stub"}}`, llm.BaseURL()),
		"SHIM_MAX_BODY_BYTES="+maxBody, "SHIM_TRACK_INTERVAL=200ms")
	return []string{"SHIM_URL=http://" + svc.addr, "SHIM_API_TOKEN=" + shimToken, "SHIM_TEST_DOCUMENT=" + doc,
		"SHIM_TEST_CELERY_ORG=" + pythonCeleryOrg, fmt.Sprintf("SHIM_TEST_SILENT_ADDR=127.0.0.1:%d", testenv.SilentPort(t)),
		"SHIM_TEST_PARKED_WORKFLOW=" + workflows.WorkflowExecutionName,
		"SHIM_TEST_UNROUTED_WORKFLOW=" + workflows.APIDeploymentExecutionName, "SHIM_TEST_MAX_BODY_BYTES=" + maxBody}
}

// runPython runs prog with args in dir, its environment this process's
// without Python's and pip's own settings, plus env; it fails the test
// with the output when prog fails, or when a test was skipped. It returns
// the output, trimmed.
func runPython(t *testing.T, dir string, env []string, prog string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), pythonTestsTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTHON") && !strings.HasPrefix(kv, "PIP_") && !strings.HasPrefix(kv, "VIRTUAL_ENV=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// No bytecode in the checkout; pip offline, with no cache, config or
	// index of the machine's.
	cmd.Env = append(cmd.Env, "PYTHONDONTWRITEBYTECODE=1", "PIP_CONFIG_FILE="+os.DevNull, "PIP_NO_CACHE_DIR=1",
		"PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_ROOT_USER_ACTION=ignore")
	cmd.Env = append(cmd.Env, env...)
	began := time.Now()
	out, err := cmd.CombinedOutput()
	name := filepath.Base(prog) + " " + strings.Join(args, " ")
	if err != nil {
		t.Fatalf("%s: %v after %v\n%s", name, err, time.Since(began).Round(time.Millisecond), out)
	}
	if bytes.Contains(out, []byte("skipped")) {
		t.Fatalf("%s skipped tests: is the service's environment complete?\n%s", name, out)
	}
	t.Logf("%s: %v\n%s", name, time.Since(began).Round(time.Millisecond), tail(string(out), 400))
	return strings.TrimSpace(string(out))
}
