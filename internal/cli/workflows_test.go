package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/internal/worker"
	"github.com/unstract/hatchet-worker/shim/route"
	"github.com/unstract/hatchet-worker/workflows"
)

// noop is a task function for definitions that never run.
func noop(hatchet.Context, struct{}) (struct{}, error) { return struct{}{}, nil }

// def builds a valid two-task workflow a → b named name.
func def(name string) workflows.Definition {
	return workflows.Definition{
		Name: name, Timeout: 10 * time.Minute,
		Tasks: []workflows.Task{
			{Name: "a", Timeout: time.Minute, Fn: noop},
			{Name: "b", Parents: []string{"a"}, Timeout: time.Minute, Fn: noop},
		},
	}
}

func TestValidateCatchesEachClass(t *testing.T) {
	tests := []struct {
		name string
		defs func() []workflows.Definition
		want string // in the output; "" means clean
	}{
		{"clean", func() []workflows.Definition { return []workflows.Definition{def("w1"), def("w2")} }, ""},
		{"cycle", func() []workflows.Definition {
			d := def("w1")
			d.Tasks[0].Parents = []string{"b"}
			return []workflows.Definition{d}
		}, `workflow "w1": cycle: tasks form a cycle`},
		{"missing parent", func() []workflows.Definition {
			d := def("w1")
			d.Tasks[1].Parents = []string{"nope"}
			return []workflows.Definition{d}
		}, `missing parent: task "b": parent "nope"`},
		{"foreign parent", func() []workflows.Definition {
			other := def("w2")
			other.Tasks = append(other.Tasks, workflows.Task{Name: "only-in-w2", Timeout: time.Minute, Fn: noop})
			d := def("w1")
			d.Tasks[1].Parents = []string{"only-in-w2"}
			return []workflows.Definition{d, other}
		}, `workflow "w1": missing parent: task "b": parent "only-in-w2"`},
		{"duplicate task", func() []workflows.Definition {
			d := def("w1")
			d.Tasks = append(d.Tasks, workflows.Task{Name: "a", Timeout: time.Minute, Fn: noop})
			return []workflows.Definition{d}
		}, `duplicate task: task "a" declared twice`},
		{"task timeout longer than workflow's", func() []workflows.Definition {
			d := def("w1")
			d.Tasks[0].Timeout = time.Hour
			return []workflows.Definition{d}
		}, `timeout: task "a": timeout 1h0m0s is longer than the workflow's 10m0s`},
		{"path longer than workflow's", func() []workflows.Definition {
			d := def("w1")
			d.Tasks[0].Timeout, d.Tasks[1].Timeout = 6*time.Minute, 6*time.Minute
			return []workflows.Definition{d}
		}, "longest task path"},
		{"empty workflow name", func() []workflows.Definition { return []workflows.Definition{def("")} }, "empty name: workflow has no name"},
		{"empty task name", func() []workflows.Definition {
			d := def("w1")
			d.Tasks = append(d.Tasks, workflows.Task{Timeout: time.Minute, Fn: noop})
			return []workflows.Definition{d}
		}, "empty name: a task has no name"},
		{"duplicate workflow", func() []workflows.Definition { return []workflows.Definition{def("w1"), def("w1")} }, `workflow "w1": duplicate workflow`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := validate(tt.defs(), &out)
			if tt.want == "" {
				if code != ExitOK || out.String() != "ok: 2 workflows valid\n" {
					t.Fatalf("code %d, output %q", code, out.String())
				}
				return
			}
			if code != ExitFailed || !strings.Contains(out.String(), tt.want) {
				t.Fatalf("code %d, output %q; want exit 1 and %q", code, out.String(), tt.want)
			}
		})
	}
}

func TestValidateRegistry(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Workflows(context.Background(), []string{"validate"}, &stdout, &stderr, noEnv); code != ExitOK {
		t.Fatalf("code %d: %s%s", code, stdout.String(), stderr.String())
	}
	want := "ok: " + strconv.Itoa(len(registry())) + " workflows valid\n"
	if stdout.String() != want {
		t.Errorf("stdout = %q, want %q", stdout.String(), want)
	}
}

