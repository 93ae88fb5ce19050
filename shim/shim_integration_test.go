//go:build integration

package shim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/shim/store"

	hatchetbackend "github.com/unstract/hatchet-worker/shim/backend/hatchet"

	celerybackend "github.com/unstract/hatchet-worker/shim/backend/celery"

	"github.com/hatchet-dev/hatchet/pkg/config/loader/loaderutils"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/helpers/extract"
	"github.com/unstract/hatchet-worker/internal/ops"
	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/api"
	"github.com/unstract/hatchet-worker/shim/api/apitest"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
	"github.com/unstract/hatchet-worker/shim/route"
	"github.com/unstract/hatchet-worker/workflows"
)

// stack is a shim served over real HTTP, backed by the embedded Hatchet
// engine (running document-processing-v2 against a local LLM server) and a
// real Python Celery worker with the Postgres result backend.
type stack struct {
	url       string
	hatchet   *hatchet.Client // the engine's client, for baselines beside the shim
	flagsFile string
	flags     *featureflag.Flags
	reg       *prometheus.Registry
	celery    *celerybridge.Client
	llm       string
	// passwdLink is a link to /etc/passwd inside a document root.
	passwdLink string
	// raiseDoc is a document the fixture Celery worker fails on.
	raiseDoc string
	d        *shim.Dispatcher
	store    *store.Postgres
	storeURL string // the store's database
	celeryDB string // the Celery result backend (db+postgresql://…)
	// contract checks every exchange with the shim against its OpenAPI
	// document.
	contract *apitest.Contract
}

func newStack(t testing.TB, routing ...featureflag.RouterOption) *stack {
	t.Helper()
	ctx := context.Background()
	conn := hatchettest.Engine(t)
	llmSrv := testenv.NewLLMServer(t, "")
	ex, err := extract.New("", "")
	if err != nil {
		t.Fatal(err)
	}
	docs, passwdLink := documentRoots(t)
	deps := workflows.Deps{Log: slog.Default(), Extractor: ex, Documents: docs}
	defs := []workflows.Definition{workflows.DocumentProcessing(deps), workflows.ConnectorValidation(deps)}
	wfs, err := workflows.BuildAll(conn.Client, defs)
	if err != nil {
		t.Fatal(err)
	}
	hatchettest.StartWorker(t, conn, "shim-"+strings.ToLower(t.Name()), 50, wfs)

	queue := "file_processing_" + strings.ToLower(t.Name())
	backend := testenv.CeleryPostgresBackend(t)
	testenv.StartCeleryWorker(t, testenv.WithCeleryQueues(queue), testenv.WithCeleryBackend(backend))
	celery, err := celerybridge.Dial(ctx, testenv.AMQPURL(t), celerybridge.WithResultBackend(backend))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = celery.Close(context.Background()) })

	routes := workflows.Routes(defs) // document-processing-v2 (paths checked against docs), connector-validation
	legacy := *routes[0].Legacy
	legacy.Queue = queue // keep this test's tasks on its own worker
	routes[0].Legacy = &legacy
	catalog, err := route.NewCatalog(routes,
		[]string{workflows.DocumentProcessingName, workflows.ConnectorValidationName})
	if err != nil {
		t.Fatal(err)
	}
	storeURL := hatchettest.DatabaseURL(t, "hw_test_shim_"+strings.ToLower(t.Name()))
	store, err := store.Open(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)

	s := &stack{hatchet: conn.Client, flagsFile: filepath.Join(t.TempDir(), "flags.json"), reg: prometheus.NewRegistry(), celery: celery,
		passwdLink: passwdLink, raiseDoc: filepath.Join(filepath.Dir(passwdLink), "raise.txt"), store: store,
		storeURL: storeURL, celeryDB: backend}
	s.writeFlags(t, `{"use_task_abstraction": false}`)
	s.flags, err = featureflag.New(ctx, featureflag.Config{File: s.flagsFile}, featureflag.WithPollInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	watchCtx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	go func() { _ = s.flags.Watch(watchCtx) }()

	backends := map[featureflag.Backend]shim.Backend{
		featureflag.BackendHatchet: hatchetbackend.New(conn.Client, conn.Ready, hatchetbackend.WithDashboard(dashboardURL, conn.TenantID)),
		featureflag.BackendCelery:  celerybackend.New(celery),
	}
	s.d = shim.NewDispatcher(catalog, featureflag.NewRouter(s.flags, routing...), store, backends, shim.WithMetrics(s.reg),
		shim.WithHistory(store))
	srv := api.NewServer(s.d, api.WithTokens(token), api.WithMaxBody(4096), api.WithMetrics(s.reg),
		api.WithFlags(s.flags, featureflag.BackendHatchet))
	mux := http.NewServeMux()
	srv.Register(mux)
	st := ops.New()
	st.AddCheck("shim", s.d.Ready)
	api.RegisterOps(mux, st)
	s.contract = apitest.MustNew(t, api.Document())
	hs := httptest.NewServer(s.contract.Handler(t, mux))
	t.Cleanup(hs.Close)
	s.url = hs.URL
	s.llm = llmSrv.BaseURL()
	return s
}

