package apitest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/api"
	"github.com/unstract/hatchet-worker/shim/api/apitest"
	"github.com/unstract/hatchet-worker/shim/route"
)

const token = "s3cret"

// server serves the API over a dispatcher with no backend and the given
// flags.
func server(t *testing.T) http.Handler {
	t.Helper()
	flags, err := featureflag.New(context.Background(), featureflag.Config{UseTaskAbstraction: true})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.NewServer(shim.NewDispatcher(route.Catalog{}, nil, nil, nil), api.WithTokens(token),
		api.WithFlags(flags, featureflag.BackendHatchet)).Register(mux)
	return mux
}

// exchange sends one request to h and returns it with its answer.
func exchange(t *testing.T, h http.Handler, method, path, auth, body string) apitest.Exchange {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if auth != "" {
		r.Header.Set("Authorization", "Bearer "+auth)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return apitest.Exchange{Request: httptest.NewRequest(method, path, nil), Body: []byte(body), Status: rec.Code,
		Header: rec.Header(), Answer: rec.Body.Bytes()}
}

// TestDocumentServed checks that the document is valid OpenAPI 3.1 and
// that GET /api/v2/openapi.json serves it, with no token, as JSON.
func TestDocumentServed(t *testing.T) {
	c := apitest.MustNew(t, api.Document())
	x := exchange(t, server(t), http.MethodGet, "/api/v2/openapi.json", "", "")
	if x.Status != http.StatusOK {
		t.Fatalf("GET /api/v2/openapi.json = %d %s", x.Status, x.Answer)
	}
	if err := c.Check(x); err != nil {
		t.Error(err)
	}
	served, err := apitest.New(x.Answer)
	if err != nil {
		t.Fatalf("served document: %v", err)
	}
	if got, want := served.Unexercised(), apitest.MustNew(t, api.Document()).Unexercised(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("served document's operations %v, want %v", got, want)
	}
}

// TestCheck checks exchanges that keep the document and ones that break it.
func TestCheck(t *testing.T) {
	h := server(t)
	tests := []struct {
		name   string
		x      apitest.Exchange
		edit   func(*apitest.Exchange)
		breaks string // "" when the exchange keeps the document
	}{
		{name: "flags", x: exchange(t, h, "GET", "/api/v2/flags", token, "")},
		{name: "workflows", x: exchange(t, h, "GET", "/api/v2/workflows", token, "")},
		{name: "no token", x: exchange(t, h, "GET", "/api/v2/flags", "", "")},
		{name: "unknown path", x: exchange(t, h, "GET", "/api/v2/nothing", token, "")},
		{name: "wrong method", x: exchange(t, h, "DELETE", "/api/v2/flags", token, "")},
		{name: "bad body refused", x: exchange(t, h, "POST", "/api/v2/workflows/execute", token, `{"workflow":`)},
		{name: "field the document lacks", x: exchange(t, h, "GET", "/api/v2/flags", token, ""),
			edit: func(x *apitest.Exchange) { x.Answer = addField(t, x.Answer, "colour", "blue") }, breaks: "colour"},
		{name: "status the document lacks", x: exchange(t, h, "GET", "/api/v2/flags", token, ""),
			edit: func(x *apitest.Exchange) { x.Status = http.StatusTeapot }, breaks: "418"},
		{name: "bad request accepted", x: exchange(t, h, "POST", "/api/v2/workflows/execute", token, `{"workflow": 1}`),
			edit: func(x *apitest.Exchange) {
				x.Status, x.Answer = http.StatusAccepted, []byte(`{"execution_id":"e","backend":"hatchet","status":"queued","reason":"global"}`)
			}, breaks: "outside the document"},
		{name: "unlisted path answered 200", x: exchange(t, h, "GET", "/api/v2/nothing", token, ""),
			edit: func(x *apitest.Exchange) { x.Status = http.StatusOK }, breaks: "want 404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.edit != nil {
				tt.edit(&tt.x)
			}
			err := apitest.MustNew(t, api.Document()).Check(tt.x)
			switch {
			case tt.breaks == "" && err != nil:
				t.Errorf("Check: %v", err)
			case tt.breaks != "" && (err == nil || !strings.Contains(err.Error(), tt.breaks)):
				t.Errorf("Check = %v, want an error naming %q", err, tt.breaks)
			}
		})
	}
}

// TestChangedDocumentFails checks that the service's real answers fail
// against a copy of the document with one response field changed.
func TestChangedDocumentFails(t *testing.T) {
	x := exchange(t, server(t), "GET", "/api/v2/flags", token, "")
	if err := apitest.MustNew(t, api.Document()).Check(x); err != nil {
		t.Fatalf("the document itself: %v", err)
	}
	edits := map[string][2]string{
		"field renamed":      {"        task_queue_backend: {$ref: \"#/components/schemas/Backend\"}", "        queue_backend: {$ref: \"#/components/schemas/Backend\"}"},
		"type changed":       {"        use_task_abstraction: {type: boolean}", "        use_task_abstraction: {type: string}"},
		"field now required": {"      required: [source, loaded_at, rules]", "      required: [source, loaded_at, rules, sha256]"},
	}
	for name, e := range edits {
		t.Run(name, func(t *testing.T) {
			doc := bytes.Replace(api.Document(), []byte(e[0]), []byte(e[1]), 1)
			if bytes.Equal(doc, api.Document()) {
				t.Fatalf("the document has no line %q to change", e[0])
			}
			c, err := apitest.New(doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Check(x); err == nil {
				t.Error("the changed document accepts the answer")
			}
		})
	}
}

// TestCoverage checks that an operation counts as exercised only once a
// valid request to it got a documented answer, whether the contract checks
// at the server (Handler) or at the client (Client).
func TestCoverage(t *testing.T) {
	sides := map[string]func(c *apitest.Contract, h http.Handler) (*httptest.Server, *http.Client){
		"server": func(c *apitest.Contract, h http.Handler) (*httptest.Server, *http.Client) {
			return httptest.NewServer(c.Handler(t, h)), &http.Client{Timeout: 10 * time.Second}
		},
		"client": func(c *apitest.Contract, h http.Handler) (*httptest.Server, *http.Client) {
			return httptest.NewServer(h), c.Client(t)
		},
	}
	for name, side := range sides {
		t.Run(name, func(t *testing.T) {
			c := apitest.MustNew(t, api.Document())
			ts, client := side(c, server(t))
			defer ts.Close()
			for _, path := range []string{"/api/v2/flags", "/api/v2/nothing"} {
				req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			missing := c.Unexercised()
			if slices.Contains(missing, "getFlags") || len(missing) != len(apitest.MustNew(t, api.Document()).Unexercised())-1 {
				t.Errorf("after GET /api/v2/flags and an unknown path, unexercised = %v: want all but getFlags", missing)
			}
		})
	}
}

// addField returns the JSON object b with one more field.
func addField(t *testing.T, b []byte, k, v string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m[k] = v
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
