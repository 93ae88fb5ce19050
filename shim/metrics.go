package shim

import "github.com/prometheus/client_golang/prometheus"

// metrics are the shim's Prometheus series.
type metrics struct {
	decisions *prometheus.CounterVec
	accepted  *prometheus.CounterVec
	rejected  *prometheus.CounterVec
	unknown   *prometheus.CounterVec
}

// newMetrics creates the series and registers them on reg when it is not nil.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shim_routing_decisions_total",
			Help: "Routing decisions by workflow, chosen backend and the rule that chose it.",
		}, []string{"workflow", "backend", "reason"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shim_executions_accepted_total",
			Help: "Executions durably accepted by a backend (202), by workflow and backend.",
		}, []string{"workflow", "backend"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shim_requests_rejected_total",
			Help: "Execute requests answered with an error, by error code.",
		}, []string{"code"}),
		unknown: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shim_executions_unknown_total",
			Help: "Accepted executions their backend could no longer show, counted once each, by workflow, backend and reason.",
		}, []string{"workflow", "backend", "reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.decisions, m.accepted, m.rejected, m.unknown)
	}
	return m
}
