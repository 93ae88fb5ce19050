package frontdoor

import "github.com/prometheus/client_golang/prometheus"

// Outcomes of one message the front door took (the outcome label).
const (
	outcomeHatchet   = "hatchet"   // a Hatchet run was created for it
	outcomeReplayed  = "replayed"  // its task id already had a run
	outcomeForwarded = "forwarded" // it went on to the legacy twin
	outcomeRetried   = "retried"   // neither side took it now; it comes back
)

// metrics are the front door's Prometheus series.
type metrics struct {
	messages    *prometheus.CounterVec
	redelivered *prometheus.CounterVec
	results     *prometheus.CounterVec
	revokes     *prometheus.CounterVec
}

// newMetrics creates the series and registers them on reg when it is not
// nil.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "front_door_messages_total",
			Help: "Task messages the front door took, by queue and outcome (hatchet, replayed, forwarded, retried).",
		}, []string{"queue", "outcome"}),
		redelivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "front_door_redeliveries_total",
			Help: "Task messages the broker delivered again (a connection dropped before their acknowledgement), by queue.",
		}, []string{"queue"}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "front_door_results_total",
			Help: "Celery results of tasks run on Hatchet the front door stored for their callers, by state and outcome (stored, failed: tried again).",
		}, []string{"state", "outcome"}),
		revokes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "front_door_revokes_total",
			Help: "Revoked Celery tasks the front door ran on Hatchet, by outcome (cancelled, ended: the run had already ended, failed).",
		}, []string{"outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.messages, m.redelivered, m.results, m.revokes)
	}
	return m
}