// platformRoute returns the route the workflow name declares, with a legacy
// task of its own to change and no input check (the tests using it are
// about the backends, not about which documents may be read).
func platformRoute(t testing.TB, name string) route.Route {
	t.Helper()
	for _, r := range workflows.Routes(workflows.Registry(workflows.Deps{Log: slog.Default()})) {
		if r.Name == name {
			if r.Legacy != nil {
				legacy := *r.Legacy
				r.Legacy = &legacy
			}
			r.Check = nil
			return r
		}
	}
	t.Fatalf("no workflow %s routed through the shim", name)
	return route.Route{}
}

// writeFlags replaces the flags file atomically, as an operator's tooling would.
func (s *stack) writeFlags(t testing.TB, content string) {
	t.Helper()
	tmp := s.flagsFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, s.flagsFile); err != nil {
		t.Fatal(err)
	}
}

// waitFlags waits until the shim reports the rules loaded from content.
func (s *stack) waitFlags(t testing.TB, check func(featureflag.Rules) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if check(s.flags.Snapshot().Rules) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("flags file change not picked up")
}

// input is a document-processing-v2 input for the sample PDF.
func (s *stack) input() map[string]any {
	doc, _ := filepath.Abs("../helpers/extract/testdata/sample.pdf")
	return map[string]any{
		"document_path": doc,
		"outputs":       []map[string]string{{"name": "invoice", "prompt": "Extract the invoice number"}},
		"llm":           map[string]string{"base_url": s.llm, "model": "tiny"},
	}
}

func (s *stack) do(t testing.TB, method, path, auth string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d with non-JSON body %q", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func (s *stack) execute(t testing.TB, req map[string]any) (int, map[string]any) {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return s.do(t, http.MethodPost, "/api/v2/workflows/execute", token, body)
}

