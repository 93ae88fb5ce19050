// Package ops holds what the operations endpoints report: the readiness
// checks of the service's parts and the metrics registry. The shim API
// (shim/api) serves them as /healthz, /readyz and /metrics.
package ops

import (
	"context"
	"maps"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Check reports whether one dependency is ready; nil means ready.
type Check func(ctx context.Context) error

// State holds the readiness checks and the metrics registry.
type State struct {
	// Registry is where the service's metrics are registered.
	Registry *prometheus.Registry

	mu     sync.RWMutex
	checks map[string]Check
}

// New returns a State with Go runtime and process metrics registered.
func New() *State {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &State{Registry: reg, checks: map[string]Check{}}
}

// AddCheck adds (or replaces) the readiness check called name.
func (s *State) AddCheck(name string, c Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[name] = c
}

// RemoveCheck removes a readiness check, e.g. when shutting down.
func (s *State) RemoveCheck(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.checks, name)
}

// Readiness is the outcome of every readiness check.
type Readiness struct {
	// Ready is true when there are checks and every one passed.
	Ready bool `json:"ready"`
	// Checks holds "ok" or the error of each check, by name; with no
	// checks yet, "service": "starting".
	Checks map[string]string `json:"checks"`
}

// Ready runs every check.
func (s *State) Ready(ctx context.Context) Readiness {
	s.mu.RLock()
	checks := maps.Clone(s.checks)
	s.mu.RUnlock()
	if len(checks) == 0 {
		return Readiness{Checks: map[string]string{"service": "starting"}}
	}
	r := Readiness{Ready: true, Checks: make(map[string]string, len(checks))}
	for name, check := range checks {
		if err := check(ctx); err != nil {
			r.Checks[name], r.Ready = err.Error(), false
			continue
		}
		r.Checks[name] = "ok"
	}
	return r
}