func registry() []workflows.Definition {
	return workflows.Registry(workflows.Deps{Log: slog.New(slog.DiscardHandler)})
}

func noEnv(string) string { return "" }

func TestListText(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Workflows(context.Background(), []string{"list"}, &stdout, &stderr, noEnv); code != ExitOK {
		t.Fatalf("code %d: %s", code, stderr.String())
	}
	lines := strings.Split(stdout.String(), "\n")
	for _, d := range registry() {
		legacy := "-"
		if d.Route != nil && d.Route.Legacy != nil {
			legacy = d.Route.Legacy.Queue + ":" + d.Route.Legacy.Task
		}
		if !hasLine(lines, d.Name, d.Timeout.String(), legacy, d.Description) {
			t.Errorf("no workflow line for %s:\n%s", d.Name, stdout.String())
		}
		for _, task := range d.Tasks {
			parents := strings.Join(task.Parents, ",")
			if parents == "" {
				parents = "-"
			}
			slots := "default"
			if task.Durable {
				slots = "durable"
			}
			if !hasLine(lines, d.Name, task.Name, parents, task.Timeout.String(), strconv.Itoa(task.Retries), slots) {
				t.Errorf("no task line for %s/%s:\n%s", d.Name, task.Name, stdout.String())
			}
		}
	}
}

// hasLine reports whether one line holds every field, as whole words.
func hasLine(lines []string, fields ...string) bool {
	for _, l := range lines {
		words := " " + strings.Join(strings.Fields(l), " ") + " "
		ok := true
		for _, f := range fields {
			ok = ok && strings.Contains(words, " "+f+" ")
		}
		if ok {
			return true
		}
	}
	return false
}

func TestListJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Workflows(context.Background(), []string{"list", "--json"}, &stdout, &stderr, noEnv); code != ExitOK {
		t.Fatalf("code %d: %s", code, stderr.String())
	}
	var got []workflowView
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout.String())
	}
	defs := registry()
	if len(got) != len(defs) {
		t.Fatalf("%d workflows, want %d", len(got), len(defs))
	}
	for i, d := range defs {
		g := got[i]
		var legacy *route.LegacyTask
		if d.Route != nil {
			legacy = d.Route.Legacy
		}
		if (g.Legacy == nil) != (legacy == nil) || (legacy != nil && (g.Legacy.Task != legacy.Task || g.Legacy.Queue != legacy.Queue)) {
			t.Errorf("workflow %s legacy = %+v, want %+v", d.Name, g.Legacy, legacy)
		}
		if g.Name != d.Name || g.Description != d.Description || g.TimeoutSeconds != d.Timeout.Seconds() || len(g.Tasks) != len(d.Tasks) {
			t.Errorf("workflow %d = %+v, want %s", i, g, d.Name)
			continue
		}
		for j, task := range d.Tasks {
			gt := g.Tasks[j]
			if gt.Name != task.Name || gt.Retries != task.Retries || gt.Durable != task.Durable || gt.Timeout != task.Timeout.String() || strings.Join(gt.Parents, ",") != strings.Join(task.Parents, ",") {
				t.Errorf("%s task %d = %+v, want %+v", d.Name, j, gt, task)
			}
		}
	}
	if !strings.Contains(stdout.String(), `"parents": []`) || !strings.Contains(stdout.String(), `"triggers": []`) {
		t.Errorf("empty lists should be [], not null:\n%s", stdout.String())
	}
}

