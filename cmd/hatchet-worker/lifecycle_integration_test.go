//go:build integration

package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/helpers/connector"
	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/internal/engine"
	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/workflows"
)

// TestServiceLifecycle runs the real binary with its embedded engine: ready,
// a workflow run through the SDK, SIGTERM → exit 0, restart on the same
// database, and the earlier run still readable with the same token.
func TestServiceLifecycle(t *testing.T) {
	bin := buildBinary(t)
	dbURL := database(t, "hw_test_lifecycle")
	pg := postgresSettings(t)
	t.Setenv("HATCHET_CLIENT_TLS_STRATEGY", "none")

	// Fixed engine ports, as in production, so the token stays valid.
	ports := []string{"DATABASE_URL=" + dbURL, "HATCHET_EMBEDDED_GRPC_PORT=" + freePort(t), "HATCHET_EMBEDDED_API_PORT=" + freePort(t)}
	svc := startService(t, bin, ports...)
	if code, body := svc.get(t, "/readyz"); code != 200 {
		t.Fatalf("/readyz = %d %v", code, body)
	}
	token := svc.token(t)
	client := newClient(t, token)

	res, err := client.Run(context.Background(), workflows.ConnectorValidationName,
		workflows.ConnectorValidationInput{OrganizationID: "org-lifecycle", ConnectorID: "pg-1", Settings: pg})
	if err != nil {
		t.Fatalf("run connector-validation: %v", err)
	}
	var out workflows.ConnectorValidationOutput
	if err := res.TaskOutput("validate-connection").Into(&out); err != nil {
		t.Fatal(err)
	}
	if !out.OK || out.ServerVersion == "" || out.ConnectorID != "pg-1" {
		t.Fatalf("output = %+v, want ok with a server version", out)
	}
	runID := res.RunId
	metrics := svc.text(t, "/metrics")
	for _, want := range []string{
		`hatchet_worker_task_duration_seconds_count{action="connector-validation:validate-connection",result="ok"} 1`,
		`hatchet_worker_workflow_registrations_total{result="ok",workflow="connector-validation"} 1`,
		"celerybridge_reconnects_total 0",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	if code := svc.stop(t); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0\n%s", code, svc.log.String())
	}
	checkQuietLog(t, svc.log.String())

	svc2 := startService(t, bin, ports...)
	if svc2.token(t) != token {
		t.Error("the restarted engine minted a new token; want the stored one reused")
	}
	old := newClient(t, token)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	details, err := old.Runs().Get(ctx, runID)
	if err != nil {
		t.Fatalf("read pre-restart run with the pre-restart token: %v", err)
	}
	if details.Run.Status != rest.V1TaskStatusCOMPLETED {
		t.Errorf("pre-restart run status = %s, want COMPLETED", details.Run.Status)
	}
	if code := svc2.stop(t); code != 0 {
		t.Fatalf("second exit code = %d", code)
	}
}

// checkQuietLog fails the test for a log line that is not one of the
// service's JSON records (a raw print of the engine or a library), or that
// has level WARN or ERROR: a clean start and stop has no real problem to
// report. A late heartbeat (lateHeartbeat) is the machine's, not the
// service's: it is logged and passes.
func checkQuietLog(t *testing.T, log string) {
	t.Helper()
	for line := range strings.Lines(log) {
		var rec logRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Level == "" {
			t.Errorf("raw line in the service log: %q", line)
			continue
		}
		level := strings.ToUpper(rec.Level)
		switch {
		case level != "ERROR" && level != "WARN":
		case rec.lateHeartbeat():
			t.Logf("the machine held up a worker heartbeat (not a failure): %s", line)
		default:
			t.Errorf("%s in the log of a clean start and stop: %s", level, line)
		}
	}
}

// logRecord is what checkQuietLog reads of a service log line.
type logRecord struct {
	Level, Msg     string
	ActualInterval int64 `json:"actual_interval"` // ms, in the SDK's heartbeat note
}

// lateHeartbeat reports the SDK's note that a worker heartbeat went out
// late (pkg/client/action_listener.go: each heartbeat waits for the engine's
// UPDATE of the worker row), by less than the 30 s after which the engine
// takes the worker's tasks away (ListTasksToReassign). The note is the SDK's
// measure of a busy machine (10.6 s seen in CI, with the shared PostgreSQL
// slow to commit), and stays a WARN for operators.
func (r logRecord) lateHeartbeat() bool {
	late := time.Duration(r.ActualInterval) * time.Millisecond
	return strings.HasPrefix(r.Msg, "worker heartbeat interval delay") && late > 0 && late < 30*time.Second
}

