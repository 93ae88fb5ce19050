// Package ops serves the operations endpoints: /healthz (the process is up),
// /readyz (every readiness check passes) and /metrics (Prometheus text).
package ops

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/unstract/hatchet-worker/internal/httpjson"
)

// Check reports whether one dependency is ready; nil means ready.
type Check func(ctx context.Context) error

// Server holds the readiness checks and the metrics registry.
type Server struct {
	// Registry is where the service's metrics are registered.
	Registry *prometheus.Registry

	mu     sync.RWMutex
	checks map[string]Check
}

// New returns a Server with Go runtime and process metrics registered.
func New() *Server {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Server{Registry: reg, checks: map[string]Check{}}
}

// AddCheck adds (or replaces) the readiness check called name.
func (s *Server) AddCheck(name string, c Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[name] = c
}

// RemoveCheck removes a readiness check, e.g. when shutting down.
func (s *Server) RemoveCheck(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.checks, name)
}

// Register adds the three endpoints to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{Registry: s.Registry}))
}

// readyz answers 200 when every check passes, else 503, listing each check.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	s.mu.RLock()
	checks := make(map[string]Check, len(s.checks))
	for k, v := range s.checks {
		checks[k] = v
	}
	s.mu.RUnlock()
	results := make(map[string]string, len(checks))
	status := http.StatusOK
	if len(checks) == 0 {
		status = http.StatusServiceUnavailable
		results["service"] = "starting"
	}
	for name, check := range checks {
		if err := check(ctx); err != nil {
			results[name] = err.Error()
			status = http.StatusServiceUnavailable
			continue
		}
		results[name] = "ok"
	}
	httpjson.Write(w, status, map[string]any{"ready": status == http.StatusOK, "checks": results})
}
