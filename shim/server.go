package shim

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
)

// Decision is a routing verdict: the backend and the rule that chose it.
type Decision struct {
	Backend string `json:"backend"`
	Reason  string `json:"reason"`
}

// DecideFunc routes one request.
type DecideFunc func(workflow, org, key string, override *bool) Decision

// Server serves the shim API.
type Server struct {
	catalog  Catalog
	store    *Store
	backends map[string]Backend
	decide   DecideFunc
	flags    func() any
	tokens   [][]byte
	maxBody  int64
	fallback bool
	log      *slog.Logger
	metrics  *metrics
}

// Option configures a Server.
type Option func(*Server)

// WithTokens requires "Authorization: Bearer <one of tokens>" on every API
// request; several tokens let a rotation overlap. Empty tokens are ignored;
// with none the API is open (development only).
func WithTokens(tokens ...string) Option {
	return func(s *Server) {
		for _, t := range tokens {
			if t != "" {
				s.tokens = append(s.tokens, []byte(t))
			}
		}
	}
}

// WithMaxBody limits request bodies to n bytes (default 1 MiB).
func WithMaxBody(n int64) Option { return func(s *Server) { s.maxBody = n } }

// WithFallback sends work to the other backend when the chosen one is down.
func WithFallback(on bool) Option { return func(s *Server) { s.fallback = on } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithFlags sets the function whose value GET /api/v2/flags returns.
func WithFlags(f func() any) Option { return func(s *Server) { s.flags = f } }

// WithMetrics registers the shim's metrics on reg.
func WithMetrics(reg prometheus.Registerer) Option {
	return func(s *Server) { s.metrics = newMetrics(reg) }
}

// NewServer returns a Server routing with decide over the given backends
// (keyed BackendHatchet, BackendCelery; Celery may be absent).
func NewServer(c Catalog, store *Store, backends map[string]Backend, decide DecideFunc, opts ...Option) *Server {
	s := &Server{catalog: c, store: store, backends: backends, decide: decide, maxBody: 1 << 20, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	if s.metrics == nil {
		s.metrics = newMetrics(nil)
	}
	return s
}

// Register adds the API routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("POST /api/v2/workflows/execute", s.auth(s.execute))
	mux.Handle("GET /api/v2/workflows/executions/{id}", s.auth(s.status))
	mux.Handle("POST /api/v2/workflows/executions/{id}/cancel", s.auth(s.cancel))
	mux.Handle("GET /api/v2/workflows", s.auth(s.listWorkflows))
	mux.Handle("GET /api/v2/flags", s.auth(s.showFlags))
	for path, allow := range map[string]string{
		"/api/v2/workflows/execute":                "POST",
		"/api/v2/workflows/executions/{id}":        "GET",
		"/api/v2/workflows/executions/{id}/cancel": "POST",
		"/api/v2/workflows":                        "GET",
		"/api/v2/flags":                            "GET",
	} {
		mux.Handle(path, methodNotAllowed(allow))
	}
	mux.Handle("/api/v2/", s.auth(func(w http.ResponseWriter, r *http.Request) error {
		return apiError(http.StatusNotFound, CodeNotFound, "no such endpoint: "+r.URL.Path)
	}))
}

// handlerFunc is an API handler that reports failures as errors.
type handlerFunc func(http.ResponseWriter, *http.Request) error

// auth checks the bearer token, then runs h, writing its error as JSON.
func (s *Server) auth(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(s.tokens) > 0 && !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hatchet-worker"`)
			writeError(w, apiError(http.StatusUnauthorized, CodeUnauthorized, "missing or invalid bearer token"))
			return
		}
		if err := h(w, r); err != nil {
			s.logFailure(r, err)
			writeError(w, err)
		}
	})
}

// authorized compares the bearer token with every accepted one, in constant
// time and without stopping at a match.
func (s *Server) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	match := 0
	for _, t := range s.tokens {
		match |= subtle.ConstantTimeCompare([]byte(got), t)
	}
	return ok && match == 1
}

func (s *Server) logFailure(r *http.Request, err error) {
	var ae *APIError
	if errors.As(err, &ae) && ae.Status < 500 {
		s.log.Debug("request rejected", "method", r.Method, "path", r.URL.Path, "code", ae.Code, "err", ae.Message)
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
}

// methodNotAllowed answers requests to a known path with the wrong method.
func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, apiError(http.StatusMethodNotAllowed, CodeMethod, r.Method+" is not allowed on "+r.URL.Path+"; use "+allow))
	})
}

// newID returns a new execution id.
func newID() string { return uuid.NewString() }

// backendFor returns the backend for name or a 503.
func (s *Server) backendFor(name string) (Backend, error) {
	b, ok := s.backends[name]
	if !ok {
		return nil, apiError(http.StatusServiceUnavailable, CodeUnavailable, name+" backend is not configured")
	}
	return b, nil
}

// Ready reports whether the store and every configured backend answer.
func (s *Server) Ready(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		return err
	}
	for name, b := range s.backends {
		if err := b.Ready(ctx); err != nil {
			return errors.New(name + ": " + err.Error())
		}
	}
	return nil
}
