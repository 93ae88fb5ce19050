// Package api is the shim's HTTP API: it authenticates each request,
// decodes it, calls the shim.Dispatcher, and answers every failure, unknown
// paths included, as a status and {"error": {"code", "message"}}.
package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/internal/bearer"
	"github.com/unstract/hatchet-worker/shim"
)

// Server serves the shim API over a Dispatcher: it authenticates, decodes,
// and maps errors to a status and a JSON body, for every path.
type Server struct {
	d        *shim.Dispatcher
	flags    *featureflag.Flags
	pinned   featureflag.Backend
	tokens   bearer.Tokens
	maxBody  int64
	log      *slog.Logger
	rejected *prometheus.CounterVec
}

// Option configures a Server.
type Option func(*Server)

// WithTokens requires "Authorization: Bearer <one of tokens>" on every API
// request; several tokens let a rotation overlap. Empty tokens are ignored;
// with none the API is open (development only).
func WithTokens(tokens ...string) Option {
	return func(s *Server) {
		s.tokens = bearer.New(tokens...)
	}
}

// WithMaxBody limits request bodies to n bytes (default 1 MiB).
func WithMaxBody(n int64) Option { return func(s *Server) { s.maxBody = n } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithFlags shows flags, and backend (TASK_QUEUE_BACKEND), at
// GET /api/v2/flags and in the migration summary.
func WithFlags(flags *featureflag.Flags, backend featureflag.Backend) Option {
	return func(s *Server) { s.flags, s.pinned = flags, backend }
}

// WithMetrics registers shim_requests_rejected_total on reg.
func WithMetrics(reg prometheus.Registerer) Option {
	return func(s *Server) { s.rejected = newRejected(reg) }
}

// NewServer returns a Server for d.
func NewServer(d *shim.Dispatcher, opts ...Option) *Server {
	s := &Server{d: d, maxBody: 1 << 20, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	if s.rejected == nil {
		s.rejected = newRejected(nil)
	}
	return s
}

// endpoints are the API's paths and their one method each.
var endpoints = map[string]string{
	"/api/v2/workflows/execute":                http.MethodPost,
	"/api/v2/workflows/executions":             http.MethodGet,
	"/api/v2/workflows/executions/{id}":        http.MethodGet,
	"/api/v2/workflows/executions/{id}/cancel": http.MethodPost,
	"/api/v2/workflows":                        http.MethodGet,
	"/api/v2/flags":                            http.MethodGet,
	"/api/v2/migration/summary":                http.MethodGet,
}

// openapiPath serves the API's OpenAPI document; it needs no token.
const openapiPath = "/api/v2/openapi.json"

// Register adds the API routes and its OpenAPI document to mux, and a JSON
// 404 for every path no other handler on mux serves.
func (s *Server) Register(mux *http.ServeMux) {
	handlers := map[string]handlerFunc{
		"/api/v2/workflows/execute":                s.execute,
		"/api/v2/workflows/executions":             s.listExecutions,
		"/api/v2/workflows/executions/{id}":        s.status,
		"/api/v2/workflows/executions/{id}/cancel": s.cancel,
		"/api/v2/workflows":                        s.listWorkflows,
		"/api/v2/flags":                            s.showFlags,
		"/api/v2/migration/summary":                s.summary,
	}
	for path, method := range endpoints {
		mux.Handle(method+" "+path, s.auth(handlers[path]))
		mux.Handle(path, s.serve(methodNotAllowed(method)))
	}
	mux.Handle("GET "+openapiPath, s.serve(s.openapi))
	mux.Handle(openapiPath, s.serve(methodNotAllowed(http.MethodGet)))
	mux.Handle("/api/v2/", s.auth(notFound))
	mux.Handle("/", s.serve(notFound))
}

// handlerFunc is an API handler that reports failures as errors.
type handlerFunc func(http.ResponseWriter, *http.Request) error

// serve runs h, writing its error as JSON.
func (s *Server) serve(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// auth checks the bearer token, then serves h.
func (s *Server) auth(h handlerFunc) http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		if !s.tokens.Authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hatchet-worker"`)
			return apiError(http.StatusUnauthorized, CodeUnauthorized, "missing or invalid bearer token")
		}
		return h(w, r)
	})
}

// fail answers err as {"error": {"code", "message"}}, counts it and logs it.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	s.rejected.WithLabelValues(ae.Code).Inc()
	if ae.Status < 500 {
		s.log.DebugContext(r.Context(), "request rejected", "method", r.Method, "path", r.URL.Path, "code", ae.Code, "err", err)
	} else {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if ae.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfter)
	}
	writeError(w, ae)
}

// retryAfter is the Retry-After of a 503, in seconds: about the time a
// reconnecting backend or store takes to come back.
const retryAfter = "5"

// methodNotAllowed answers requests to a known path with the wrong method.
func methodNotAllowed(allow string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allow)
		return apiError(http.StatusMethodNotAllowed, CodeMethod, r.Method+" is not allowed on "+r.URL.Path+"; use "+allow)
	}
}

// notFound answers a path no endpoint serves.
func notFound(_ http.ResponseWriter, r *http.Request) error {
	return apiError(http.StatusNotFound, CodeNotFound, "no such endpoint: "+shim.Quote(r.URL.Path))
}

// Ready reports whether the store and every configured backend answer.
func (s *Server) Ready(ctx context.Context) error { return s.d.Ready(ctx) }