// TestWorkflowsUsage covers the arguments rejected before any engine starts.
func TestWorkflowsUsage(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.json")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", nil, "usage:"},
		{"unknown subcommand", []string{"frobnicate"}, `unknown subcommand "frobnicate"`},
		{"list extra argument", []string{"list", "x"}, "unexpected arguments"},
		{"list unknown flag", []string{"list", "--yaml"}, "flag provided but not defined"},
		{"validate extra argument", []string{"validate", "x"}, "unexpected arguments"},
		{"register extra argument", []string{"register", "x"}, "unexpected arguments"},
		{"test without workflow", []string{"test"}, "--workflow is required"},
		{"test unknown workflow", []string{"test", "--workflow", "nope"}, `unknown workflow "nope" (known: document-processing-v2, `},
		{"test bad JSON", []string{"test", "--workflow", workflows.ConnectorValidationName, "--input", "{nope"}, "--input must be a JSON object"},
		{"test JSON array", []string{"test", "--workflow", workflows.ConnectorValidationName, "--input", "[1]"}, "--input must be a JSON object"},
		{"test JSON null", []string{"test", "--workflow", workflows.ConnectorValidationName, "--input", "null"}, "not null"},
		{"test trailing data", []string{"test", "--workflow", workflows.ConnectorValidationName, "--input", "{} {}"}, "trailing data"},
		{"test missing input file", []string{"test", "--workflow", workflows.ConnectorValidationName, "--input", "@" + missing}, "no such file"},
		{"test negative timeout", []string{"test", "--workflow", workflows.ConnectorValidationName, "--timeout", "-1s"}, "--timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Workflows(context.Background(), tt.args, &stdout, &stderr, noEnv)
			if code != ExitUsage || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("code %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
			}
			if strings.Contains(stderr.String(), "embedded engine") {
				t.Errorf("started an engine for a usage error: %s", stderr.String())
			}
		})
	}
}

func TestInputFromFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "in.json")
	if err := os.WriteFile(file, []byte(`{"organization_id": "o"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ta, err := parseTest([]string{"--workflow", workflows.ConnectorValidationName, "--input", "@" + file}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	d, timeout, err := checkTest(registry(), ta)
	if err != nil || string(ta.input) != `{"organization_id": "o"}` || timeout != d.Timeout+queueAllowance {
		t.Fatalf("input %s, timeout %s, err %v", ta.input, timeout, err)
	}
}

func TestEnvironFromGetenv(t *testing.T) {
	env := map[string]string{"HATCHET_CLIENT_TOKEN": "tok", "LOG_LEVEL": "debug", "HOME": "/h", "UNRELATED": "x"}
	got := environ(func(k string) string { return env[k] })
	want := map[string]bool{"HATCHET_CLIENT_TOKEN=tok": true, "LOG_LEVEL=debug": true, "HOME=/h": true}
	if len(got) != len(want) {
		t.Fatalf("environ = %q", got)
	}
	for _, kv := range got {
		if !want[kv] {
			t.Errorf("unexpected %q in %q", kv, got)
		}
	}
}

// TestEmbeddedPortsBusy checks the hint pointing at a running service's
// engine when the embedded engine's port is taken.
func TestEmbeddedPortsBusy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	env := map[string]string{
		"DATABASE_URL":                hatchettest.DatabaseURL(t, "hw_test_cli_busy"),
		"HATCHET_EMBEDDED_GRPC_PORT":  strconv.Itoa(ln.Addr().(*net.TCPAddr).Port),
		"HATCHET_EMBEDDED_TOKEN_FILE": filepath.Join(t.TempDir(), "token"),
	}
	var stdout, stderr bytes.Buffer
	code := Workflows(context.Background(), []string{"register"}, &stdout, &stderr, func(k string) string { return env[k] })
	if code != ExitUsage || !strings.Contains(stderr.String(), "is not free") ||
		!strings.Contains(stderr.String(), "HATCHET_CLIENT_TOKEN=$(cat "+env["HATCHET_EMBEDDED_TOKEN_FILE"]+")") {
		t.Fatalf("code %d, stderr:\n%s", code, stderr.String())
	}
}

// TestUnreachableEngineNamed runs the commands that need the engine against
// a token whose engine refuses connections: each names the address and the
// reason within 10 s and exits 2.
func TestUnreachableEngineNamed(t *testing.T) {
	addr := testenv.FreeAddr(t)
	env := map[string]string{"HATCHET_CLIENT_TOKEN": testenv.FakeHatchetToken(addr), "HATCHET_CLIENT_TLS_STRATEGY": "none", "CELERY_ENABLED": "false"}
	for _, args := range [][]string{{"register"}, {"test", "--workflow", "connector-validation", "--input", "{}"}} {
		t.Run(args[0], func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			began := time.Now()
			code := Workflows(context.Background(), args, &stdout, &stderr, func(k string) string { return env[k] })
			if took := time.Since(began); took > 10*time.Second {
				t.Errorf("took %v, want under 10 s", took)
			}
			if code != ExitUsage || !strings.Contains(stderr.String(), addr) || !strings.Contains(stderr.String(), "connection refused") {
				t.Fatalf("code %d, stderr:\n%s\nwant 2 naming %s and the refusal", code, stderr.String(), addr)
			}
		})
	}
}

// testIO returns streams for a command and fresh metrics.
func testIO() (cmdIO, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	return cmdIO{stdout: &stdout, stderr: &stderr, log: slog.Default(), metrics: worker.NewMetrics(prometheus.NewRegistry())}, &stdout, &stderr
}

const postgresInput = `{"organization_id":"o","settings":{"type":"postgres","host":"127.0.0.1","port":5432,"user":"postgres","database":"postgres"}}`

var (
	runIDPattern = regexp.MustCompile(`run ([0-9a-f-]{36}) of`)
	finalRunLine = regexp.MustCompile(`(?m)^run ([A-Z]+ → )?COMPLETED \([0-9.]+s\)$`)
)

// connectorValidationAs is the connector check under another name, so each
// case below registers a workflow of its own.
func connectorValidationAs(name string) workflows.Definition {
	d := workflows.ConnectorValidation(workflows.Deps{Log: slog.Default()})
	d.Name = name
	return d
}

func TestRunTestConnectorValidation(t *testing.T) {
	client := hatchettest.Engine(t).Client
	ctx := context.Background()

	t.Run("completed", func(t *testing.T) {
		c, stdout, stderr := testIO()
		defs := []workflows.Definition{connectorValidationAs("cli-connector-ok")}
		code := runTest(ctx, client, defs, testArgs{workflow: "cli-connector-ok", input: json.RawMessage(postgresInput)}, c)
		if code != ExitOK {
			t.Fatalf("code %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
		if !strings.Contains(stdout.String(), `"ok":true`) || !json.Valid(stdout.Bytes()) {
			t.Errorf("stdout = %s", stdout)
		}
		// A fast run may already be COMPLETED at the first poll, so the
		// run's line has no earlier state to show.
		if !finalRunLine.MatchString(stderr.String()) || !strings.Contains(stderr.String(), "task validate-connection: COMPLETED") {
			t.Errorf("stderr shows no progress:\n%s", stderr)
		}
		m := runIDPattern.FindStringSubmatch(stderr.String())
		if m == nil {
			t.Fatalf("no run id on stderr:\n%s", stderr)
		}
		d, err := client.Runs().Get(ctx, m[1])
		if err != nil {
			t.Fatal(err)
		}
		if md := d.Run.AdditionalMetadata; md == nil || (*md)["source"] != "cli" {
			t.Errorf("run metadata = %v, want source=cli", md)
		}
		if n := testutil.CollectAndCount(c.metrics.RunDuration, "hatchet_worker_workflow_run_duration_seconds"); n != 1 {
			t.Errorf("%d run duration series, want 1", n)
		}
	})
	t.Run("failed", func(t *testing.T) {
		c, stdout, stderr := testIO()
		in := `{"organization_id":"o","settings":{"type":"oracle","host":"db"}}`
		defs := []workflows.Definition{connectorValidationAs("cli-connector-invalid")}
		code := runTest(ctx, client, defs, testArgs{workflow: "cli-connector-invalid", input: json.RawMessage(in)}, c)
		if code != ExitFailed || !strings.Contains(stderr.String(), "FAILED") || !strings.Contains(stderr.String(), "invalid connector settings") {
			t.Fatalf("code %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
		if stdout.Len() != 0 {
			t.Errorf("stdout = %q, want nothing on failure", stdout)
		}
	})
	defs := []workflows.Definition{connectorValidationAs(workflows.ConnectorValidationName)}
	t.Run("unknown workflow", func(t *testing.T) {
		c, _, stderr := testIO()
		if code := runTest(ctx, client, defs, testArgs{workflow: "nope", input: json.RawMessage(`{}`)}, c); code != ExitUsage {
			t.Fatalf("code %d: %s", code, stderr)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		c, _, stderr := testIO()
		if code := runTest(ctx, client, defs, testArgs{workflow: workflows.ConnectorValidationName, input: json.RawMessage(`{"settings":`)}, c); code != ExitUsage {
			t.Fatalf("code %d: %s", code, stderr)
		}
	})
}

// TestRunTestUsesItsOwnWorker runs `workflows test` five times while a
// service worker, built with other settings, serves the same workflow on the
// engine: every run is executed by the command's own worker, with the same
// result.
func TestRunTestUsesItsOwnWorker(t *testing.T) {
	conn := hatchettest.Engine(t)
	pinned := func(by string, err error) workflows.Definition {
		return workflows.Definition{Name: "cli-test-pinned", Timeout: time.Minute, Tasks: []workflows.Task{{
			Name: "answer", Timeout: 30 * time.Second,
			Fn: func(hatchet.Context, struct{}) (map[string]string, error) { return map[string]string{"by": by}, err },
		}}}
	}
	service, err := pinned("service", errors.New("the service worker took the CLI's run")).Build(conn.Client)
	if err != nil {
		t.Fatal(err)
	}
	hatchettest.StartWorker(t, conn.Client, "service-with-other-settings", 10, []*hatchet.Workflow{service})
	cli := pinned("cli", nil)
	for i := range 5 {
		c, stdout, stderr := testIO()
		code := runTest(context.Background(), conn.Client, []workflows.Definition{cli}, testArgs{workflow: cli.Name, input: json.RawMessage(`{}`)}, c)
		if code != ExitOK || strings.TrimSpace(stdout.String()) != `{"answer":{"by":"cli"}}` && strings.TrimSpace(stdout.String()) != `{"by":"cli"}` {
			t.Fatalf("run %d: code %d\nstdout: %s\nstderr: %s", i+1, code, stdout, stderr)
		}
	}
}

// TestRunTestTimeout runs a task that outlasts --timeout: exit 3, and the
// run is cancelled rather than left on the engine.
func TestRunTestTimeout(t *testing.T) {
	client := hatchettest.Engine(t).Client
	slow := workflows.Definition{
		Name: "cli-test-slow", Timeout: 5 * time.Minute,
		Tasks: []workflows.Task{{Name: "wait", Timeout: 2 * time.Minute, Fn: func(ctx hatchet.Context, _ struct{}) (struct{}, error) {
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Minute):
			}
			return struct{}{}, nil
		}}},
	}
	c, stdout, stderr := testIO()
	code := runTest(context.Background(), client, []workflows.Definition{slow}, testArgs{workflow: slow.Name, input: json.RawMessage(`{}`), timeout: 3 * time.Second}, c)
	if code != ExitTimeout || !strings.Contains(stderr.String(), "timed out after") || !strings.Contains(stderr.String(), "cancelled run") {
		t.Fatalf("code %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if n := testutil.CollectAndCount(c.metrics.RunDuration); n != 1 {
		t.Errorf("%d run duration series, want 1 (timeout)", n)
	}
}

func TestRegister(t *testing.T) {
	client := hatchettest.Engine(t).Client
	ctx := context.Background()
	t.Run("all", func(t *testing.T) {
		c, stdout, stderr := testIO()
		defs := registry()
		if code := register(ctx, client, defs, false, c); code != ExitOK {
			t.Fatalf("code %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
		for _, d := range defs {
			if !strings.Contains(stdout.String(), d.Name+": ok\n") {
				t.Errorf("no ok line for %s:\n%s", d.Name, stdout)
			}
			if got := testutil.ToFloat64(c.metrics.Registrations.WithLabelValues(d.Name, "ok")); got != 1 {
				t.Errorf("%s: registrations{result=ok} = %v, want 1", d.Name, got)
			}
			if _, err := client.Workflows().Get(ctx, d.Name); err != nil {
				t.Errorf("%s not on the engine: %v", d.Name, err)
			}
		}
	})
	broken := def("cli-broken")
	broken.Tasks[0].Parents = []string{"b"}
	defs := []workflows.Definition{def("cli-first"), broken, def("cli-last")}
	t.Run("keeps going", func(t *testing.T) {
		c, stdout, stderr := testIO()
		if code := register(ctx, client, defs, false, c); code != ExitFailed {
			t.Fatalf("code %d", code)
		}
		out := stdout.String()
		if !strings.Contains(out, "cli-first: ok\n") || !strings.Contains(out, "cli-broken: FAILED: ") || !strings.Contains(out, "cli-last: ok\n") {
			t.Errorf("stdout:\n%s", out)
		}
		if !strings.Contains(stderr.String(), "registered 2 of 3 workflows") {
			t.Errorf("stderr: %s", stderr)
		}
		if got := testutil.ToFloat64(c.metrics.Registrations.WithLabelValues("cli-broken", "error")); got != 1 {
			t.Errorf("registrations{result=error} = %v, want 1", got)
		}
	})
	t.Run("fail fast", func(t *testing.T) {
		c, stdout, stderr := testIO()
		if code := register(ctx, client, defs, true, c); code != ExitFailed {
			t.Fatalf("code %d", code)
		}
		if strings.Contains(stdout.String(), "cli-last") || !strings.Contains(stderr.String(), "1 skipped") {
			t.Errorf("stdout:\n%s\nstderr: %s", stdout, stderr)
		}
	})
}

// TestWorkflowsAgainstEngine runs register and test the way the binary does:
// configuration from the environment, here joining the shared test engine
// with its token as an operator joins a running service's engine.
func TestWorkflowsAgainstEngine(t *testing.T) {
	conn := hatchettest.Engine(t)
	env := map[string]string{
		"HATCHET_CLIENT_TOKEN":        conn.Embedded.Token,
		"HATCHET_CLIENT_TLS_STRATEGY": "none",
		"CELERY_ENABLED":              "false",
		"PLATFORM_DATABASE_URL":       hatchettest.DatabaseURL(t, "hw_test_cli_platform"),
		"HOME":                        t.TempDir(),
	}
	getenv := func(k string) string { return env[k] }
	m := worker.NewMetrics(prometheus.NewRegistry())
	ctx := context.Background()

	var stdout, stderr bytes.Buffer
	if code := Workflows(ctx, []string{"register"}, &stdout, &stderr, getenv, WithMetrics(m)); code != ExitOK {
		t.Fatalf("register: code %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	if got := testutil.ToFloat64(m.Registrations.WithLabelValues(workflows.ConnectorValidationName, "ok")); got != 1 {
		t.Errorf("registrations = %v", got)
	}
	stdout.Reset()
	stderr.Reset()
	args := []string{"test", "--workflow", workflows.ConnectorValidationName, "--input", postgresInput, "--timeout", "2m"}
	if code := Workflows(ctx, args, &stdout, &stderr, getenv, WithMetrics(m)); code != ExitOK {
		t.Fatalf("test: code %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), `"ok":true`) {
		t.Errorf("stdout = %s", stdout.String())
	}
}
