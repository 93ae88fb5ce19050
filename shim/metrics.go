package shim

import "github.com/prometheus/client_golang/prometheus"

// dispatchMetrics are the Dispatcher's Prometheus series.
type dispatchMetrics struct {
	decisions *prometheus.CounterVec
	accepted  *prometheus.CounterVec
	unknown   *prometheus.CounterVec
}

// newDispatchMetrics creates the series and registers them on reg when it
// is not nil.
func newDispatchMetrics(reg prometheus.Registerer) *dispatchMetrics {
	m := &dispatchMetrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shim_routing_decisions_total",
			Help: "Routing decisions by workflow, chosen backend and the rule that chose it.",
		}, []string{"workflow", "backend", "reason"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shim_executions_accepted_total",
			Help: "Executions durably accepted by a backend (202), by workflow and backend.",
		}, []string{"workflow", "backend"}),
		unknown: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shim_executions_unknown_total",
			Help: "Accepted executions their backend could no longer show, counted once each, by workflow, backend and reason.",
		}, []string{"workflow", "backend", "reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.decisions, m.accepted, m.unknown)
	}
	return m
}

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
