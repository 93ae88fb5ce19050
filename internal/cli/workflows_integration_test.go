//go:build integration

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/internal/worker"
	"github.com/unstract/hatchet-worker/workflows"
)

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
	hatchettest.StartWorker(t, conn, "service-with-other-settings", 10, []*hatchet.Workflow{service})
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