// waitDone polls the status endpoint until the execution is final.
func (s *stack) waitDone(t *testing.T, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		code, st := s.do(t, http.MethodGet, "/api/v2/workflows/executions/"+id, token, nil)
		if code != http.StatusOK {
			t.Fatalf("status %s: %d %v", id, code, st)
		}
		switch st["status"] {
		case shim.StateSucceeded, shim.StateFailed, shim.StateCancelled:
			return st
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("execution %s did not finish", id)
	return nil
}

// TestSameRequestFollowsTheFlag sends one request with the flag on and the
// same request with it off; both run for real and report through the
// status endpoint.
func TestSameRequestFollowsTheFlag(t *testing.T) {
	s := newStack(t)
	cases := []struct {
		flags   string
		on      bool
		backend string
		check   func(t *testing.T, result map[string]any)
	}{
		{`{"use_task_abstraction": true}`, true, string(featureflag.BackendHatchet), func(t *testing.T, result map[string]any) {
			out, _ := json.Marshal(result)
			if !strings.Contains(string(out), `"processed_results":{"invoice":[{"response":"Extract: Invoice INV-2024-001"`) {
				t.Errorf("hatchet result = %s", out)
			}
		}},
		{`{"use_task_abstraction": false}`, false, string(featureflag.BackendCelery), func(t *testing.T, result map[string]any) {
			if result["successful_files"] != 1.0 || result["failed_files"] != 0.0 {
				t.Errorf("celery result = %v", result)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.backend, func(t *testing.T) {
			s.writeFlags(t, c.flags)
			s.waitFlags(t, func(r featureflag.Rules) bool { return r.UseTaskAbstraction == c.on })
			code, resp := s.execute(t, map[string]any{"workflow": workflows.DocumentProcessingName, "organization_id": "org-a", "input": s.input()})
			if code != http.StatusAccepted || resp["backend"] != c.backend || resp["reason"] != "global" {
				t.Fatalf("execute = %d %v, want 202 on %s by global", code, resp, c.backend)
			}
			st := s.waitDone(t, resp["execution_id"].(string))
			if st["status"] != shim.StateSucceeded || st["backend"] != c.backend {
				t.Fatalf("status = %v", st)
			}
			result, _ := st["result"].(map[string]any)
			c.check(t, result)
		})
	}
	if got := decisions(t, s.reg); got["hatchet/global"] != 1 || got["celery/global"] != 1 {
		t.Errorf("decisions counted = %v, want one hatchet/global and one celery/global", got)
	}
}

// decisions reads shim_routing_decisions_total as backend/reason → count.
func decisions(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "shim_routing_decisions_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[labels["backend"]+"/"+labels["reason"]] += m.GetCounter().GetValue()
		}
	}
	return out
}

// sent is one request of the flag-flip traffic.
type sent struct {
	org         string
	start, end  time.Time
	code        int
	id, backend string
	reason      string
}

// phase is a rollout percentage and when it was written and first seen.
type phase struct {
	percent       float64
	written, seen time.Time
}

// TestFlagFlipMidTraffic moves the rollout 0 % → 50 % → 100 % while 200
// requests flow: none is lost, and each is routed by a rule in force while
// it was in flight.
func TestFlagFlipMidTraffic(t *testing.T) {
	s := newStack(t)
	wf := workflows.DocumentProcessingName
	flagsAt := func(p float64) string {
		return fmt.Sprintf(`{"use_task_abstraction": false, "workflows": {%q: {"percentage": %g}}}`, wf, p)
	}
	s.writeFlags(t, flagsAt(0))
	s.waitFlags(t, func(r featureflag.Rules) bool { return percentOf(r, wf) == 0 })
	phases := []phase{{percent: 0, seen: time.Now()}}

	const total, senders = 200, 8
	results := make(chan sent, total)
	next := make(chan int, total)
	for i := range total {
		next <- i
	}
	close(next)
	for range senders {
		go func() {
			for i := range next {
				r := sent{org: fmt.Sprintf("org-%03d", i), start: time.Now()}
				var resp map[string]any
				r.code, resp = s.execute(t, map[string]any{"workflow": wf, "organization_id": r.org, "input": s.input()})
				r.end = time.Now()
				r.id, _ = resp["execution_id"].(string)
				r.backend, _ = resp["backend"].(string)
				r.reason, _ = resp["reason"].(string)
				results <- r
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	var got []sent
	for _, p := range []float64{50, 100} {
		for len(got) < len(phases)*total/3 {
			got = append(got, <-results)
		}
		ph := phase{percent: p, written: time.Now()}
		s.writeFlags(t, flagsAt(p))
		s.waitFlags(t, func(r featureflag.Rules) bool { return percentOf(r, wf) == p })
		ph.seen = time.Now()
		phases = append(phases, ph)
	}
	for len(got) < total {
		got = append(got, <-results)
	}

	counted := map[string]float64{}
	for _, r := range got {
		if r.code != http.StatusAccepted || r.id == "" {
			t.Fatalf("request for %s: %d %+v", r.org, r.code, r)
		}
		if r.reason != "percentage" {
			t.Errorf("%s routed by %q, want percentage", r.org, r.reason)
		}
		if allowed := backendsInForce(phases, wf, r); !allowed[r.backend] {
			t.Errorf("%s went to %s; rules in force allowed %v", r.org, r.backend, allowed)
		}
		counted[r.backend+"/"+r.reason]++
		if code, st := s.do(t, http.MethodGet, "/api/v2/workflows/executions/"+r.id, token, nil); code != http.StatusOK || st["backend"] != r.backend {
			t.Errorf("status of %s: %d %v", r.id, code, st)
		}
	}
	if m := decisions(t, s.reg); fmt.Sprint(m) != fmt.Sprint(counted) {
		t.Errorf("metric counts %v, responses %v", m, counted)
	}
	if counted["hatchet/percentage"] == 0 || counted["celery/percentage"] == 0 {
		t.Errorf("want traffic on both backends during the rollout, got %v", counted)
	}
}

func percentOf(r featureflag.Rules, wf string) float64 {
	if p := r.Workflows[wf].Percentage; p != nil {
		return *p
	}
	return -1
}

// backendsInForce returns the backends the percentage rules in force during
// r's flight could choose for r's organisation.
func backendsInForce(phases []phase, wf string, r sent) map[string]bool {
	allowed := map[string]bool{}
	for i, ph := range phases {
		from := ph.written
		if i == 0 {
			from = time.Time{}
		}
		var until time.Time // the next phase's seen time bounds this one
		if i+1 < len(phases) {
			until = phases[i+1].seen
		}
		if r.end.Before(from) || (!until.IsZero() && r.start.After(until)) {
			continue
		}
		allowed[routeAt(wf, r.org, ph.percent)] = true
	}
	return allowed
}

// routeAt is where org goes at percent, asked of the flags package itself
// (a global rollout at percent hashes the same way as a workflow's).
func routeAt(wf, org string, percent float64) string {
	f, err := featureflag.New(context.Background(), featureflag.Config{Percentage: percent})
	if err != nil {
		panic(err)
	}
	return string(f.Decide(featureflag.Request{Workflow: wf, Org: org}).Backend)
}

// TestAPIContract covers authentication, the bad-input table, idempotency
// on both backends, the listing endpoints and 503 with and without fallback.
func TestAPIContract(t *testing.T) {
	s := newStack(t)
	valid, _ := json.Marshal(map[string]any{"workflow": workflows.DocumentProcessingName, "organization_id": "org-b", "input": s.input()})

	t.Run("bad input", func(t *testing.T) {
		tests := []struct {
			name, method, path, auth, body string
			status                         int
			code                           string
		}{
			{"no token", "POST", "/api/v2/workflows/execute", "", string(valid), 401, api.CodeUnauthorized},
			{"wrong token", "POST", "/api/v2/workflows/execute", "nope", string(valid), 401, api.CodeUnauthorized},
			{"malformed json", "POST", "/api/v2/workflows/execute", token, `{"workflow":`, 400, api.CodeBadJSON},
			{"unknown field", "POST", "/api/v2/workflows/execute", token, `{"workflow":"x","input":{},"organization_id":"o","color":1}`, 400, api.CodeBadJSON},
			{"unknown workflow", "POST", "/api/v2/workflows/execute", token, `{"workflow":"nope","input":{},"organization_id":"o"}`, 404, api.CodeUnknownWorkflow},
			{"missing fields", "POST", "/api/v2/workflows/execute", token, `{"workflow":"document-processing-v2"}`, 422, api.CodeInvalid},
			{"input not mappable to legacy", "POST", "/api/v2/workflows/execute", token, `{"workflow":"document-processing-v2","input":{"x":1},"organization_id":"o","use_abstraction":false}`, 422, api.CodeInvalid},
			{"integer beyond 2^53 to hatchet", "POST", "/api/v2/workflows/execute", token, `{"workflow":"connector-validation","organization_id":"o","input":{"settings":{"type":"redis","host":"127.0.0.1","timeout_ms":12345678901234567890}}}`, 422, api.CodeInvalid},
			{"oversize", "POST", "/api/v2/workflows/execute", token, `{"workflow":"w","input":{"x":"` + strings.Repeat("x", 5000) + `"},"organization_id":"o"}`, 413, api.CodeTooLarge},
			{"unknown execution", "GET", "/api/v2/workflows/executions/6f1c8a52-1111-4c3e-9d7a-0c2d6f1b7a10", token, "", 404, api.CodeNotFound},
			{"not a uuid", "GET", "/api/v2/workflows/executions/../../etc", token, "", 404, api.CodeNotFound},
			{"wrong method", "GET", "/api/v2/workflows/execute", token, "", 405, api.CodeMethod},
			{"wrong method on status", "DELETE", "/api/v2/workflows/executions/abc", token, "", 405, api.CodeMethod},
			{"unknown endpoint", "GET", "/api/v2/nothing", token, "", 404, api.CodeNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, body := s.do(t, tt.method, tt.path, tt.auth, []byte(tt.body))
				e, _ := body["error"].(map[string]any)
				if code != tt.status || e["code"] != tt.code || e["message"] == "" {
					t.Errorf("got %d %v, want %d with code %s", code, body, tt.status, tt.code)
				}
			})
		}
	})

	t.Run("document path escapes", func(t *testing.T) {
		testDocumentEscapes(t, s)
	})

	t.Run("idempotency", func(t *testing.T) {
		for _, flags := range []string{`{"use_task_abstraction": true}`, `{"use_task_abstraction": false}`} {
			on := strings.Contains(flags, "true")
			s.writeFlags(t, flags)
			s.waitFlags(t, func(r featureflag.Rules) bool { return r.UseTaskAbstraction == on })
			req := map[string]any{"workflow": workflows.DocumentProcessingName, "organization_id": "org-idem",
				"idempotency_key": fmt.Sprintf("key-%v", on), "input": s.input()}
			code1, first := s.execute(t, req)
			code2, again := s.execute(t, req)
			if code1 != http.StatusAccepted || code2 != http.StatusOK || again["replayed"] != true ||
				first["execution_id"] != again["execution_id"] || first["backend"] != again["backend"] {
				t.Fatalf("first %d %v, again %d %v: want the same execution replayed", code1, first, code2, again)
			}
			if st := s.waitDone(t, first["execution_id"].(string)); st["status"] != shim.StateSucceeded {
				t.Errorf("idempotent execution: %v", st)
			}
		}
	})

	t.Run("listing", func(t *testing.T) {
		code, body := s.do(t, "GET", "/api/v2/workflows", token, nil)
		list, _ := body["workflows"].([]any)
		if code != 200 || len(list) != 2 {
			t.Fatalf("workflows = %d %v", code, body)
		}
		w := list[1].(map[string]any) // sorted: connector-validation, document-processing-v2
		legacy, _ := w["legacy"].(map[string]any)
		if w["hatchet_workflow"] != workflows.DocumentProcessingName || legacy["task"] != workflows.TaskProcessFileBatch || w["routes_to"] == nil {
			t.Errorf("workflow entry = %v", w)
		}
		if code, body := s.do(t, "GET", "/api/v2/flags", token, nil); code != 200 || body["task_queue_backend"] != "hatchet" || body["flags"] == nil {
			t.Errorf("flags = %d %v", code, body)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		silent := testenv.SilentPort(t)
		code, resp := s.execute(t, map[string]any{"workflow": workflows.ConnectorValidationName, "organization_id": "org-cancel",
			"input": map[string]any{"settings": map[string]any{"type": "redis", "host": "127.0.0.1", "port": silent, "timeout_ms": 60000}}})
		if code != http.StatusAccepted || resp["reason"] != "hatchet-only" {
			t.Fatalf("execute = %d %v", code, resp)
		}
		id := resp["execution_id"].(string)
		waitState(t, s, id, shim.StateRunning)
		if code, body := s.do(t, "POST", "/api/v2/workflows/executions/"+id+"/cancel", token, nil); code != http.StatusAccepted {
			t.Fatalf("cancel = %d %v", code, body)
		}
		if st := s.waitDone(t, id); st["status"] != shim.StateCancelled {
			t.Errorf("after cancel: %v", st)
		}
		// A Celery execution is revoked on the workers; this one may have
		// finished already, so either final state is right.
		s.writeFlags(t, `{"use_task_abstraction": false}`)
		s.waitFlags(t, func(r featureflag.Rules) bool { return !r.UseTaskAbstraction })
		_, resp = s.execute(t, map[string]any{"workflow": workflows.DocumentProcessingName, "organization_id": "org-cancel", "input": s.input()})
		id = resp["execution_id"].(string)
		code, body := s.do(t, "POST", "/api/v2/workflows/executions/"+id+"/cancel", token, nil)
		if e, _ := body["error"].(map[string]any); code != http.StatusAccepted && (code != http.StatusConflict || e["code"] != api.CodeNotCancellable) {
			t.Errorf("cancel celery execution = %d %v, want 202, or 409 when it already ended", code, body)
		}
		if st := s.waitDone(t, id); st["status"] != shim.StateCancelled && st["status"] != shim.StateSucceeded {
			t.Errorf("after revoke: %v", st)
		}
	})

	t.Run("history and operations", func(t *testing.T) {
		testHistoryAndOps(t, s)
	})

	t.Run("celery down", func(t *testing.T) {
		s.writeFlags(t, `{"use_task_abstraction": false}`)
		s.waitFlags(t, func(r featureflag.Rules) bool { return !r.UseTaskAbstraction })
		if err := s.celery.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		code, body := s.execute(t, map[string]any{"workflow": workflows.DocumentProcessingName, "organization_id": "org-down", "input": s.input()})
		e, _ := body["error"].(map[string]any)
		if code != http.StatusServiceUnavailable || e["code"] != api.CodeUnavailable {
			t.Fatalf("got %d %v, want 503", code, body)
		}
	})

	s.contract.RequireCoverage(t)
}

// testHistoryAndOps pages through the executions the earlier subtests made,
// reads the summary, and reads the endpoints that need no token.
func testHistoryAndOps(t *testing.T, s *stack) {
	code, first := s.do(t, "GET", "/api/v2/workflows/executions?organization_id=org-idem&limit=1", token, nil)
	cursor, _ := first["next_cursor"].(string)
	if code != http.StatusOK || cursor == "" {
		t.Fatalf("first page = %d %v, want one execution and a cursor", code, first)
	}
	code, next := s.do(t, "GET", "/api/v2/workflows/executions?organization_id=org-idem&limit=1&cursor="+url.QueryEscape(cursor), token, nil)
	if page, _ := next["executions"].([]any); code != http.StatusOK || len(page) != 1 || next["next_cursor"] != nil {
		t.Errorf("second page = %d %v, want the other execution and no cursor", code, next)
	}
	filtered := "/api/v2/workflows/executions?workflow=" + workflows.DocumentProcessingName + "&backend=celery&status=succeeded&since=1h"
	if code, body := s.do(t, "GET", filtered, token, nil); code != http.StatusOK || len(body["executions"].([]any)) == 0 {
		t.Errorf("filtered list = %d %v", code, body)
	}
	if code, body := s.do(t, "GET", "/api/v2/migration/summary?window=1h", token, nil); code != http.StatusOK || body["flags"] == nil {
		t.Errorf("summary = %d %v", code, body)
	}
	for _, path := range []string{"/api/v2/workflows/executions?limit=0", "/api/v2/workflows/executions?status=done",
		"/api/v2/workflows/executions?cursor=nope", "/api/v2/migration/summary?window=-1h"} {
		if code, body := s.do(t, "GET", path, token, nil); code != http.StatusUnprocessableEntity {
			t.Errorf("GET %s = %d %v, want 422", path, code, body)
		}
	}
	for path, want := range map[string]int{"/api/v2/openapi.json": 200, "/healthz": 200, "/readyz": 200} {
		if code, body := s.do(t, "GET", path, "", nil); code != want {
			t.Errorf("GET %s = %d %v, want %d", path, code, body, want)
		}
	}
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(metrics, []byte("go_goroutines")) {
		t.Errorf("GET /metrics = %d", resp.StatusCode)
	}
}

// TestFallback routes to Hatchet when Celery is down and fallback is on.
func TestFallback(t *testing.T) {
	s := newStack(t, featureflag.WithFallback(true))
	if err := s.celery.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, body := s.execute(t, map[string]any{"workflow": workflows.DocumentProcessingName, "organization_id": "org-fb", "input": s.input()})
	if code != http.StatusAccepted || body["backend"] != string(featureflag.BackendHatchet) || body["reason"] != "fallback:global" {
		t.Fatalf("got %d %v, want 202 on hatchet with reason fallback:global", code, body)
	}
	if st := s.waitDone(t, body["execution_id"].(string)); st["status"] != shim.StateSucceeded || st["reason"] != "fallback:global" {
		t.Errorf("status = %v", st)
	}
}

// TestDashboardFindsRunsByMetadata lists runs the way the Hatchet dashboard
// does — GET /api/v1/stable/tenants/{tenant}/workflow-runs with
// additional_metadata filters — and finds the shim's run by organisation
// and execution id.
func TestDashboardFindsRunsByMetadata(t *testing.T) {
	s := newStack(t)
	s.writeFlags(t, `{"use_task_abstraction": true}`)
	s.waitFlags(t, func(r featureflag.Rules) bool { return r.UseTaskAbstraction })
	var ids []string
	for _, org := range []string{"org-dash-1", "org-dash-2"} {
		code, resp := s.execute(t, map[string]any{"workflow": workflows.DocumentProcessingName, "organization_id": org, "input": s.input()})
		if code != http.StatusAccepted {
			t.Fatalf("execute: %d %v", code, resp)
		}
		ids = append(ids, resp["execution_id"].(string))
		st := s.waitDone(t, ids[len(ids)-1])
		if want := dashboardURL + "/tenants/" + hatchettest.Engine(t).TenantID + "/runs/" + st["backend_ref"].(string); st["dashboard_url"] != want {
			t.Errorf("dashboard_url = %v, want %s", st["dashboard_url"], want)
		}
	}
	conn := hatchettest.Engine(t)
	if tenant, err := loaderutils.GetConfFromJWT(conn.Embedded.Token); err != nil || tenant.TenantId != conn.TenantID {
		t.Fatalf("tenant %v (%v), conn.TenantID %q", tenant, err, conn.TenantID)
	}
	tests := []struct {
		filter string
		want   int
	}{
		{"organization_id:org-dash-1", 1},
		{"execution_id:" + ids[1], 1},
		{"execution_id:" + ids[0], 1},
		{"organization_id:org-nobody", 0},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			runs := testenv.HatchetRuns(t, conn.Embedded.APIURL, conn.Embedded.Token, tt.filter)
			matching := 0
			for _, r := range runs {
				if r.Metadata["source"] == "shim" && r.Metadata["route_reason"] == "global" &&
					strings.HasPrefix(r.Metadata["organization_id"], "org-dash-") &&
					r.Metadata["document_path"] == s.input()["document_path"] {
					matching++
				}
			}
			if len(runs) != tt.want || matching != tt.want {
				t.Errorf("filter %s: %d runs (%d with shim metadata), want %d: %+v", tt.filter, len(runs), matching, tt.want, runs)
			}
		})
	}
}

// dashboardURL is HATCHET_DASHBOARD_URL in these tests.
const dashboardURL = "http://dashboard.example:8888"

// waitState polls the status endpoint until the execution reaches state.
func waitState(t *testing.T, s *stack, id, state string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, st := s.do(t, http.MethodGet, "/api/v2/workflows/executions/"+id, token, nil); st["status"] == state {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("execution %s never reached %s", id, state)
}

// TestMissingLegacyQueueIs503 sends to a queue no Celery worker declared:
// the broker returns the message, so nothing is accepted and the answer
// says why.
func TestMissingLegacyQueueIs503(t *testing.T) {
	celery, err := celerybridge.Dial(context.Background(), testenv.AMQPURL(t), celerybridge.WithResultBackend("rpc://"))
	if err != nil {
		t.Fatal(err)
	}
	rt := platformRoute(t, workflows.DocumentProcessingName)
	rt.Legacy.Queue = "no_such_queue_" + strings.ToLower(t.Name())
	s := celeryOnly(t, celery, rt)
	code, body := s.execute(t, map[string]any{"workflow": rt.Name, "organization_id": "o", "idempotency_key": "k", "input": s.input()})
	e, _ := body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	if code != http.StatusServiceUnavailable || e["code"] != api.CodeUnavailable || !strings.Contains(msg, "no queue for this task") {
		t.Fatalf("got %d %v, want 503 naming the missing queue", code, body)
	}
	// Nothing was accepted, so the same key may be retried at once.
	if code, _ := s.execute(t, map[string]any{"workflow": rt.Name, "organization_id": "o", "idempotency_key": "k", "input": s.input()}); code != http.StatusServiceUnavailable {
		t.Errorf("retry with the same key = %d, want 503 again (not a replay)", code)
	}
}

// TestBrokerDownIs503 routes to Celery while the bridge has no broker
// connection: the answer is an immediate 503, not a request that waits.
func TestBrokerDownIs503(t *testing.T) {
	down := "amqp://guest:guest@" + testenv.FreeAddr(t) + "/"
	celery, err := celerybridge.Dial(context.Background(), down, celerybridge.WithBackgroundConnect())
	if err != nil {
		t.Fatal(err)
	}
	rt := platformRoute(t, workflows.DocumentProcessingName)
	s := celeryOnly(t, celery, rt)
	began := time.Now()
	code, body := s.execute(t, map[string]any{"workflow": rt.Name, "organization_id": "o", "input": s.input()})
	e, _ := body["error"].(map[string]any)
	if code != http.StatusServiceUnavailable || e["code"] != api.CodeUnavailable {
		t.Fatalf("got %d %v, want 503", code, body)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("503 after %s, want it without waiting for the broker", took)
	}
}

// celeryOnly serves a shim whose one route always goes to Celery through
// celery (closed when the test ends).
func celeryOnly(t *testing.T, celery *celerybridge.Client, rt route.Route) *stack {
	t.Helper()
	t.Cleanup(func() { _ = celery.Close(context.Background()) })
	url, _ := serveRoute(t, rt, map[featureflag.Backend]shim.Backend{featureflag.BackendCelery: celerybackend.New(celery)})
	return &stack{url: url, llm: "http://127.0.0.1:1/v1"}
}

// serveRoute serves a shim with one route on a fresh store, pinned to
// Celery unless the route runs on Hatchet only; it returns the shim's URL
// and the store's database.
func serveRoute(t *testing.T, rt route.Route, backends map[featureflag.Backend]shim.Backend) (string, string) {
	t.Helper()
	dbURL := hatchettest.DatabaseURL(t, "hw_test_shim_"+strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_")))
	store, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	catalog, err := route.NewCatalog([]route.Route{rt}, []string{rt.Hatchet})
	if err != nil {
		t.Fatal(err)
	}
	router := featureflag.NewRouter(nil, featureflag.WithPin(featureflag.BackendCelery))
	mux := http.NewServeMux()
	api.NewServer(shim.NewDispatcher(catalog, router, store, backends), api.WithTokens(token)).Register(mux)
	hs := httptest.NewServer(apitest.MustNew(t, api.Document()).Handler(t, mux))
	t.Cleanup(hs.Close)
	return hs.URL, dbURL
}

// testDocumentEscapes sends document paths outside DOCUMENTS_ROOTS to each
// backend: every one is refused with a 422 before anything is submitted.
func testDocumentEscapes(t *testing.T, s *stack) {
	samples, _ := filepath.Abs("../helpers/extract/testdata")
	paths := map[string]string{
		"system file":   "/etc/passwd",
		"dot-dot":       samples + "/../../../../../../etc/passwd",
		"symbolic link": s.passwdLink,
		"relative":      "etc/passwd",
	}
	for _, on := range []bool{true, false} {
		s.writeFlags(t, fmt.Sprintf(`{"use_task_abstraction": %v}`, on))
		s.waitFlags(t, func(r featureflag.Rules) bool { return r.UseTaskAbstraction == on })
		for name, p := range paths {
			t.Run(fmt.Sprintf("%s/hatchet=%v", name, on), func(t *testing.T) {
				in := s.input()
				in["document_path"] = p
				code, body := s.execute(t, map[string]any{"workflow": workflows.DocumentProcessingName, "organization_id": "org-esc", "input": in})
				e, _ := body["error"].(map[string]any)
				msg, _ := e["message"].(string)
				if code != http.StatusUnprocessableEntity || e["code"] != api.CodeInvalid || !strings.Contains(msg, "document_path") {
					t.Fatalf("got %d %v, want 422 refusing the document_path", code, body)
				}
				if strings.Contains(msg, "root:x:0:0") {
					t.Errorf("the refusal shows the file: %s", msg)
				}
			})
		}
	}
}
