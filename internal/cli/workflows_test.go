package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/testenv"
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