func TestLateHeartbeat(t *testing.T) {
	tests := []struct {
		name string
		line string
		want bool
	}{
		{"seen in CI", `{"level":"WARN","msg":"worker heartbeat interval delay, possible CPU resource contention","actual_interval":10560,"expected_interval":5000}`, true},
		{"tasks taken away", `{"level":"WARN","msg":"worker heartbeat interval delay, possible CPU resource contention","actual_interval":31000}`, false},
		{"another warning", `{"level":"WARN","msg":"could not update worker heartbeat","actual_interval":10560}`, false},
		{"no interval", `{"level":"WARN","msg":"worker heartbeat interval delay"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec logRecord
			if err := json.Unmarshal([]byte(tt.line), &rec); err != nil {
				t.Fatal(err)
			}
			if got := rec.lateHeartbeat(); got != tt.want {
				t.Errorf("lateHeartbeat = %v, want %v", got, tt.want)
			}
		})
	}
}

// startSlowTask starts a connector-validation run that takes timeoutMS
// and returns once it runs.
func startSlowTask(t *testing.T, client *hatchet.Client, timeoutMS int64) string {
	t.Helper()
	ref, err := client.RunNoWait(context.Background(), workflows.ConnectorValidationName, workflows.ConnectorValidationInput{
		OrganizationID: "org-drain",
		Settings:       connector.Settings{Type: connector.TypeRedis, Host: "127.0.0.1", Port: testenv.SilentPort(t), TimeoutMS: timeoutMS},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitRunning(t, client, ref.RunId)
	return ref.RunId
}

// TestSIGTERMDrainsRunningTask stops the service while a task runs: /readyz
// reads stopping while it drains, the task finishes, its run completes, and
// the process exits 0.
func TestSIGTERMDrainsRunningTask(t *testing.T) {
	bin := buildBinary(t)
	dbURL := database(t, "hw_test_drain")
	t.Setenv("HATCHET_CLIENT_TLS_STRATEGY", "none")

	svc := startService(t, bin, "DATABASE_URL="+dbURL)
	client := newClient(t, svc.token(t))
	runID := startSlowTask(t, client, 4000)
	if err := svc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	svc.waitCheck(t, "service", "stopping")
	if code := svc.stop(t); code != 0 {
		t.Fatalf("exit code = %d, want 0\n%s", code, svc.log.String())
	}
	// The run finished during the drain; read it through a restarted service.
	svc2 := startService(t, bin, "DATABASE_URL="+dbURL)
	details, err := newClient(t, svc2.token(t)).Runs().Get(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	if details.Run.Status != rest.V1TaskStatusCOMPLETED {
		t.Fatalf("drained run status = %s, want COMPLETED", details.Run.Status)
	}
	svc2.stop(t)
}

// TestDrainTimeoutExits1 stops the service while a task runs longer than
// SHUTDOWN_TIMEOUT: the service stops waiting at the timeout, says so, and
// exits 1 (as the README says).
func TestDrainTimeoutExits1(t *testing.T) {
	t.Setenv("HATCHET_CLIENT_TLS_STRATEGY", "none")
	svc := startService(t, buildBinary(t), "DATABASE_URL="+database(t, "hw_test_drain_timeout"), "SHUTDOWN_TIMEOUT=1s")
	startSlowTask(t, newClient(t, svc.token(t)), 30000)
	began := time.Now()
	if code := svc.stop(t); code != 1 {
		t.Fatalf("exit code = %d, want 1\n%s", code, svc.log.String())
	}
	if took := time.Since(began); took > 20*time.Second {
		t.Errorf("stopping took %v with SHUTDOWN_TIMEOUT=1s", took)
	}
	if line := svc.logLine("drain 1 tasks"); !strings.Contains(line, "service stopped") {
		t.Errorf("no \"service stopped\" line names the drain timeout: %q\n%s", line, svc.log.String())
	}
}

func freePort(t *testing.T) string {
	_, port, err := net.SplitHostPort(testenv.FreeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func waitRunning(t *testing.T, client *hatchet.Client, runID string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		st, err := client.Runs().GetStatus(context.Background(), runID)
		if err == nil && *st == rest.V1TaskStatusRUNNING {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("run %s never started", runID)
}

// newClient returns an SDK client of the engine token names. Its gRPC
// connection, and every stream it opened (a Run's result listener), closes
// when the test ends, so none outlives the service it talks to.
func newClient(t *testing.T, token string) *hatchet.Client {
	t.Helper()
	conn, err := engine.Connect(t.Context(), config.Config{Hatchet: config.Hatchet{Token: token, TLSStrategy: "none"}}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn.Client
}

// postgresSettings names the test Postgres server as a connector.
func postgresSettings(t *testing.T) connector.Settings {
	u, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	return connector.Settings{Type: connector.TypePostgres, Host: u.Hostname(), Port: port, User: u.User.Username(), Database: "postgres"}
}

// TestSIGTERMDuringStartup sends SIGTERM while the embedded engine is still
// starting on a fresh database: the service stops within 10 s and exits 0,
// a clean stop rather than a failed start.
func TestSIGTERMDuringStartup(t *testing.T) {
	svc := launchService(t, buildBinary(t), "DATABASE_URL="+database(t, "hw_test_sigterm_startup"))
	deadline := time.Now().Add(time.Minute)
	for svc.logLine(`"http listening"`) == "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if svc.logLine(`"service ready"`) != "" {
		t.Skip("start-up finished before the signal could be sent")
	}
	svc.stopWithin(t, namedWithin)
	if svc.logLine("stopped during start-up") == "" {
		t.Errorf("no line says the service stopped during start-up\n%s", svc.log.String())
	}
}
