package shim

import "github.com/prometheus/client_golang/prometheus"

// dispatchMetrics are the Dispatcher's Prometheus series.
type dispatchMetrics struct {
	decisions *prometheus.CounterVec
	accepted  *prometheus.CounterVec
	unknown   *prometheus.CounterVec
	finished  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	inFlight  *prometheus.GaugeVec
	leading   prometheus.Gauge
	// cancelsRepeated counts cancels tracking sent again.
	cancelsRepeated *prometheus.CounterVec
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
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shim_executions_finished_total",
			Help: "Accepted executions seen to end, counted once each, by workflow, backend and final state.",
		}, []string{"workflow", "backend", "state"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shim_execution_duration_seconds",
			Help:    "Time from acceptance to the end of each finished execution (queue to finish), by workflow and backend.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2.5, 12), // 0.1 s to about 6 h
		}, []string{"workflow", "backend"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shim_executions_in_flight",
			Help: "Accepted executions not yet seen to end, by backend, as of the last tracking pass (set by the replica that tracks).",
		}, []string{"backend"}),
		cancelsRepeated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shim_cancels_repeated_total",
			Help: "Cancels outcome tracking sent again because the execution still ran after its cancel, by backend.",
		}, []string{"backend"}),
		leading: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shim_tracker_leader",
			Help: "1 while this replica leads outcome tracking for the replicas sharing its store, else 0.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.decisions, m.accepted, m.unknown, m.finished, m.duration, m.inFlight, m.leading, m.cancelsRepeated)
	}
	return m
}
