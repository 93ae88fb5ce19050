package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/api"
	"github.com/unstract/hatchet-worker/shim/api/apitest"
)

const runsToken = "runs-token"

// fakeShim serves the shim API's execution endpoints from fixed answers:
// a succeeded Celery execution "ok", a failed one "bad" with a traceback,
// one "slow" that runs for its first two reads, and none else.
func fakeShim(t *testing.T) (getenv func(string) string, reads *atomic.Int64) {
	t.Helper()
	reads = &atomic.Int64{}
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	finished := created.Add(1500 * time.Millisecond)
	exec := func(id, state string, fi *shim.FailureInfo) shim.Status {
		st := shim.Status{ExecutionID: id, Workflow: "document-processing-v2", OrganizationID: "org", Backend: "celery",
			Reason: "global", State: state, BackendState: strings.ToUpper(state), CreatedAt: created, Error: fi}
		if state == shim.StateSucceeded || state == shim.StateFailed {
			st.FinishedAt = &finished
		}
		return st
	}
	bad := &shim.FailureInfo{Type: "FixtureError", Message: "cannot process raise.txt",
		Traceback: "Traceback (most recent call last):\n  File \"fixture_app.py\", line 40\nFixtureError: cannot process raise.txt"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/workflows/executions/{id}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("id") {
		case "ok":
			writeJSON(w, 200, exec("ok", shim.StateSucceeded, nil))
		case "bad":
			writeJSON(w, 200, exec("bad", shim.StateFailed, bad))
		case "slow":
			state := shim.StateRunning
			if reads.Add(1) > 2 {
				state = shim.StateSucceeded
			}
			writeJSON(w, 200, exec("slow", state, nil))
		default:
			writeJSON(w, 404, map[string]any{"error": map[string]string{"code": "not_found", "message": "no execution"}})
		}
	})
	mux.HandleFunc("GET /api/v2/workflows/executions", func(w http.ResponseWriter, r *http.Request) {
		es := []shim.Execution{{ID: "bad", Workflow: "document-processing-v2", Backend: "celery", Reason: "global", CreatedAt: created,
			Ingress: shim.IngressAPI, Outcome: shim.Outcome{State: shim.StateFailed, FinishedAt: &finished, DurationSeconds: 1.5, Error: bad}}}
		if r.URL.Query().Get("status") == "succeeded" {
			es = []shim.Execution{}
		}
		writeJSON(w, 200, shim.Page{Executions: es})
	})
	mux.HandleFunc("POST /api/v2/workflows/executions/{id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "ok" {
			writeJSON(w, 409, map[string]any{"error": map[string]string{"code": "not_cancellable", "message": "the execution already ended"}})
			return
		}
		writeJSON(w, 202, map[string]string{"execution_id": r.PathValue("id"), "backend": "celery", "status": "cancelling"})
	})
	// The fake answers as the document says the service does.
	srv := httptest.NewServer(apitest.MustNew(t, api.Document()).Handler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+runsToken {
			writeJSON(w, 401, map[string]any{"error": map[string]string{"code": "unauthorized", "message": "bad token"}})
			return
		}
		mux.ServeHTTP(w, r)
	})))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	env := map[string]string{"SERVICE_ADDR": addr, "SHIM_API_TOKEN": runsToken}
	return func(k string) string { return env[k] }, reads
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func TestRuns(t *testing.T) {
	getenv, _ := fakeShim(t)
	tests := []struct {
		name     string
		args     []string
		env      map[string]string // overrides
		code     int
		stdout   []string
		stderr   []string
		noStdout string
	}{
		{"list", []string{"list"}, nil, ExitOK, []string{"ID", "STATUS", "bad", "failed", "1.5s", "FixtureError: cannot process raise.txt"}, nil, ""},
		{"list filtered", []string{"list", "--status", "succeeded"}, nil, ExitOK, []string{"ID"}, nil, "bad"},
		{"list json", []string{"list", "--json"}, nil, ExitOK, []string{`"executions"`, `"status": "failed"`}, nil, ""},
		{"show failure", []string{"show", "bad"}, nil, ExitOK,
			[]string{"backend    celery (global)", "status     failed (FAILED)", "timeline", "failed after 1.5s", "traceback", `    File "fixture_app.py"`}, nil, ""},
		{"show result", []string{"show", "ok", "--json"}, nil, ExitOK, []string{`"status": "succeeded"`}, nil, ""},
		{"follow failure", []string{"show", "--follow", "bad"}, nil, ExitFailed, []string{"FixtureError"}, []string{"failed"}, ""},
		{"unknown id", []string{"show", "nope"}, nil, ExitFailed, nil, []string{"no execution", "404"}, ""},
		{"cancel", []string{"cancel", "slow"}, nil, ExitOK, []string{"slow: cancel requested on celery"}, nil, ""},
		{"cancel ended", []string{"cancel", "ok"}, nil, ExitFailed, nil, []string{"already ended", "409"}, ""},
		{"bad token", []string{"list"}, map[string]string{"SHIM_API_TOKEN": "wrong"}, ExitUsage, nil, []string{"401"}, ""},
		{"unreachable", []string{"list"}, map[string]string{"SERVICE_ADDR": "127.0.0.1:9"}, ExitUsage, nil, []string{"unreachable"}, ""},
		{"no id", []string{"show"}, nil, ExitUsage, nil, []string{"ID is required"}, ""},
		{"extra args", []string{"cancel", "a", "b"}, nil, ExitUsage, nil, []string{"unexpected arguments"}, ""},
		{"unknown subcommand", []string{"rerun"}, nil, ExitUsage, nil, []string{"unknown subcommand", "usage:"}, ""},
		{"help", []string{"list", "-h"}, nil, ExitOK, nil, []string{"runs show ID"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := getenv
			if tt.env != nil {
				env = func(k string) string {
					if v, ok := tt.env[k]; ok {
						return v
					}
					return getenv(k)
				}
			}
			var stdout, stderr bytes.Buffer
			code := Runs(context.Background(), tt.args, &stdout, &stderr, env)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, &stdout, &stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, &stdout)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, &stderr)
				}
			}
			if tt.noStdout != "" && strings.Contains(stdout.String(), tt.noStdout) {
				t.Errorf("stdout has %q:\n%s", tt.noStdout, &stdout)
			}
		})
	}
}

// TestRunsFollow prints the timeline of a running execution until it ends.
func TestRunsFollow(t *testing.T) {
	getenv, reads := fakeShim(t)
	var stdout, stderr bytes.Buffer
	if code := Runs(context.Background(), []string{"show", "slow", "--follow"}, &stdout, &stderr, getenv); code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, &stdout, &stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "running") || !strings.Contains(lines[1], "succeeded") {
		t.Errorf("timeline = %q, want running then succeeded", lines)
	}
	if reads.Load() != 3 || !strings.Contains(stdout.String(), "status     succeeded") {
		t.Errorf("%d reads, output:\n%s", reads.Load(), &stdout)
	}
}
