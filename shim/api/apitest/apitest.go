// Package apitest holds tests to the shim API's OpenAPI document
// (shim/api/openapi.yaml, api.Document): a Contract checks every request a
// test sends and every answer the service gives against it, and tells
// which documented operations the tests exercised.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Contract checks traffic against one OpenAPI document and counts the
// operations it saw exercised.
type Contract struct {
	doc    *openapi3.T
	router routers.Router

	mu   sync.Mutex
	seen map[string]bool // operationId → exercised by a valid request and answer
}

// New returns the Contract of doc (YAML or JSON), after checking that doc
// is a valid OpenAPI 3.1 document.
func New(doc []byte) (*Contract, error) {
	loader := openapi3.NewLoader()
	d, err := loader.LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("load OpenAPI document: %w", err)
	}
	if !d.IsOpenAPI31OrLater() || d.IsOpenAPI32OrLater() {
		return nil, fmt.Errorf("OpenAPI document is version %s, want 3.1", d.OpenAPI)
	}
	if err := d.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("invalid OpenAPI 3.1 document: %w", err)
	}
	r, err := legacy.NewRouter(d)
	if err != nil {
		return nil, fmt.Errorf("route OpenAPI document: %w", err)
	}
	return &Contract{doc: d, router: r, seen: map[string]bool{}}, nil
}

// MustNew is New for a test: it fails t when doc does not load.
func MustNew(t testing.TB, doc []byte) *Contract {
	t.Helper()
	c, err := New(doc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Exchange is one request and the answer to it.
type Exchange struct {
	Request *http.Request
	Body    []byte // the request's body
	Status  int
	Header  http.Header
	Answer  []byte // the response's body
}

// Check reports how x breaks the document, nil when it keeps it:
//   - a request the document describes must get one of its operation's
//     documented answers;
//   - a request it does not describe (a bad body, a missing parameter) must
//     be refused with a documented 4xx answer;
//   - a path or method it does not list must answer 404 or 405 with the
//     Error body.
func (c *Contract) Check(x Exchange) error {
	x.Request = asServed(x.Request)
	route, params, err := c.router.FindRoute(x.Request)
	if err != nil {
		return c.checkUnlisted(x, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: withBody(x.Request, x.Body), PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	reqErr := openapi3filter.ValidateRequest(x.Request.Context(), in)
	if reqErr != nil && (x.Status < 400 || x.Status >= 500) {
		return fmt.Errorf("%s %s is outside the document (%w), yet answered %d", x.Request.Method, x.Request.URL.Path, reqErr, x.Status)
	}
	err = openapi3filter.ValidateResponse(x.Request.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: x.Status, Header: x.Header, Body: io.NopCloser(bytes.NewReader(x.Answer)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	if err != nil {
		return fmt.Errorf("%s %s answered %d outside the document: %w\nbody: %s", x.Request.Method, x.Request.URL.Path, x.Status, err, x.Answer)
	}
	if reqErr == nil {
		c.mu.Lock()
		c.seen[route.Operation.OperationID] = true
		c.mu.Unlock()
	}
	return nil
}

// checkUnlisted checks the answer to a request the document lists no
// operation for: 404 for a path, 405 for a method of a listed path, with
// the Error body; a path that is not clean may instead be redirected to its
// clean form, as net/http does.
func (c *Contract) checkUnlisted(x Exchange, routeErr error) error {
	if x.Status == http.StatusTemporaryRedirect || x.Status == http.StatusMovedPermanently {
		if loc := x.Header.Get("Location"); loc == "" || path.Clean(x.Request.URL.Path) == x.Request.URL.Path {
			return fmt.Errorf("%s %s redirected to %q: only a path that is not clean may be", x.Request.Method, x.Request.URL.Path, loc)
		}
		return nil
	}
	want := http.StatusNotFound
	if c.listsPath(x.Request) {
		want = http.StatusMethodNotAllowed
	}
	if x.Status != want {
		return fmt.Errorf("%s %s is not in the document (%v): want %d, got %d", x.Request.Method, x.Request.URL.Path, routeErr, want, x.Status)
	}
	schema := c.doc.Components.Schemas["Error"]
	v, err := decodeJSON(x.Answer)
	if err == nil {
		err = schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
	}
	if err != nil {
		return fmt.Errorf("%s %s answered %d without the Error body: %w\nbody: %s", x.Request.Method, x.Request.URL.Path, x.Status, err, x.Answer)
	}
	return nil
}

// listsPath reports whether the document lists r's path with some method.
func (c *Contract) listsPath(r *http.Request) bool {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, _, err := c.router.FindRoute(r2); err == nil {
			return true
		}
	}
	return false
}

// Unexercised lists the documented operations (by operationId) that no
// checked exchange has exercised with a valid request, sorted.
func (c *Contract) Unexercised() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, item := range c.doc.Paths.Map() {
		for _, op := range item.Operations() {
			if !c.seen[op.OperationID] {
				out = append(out, op.OperationID)
			}
		}
	}
	slices.Sort(out)
	return out
}

// RequireCoverage fails t for each documented operation no exchange
// exercised.
func (c *Contract) RequireCoverage(t testing.TB) {
	t.Helper()
	if missing := c.Unexercised(); len(missing) > 0 {
		t.Errorf("documented operations no test exercised: %v", missing)
	}
}

// Handler serves h, checking each exchange against the document and
// failing t for each one that breaks it.
func (c *Contract) Handler(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("apitest: read request body: %v", err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, withBody(r, body))
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		if err := c.Check(Exchange{Request: r, Body: body, Status: rec.Code, Header: rec.Header(), Answer: rec.Body.Bytes()}); err != nil {
			t.Errorf("apitest: %v", err)
		}
	})
}

// Client returns an HTTP client whose exchanges are checked against the
// document, failing t for each one that breaks it: for a service in
// another process.
func (c *Contract) Client(t testing.TB) *http.Client {
	return &http.Client{Transport: &transport{c: c, t: t, next: http.DefaultTransport}}
}

// transport checks each exchange it carries.
type transport struct {
	c    *Contract
	t    testing.TB
	next http.RoundTripper
}

// RoundTrip sends r and checks the exchange.
func (tr *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, fmt.Errorf("apitest: read request body: %w", err)
		}
		r = withBody(r, body)
	}
	resp, err := tr.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("apitest: read response body: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	if err := tr.c.Check(Exchange{Request: r, Body: body, Status: resp.StatusCode, Header: resp.Header, Answer: answer}); err != nil {
		tr.t.Errorf("apitest: %v", err)
	}
	return resp, nil
}

// asServed returns r as a server sees it: a client's absolute URL cut to
// its path and query, which the document's server ("/") matches.
func asServed(r *http.Request) *http.Request {
	r2 := r.Clone(r.Context())
	r2.URL = &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	return r2
}

// withBody returns a shallow copy of r that reads body.
func withBody(r *http.Request, body []byte) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	return r2
}

// decodeJSON decodes one JSON value.
func decodeJSON(b []byte) (any, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	return v, nil
}
