package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/api/apitest"
	"github.com/unstract/hatchet-worker/shim/route"
)

// TestTokens checks bearer authentication with one token, with two during a
// rotation, and with none (development).
func TestTokens(t *testing.T) {
	tests := []struct {
		name     string
		accepted []string
		sent     string // "" sends no Authorization header
		want     int
	}{
		{"the token", []string{"s3cret"}, "s3cret", http.StatusOK},
		{"wrong token", []string{"s3cret"}, "nope", http.StatusUnauthorized},
		{"prefix of the token", []string{"s3cret"}, "s3c", http.StatusUnauthorized},
		{"no header", []string{"s3cret"}, "", http.StatusUnauthorized},
		{"new token during rotation", []string{"new", "old"}, "new", http.StatusOK},
		{"old token during rotation", []string{"new", "old"}, "old", http.StatusOK},
		{"neither during rotation", []string{"new", "old"}, "other", http.StatusUnauthorized},
		{"empty tokens are ignored", []string{"", "only"}, "", http.StatusUnauthorized},
		{"no tokens: open (dev)", nil, "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			NewServer(shim.NewDispatcher(route.Catalog{}, nil, nil, nil), WithTokens(tt.accepted...)).Register(mux)
			req := httptest.NewRequest(http.MethodGet, "/api/v2/flags", nil)
			if tt.sent != "" {
				req.Header.Set("Authorization", "Bearer "+tt.sent)
			}
			rec := httptest.NewRecorder()
			apitest.MustNew(t, Document()).Handler(t, mux).ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d (body %s)", rec.Code, tt.want, rec.Body)
			}
		})
	}
}

// TestErrorResponses checks that every failure, unknown paths included, is
// a JSON error with its status and code, and is counted as rejected.
func TestErrorResponses(t *testing.T) {
	routes := route.Catalog{"legacy": {Name: "legacy", Hatchet: "legacy-wf", Legacy: &route.LegacyTask{Task: "t", Queue: "q",
		Args: func(route.Call, json.RawMessage) ([]any, map[string]any, error) { return nil, nil, nil }}}}
	router := featureflag.NewRouter(nil, featureflag.WithPin(featureflag.BackendCelery))
	d := shim.NewDispatcher(routes, router, recordStore{},
		map[featureflag.Backend]shim.Backend{featureflag.BackendCelery: idleBackend{}})
	srv := NewServer(d, WithTokens("tok"))
	mux := http.NewServeMux()
	srv.Register(mux)
	tests := []struct {
		name, method, path, body string
		noAuth                   bool
		status                   int
		code                     string
	}{
		{"unknown path", "GET", "/api/v3/x", "", true, http.StatusNotFound, CodeNotFound},
		{"unknown API path", "GET", "/api/v2/nope", "", false, http.StatusNotFound, CodeNotFound},
		{"no token", "GET", "/api/v2/flags", "", true, http.StatusUnauthorized, CodeUnauthorized},
		{"wrong method", "DELETE", "/api/v2/flags", "", false, http.StatusMethodNotAllowed, CodeMethod},
		{"bad JSON", "POST", "/api/v2/workflows/execute", "{", false, http.StatusBadRequest, CodeBadJSON},
		{"missing fields", "POST", "/api/v2/workflows/execute", `{"workflow":"legacy"}`, false, http.StatusUnprocessableEntity, CodeInvalid},
		{"unknown workflow", "POST", "/api/v2/workflows/execute", `{"workflow":"x","organization_id":"o","input":{}}`, false, http.StatusNotFound, CodeUnknownWorkflow},
		{"key being submitted", "POST", "/api/v2/workflows/execute", `{"workflow":"legacy","organization_id":"org","idempotency_key":"busy","input":{}}`, false, http.StatusConflict, CodeInProgress},
		{"unknown execution", "GET", "/api/v2/workflows/executions/nope", "", false, http.StatusNotFound, CodeNotFound},
		{"cancel ended execution", "POST", "/api/v2/workflows/executions/done/cancel", "", false, http.StatusConflict, CodeNotCancellable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if !tt.noAuth {
				req.Header.Set("Authorization", "Bearer tok")
			}
			before := testutil.ToFloat64(srv.rejected.WithLabelValues(tt.code))
			rec := httptest.NewRecorder()
			apitest.MustNew(t, Document()).Handler(t, mux).ServeHTTP(rec, req)
			var body struct {
				Error APIError `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("body %q (%s) is not a JSON error: %v", rec.Body, rec.Header().Get("Content-Type"), err)
			}
			if rec.Code != tt.status || body.Error.Code != tt.code || body.Error.Message == "" {
				t.Errorf("got %d %+v, want %d %s", rec.Code, body.Error, tt.status, tt.code)
			}
			if got := testutil.ToFloat64(srv.rejected.WithLabelValues(tt.code)) - before; got != 1 {
				t.Errorf("shim_requests_rejected_total{code=%q} rose by %g, want 1", tt.code, got)
			}
		})
	}
}

// TestInternalErrorHidden checks an error that is not a domain error is a
// 500 whose message says nothing of it.
func TestInternalErrorHidden(t *testing.T) {
	ae := toAPIError(errors.New("pq: password authentication failed for user x"))
	if ae.Status != http.StatusInternalServerError || ae.Code != CodeInternal || strings.Contains(ae.Message, "password") {
		t.Errorf("got %+v", ae)
	}
}

// recordStore holds two records: "busy", whose idempotency key another
// request holds, and "done", an execution that ended. Its other methods
// are not called by the requests of TestErrorResponses.
type recordStore struct{ shim.Store }

func (recordStore) Claim(_ context.Context, e shim.Execution, _ time.Duration) (shim.Claim, error) {
	if e.IdempotencyKey == "busy" {
		return shim.Claim{Execution: e, State: shim.ClaimHeld}, nil
	}
	return shim.Claim{}, errors.New("recordStore: unexpected claim")
}

func (recordStore) Get(_ context.Context, id string) (shim.Execution, error) {
	if id == "done" {
		end := time.Now()
		return shim.Execution{ID: id, Workflow: "legacy", Backend: featureflag.BackendCelery,
			Outcome: shim.Outcome{State: shim.StateCancelled, FinishedAt: &end}}, nil
	}
	return shim.Execution{}, shim.ErrNotFound
}

// idleBackend is a backend no request of TestErrorResponses reaches.
type idleBackend struct{ shim.Backend }
