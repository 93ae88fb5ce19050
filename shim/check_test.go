package shim_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/helpers/llm"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/api"
	"github.com/unstract/hatchet-worker/shim/api/apitest"
	"github.com/unstract/hatchet-worker/shim/route"
	"github.com/unstract/hatchet-worker/workflows"
)

// unrouted fails the test when a request gets past its route's check.
type unrouted struct{ t *testing.T }

// Decide fails the test.
func (u unrouted) Decide(featureflag.Request) featureflag.Decision {
	u.t.Fatal("the request was routed: its route's check let it through")
	return featureflag.Decision{}
}

// Fallback allows none.
func (u unrouted) Fallback(featureflag.Decision) (featureflag.Decision, bool) {
	return featureflag.Decision{}, false
}

// TestUnknownAdapterRefused sends document requests naming an LLM adapter
// that is not configured: the shim answers 422 naming the adapter and the
// configured ones before routing, so no run can fail on it later. Nothing
// but the route's check runs, so it needs no service.
func TestUnknownAdapterRefused(t *testing.T) {
	docs, _ := documentRoots(t)
	doc, _ := filepath.Abs("../helpers/extract/testdata/sample.pdf")
	for name, configured := range map[string]map[string]llm.Adapter{
		"none configured": nil,
		"another adapter": {"local": {BaseURL: "http://127.0.0.1:1/v1", Model: "m"}},
	} {
		t.Run(name, func(t *testing.T) {
			adapters, err := workflows.NewLLMAdapters(configured)
			if err != nil {
				t.Fatal(err)
			}
			def := workflows.DocumentProcessing(workflows.Deps{Log: slog.Default(), Documents: docs, LLM: adapters})
			catalog, err := route.NewCatalog(workflows.Routes([]workflows.Definition{def}), []string{def.Name})
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			api.NewServer(shim.NewDispatcher(catalog, unrouted{t}, nil, nil), api.WithTokens(token)).Register(mux)
			body := `{"workflow":"document-processing-v2","organization_id":"o","input":{"document_path":"` + doc +
				`","outputs":[{"name":"n","prompt":"p"}],"llm_adapter_id":"default"}}`
			req := httptest.NewRequest(http.MethodPost, "/api/v2/workflows/execute", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			apitest.MustNew(t, api.Document()).Handler(t, mux).ServeHTTP(rec, req)
			if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), `unknown llm_adapter_id \"default\"`) {
				t.Fatalf("got %d %s, want 422 naming the adapter", rec.Code, rec.Body)
			}
			for id := range configured {
				if !strings.Contains(rec.Body.String(), id) {
					t.Errorf("the refusal %s does not list the configured adapter %s", rec.Body, id)
				}
			}
		})
	}
}
