package api

import (
	"github.com/prometheus/client_golang/prometheus"
)

// newRejected creates shim_requests_rejected_total and registers it on reg
// when it is not nil.
func newRejected(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shim_requests_rejected_total",
		Help: "API requests answered with an error (4xx or 5xx), by error code.",
	}, []string{"code"})
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}
