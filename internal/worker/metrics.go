package worker

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus series of workflow registration and runs, for
// the service's /metrics and the workflows commands.
type Metrics struct {
	// Registrations counts workflow registrations by workflow and result
	// ("ok" or "error").
	Registrations *prometheus.CounterVec
	// RunDuration is how long `workflows test` runs took from trigger to
	// their final state, by workflow and status ("completed", "failed",
	// "cancelled", "timeout", "interrupted").
	RunDuration *prometheus.HistogramVec
	// TaskDuration is how long this worker's task executions took, by
	// action ("workflow:task") and result ("ok", "error").
	TaskDuration *prometheus.HistogramVec
}

var durationBuckets = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}

// NewMetrics creates the series and registers them on reg when it is not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Registrations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hatchet_worker_workflow_registrations_total",
			Help: "Workflow registrations with the Hatchet engine, by workflow and result (ok, error).",
		}, []string{"workflow", "result"}),
		RunDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hatchet_worker_workflow_run_duration_seconds",
			Help:    "Duration of workflow runs from trigger to final state, by workflow and status.",
			Buckets: durationBuckets,
		}, []string{"workflow", "status"}),
		TaskDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hatchet_worker_task_duration_seconds",
			Help:    "Duration of task executions on this worker, by action (workflow:task) and result.",
			Buckets: durationBuckets,
		}, []string{"action", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.Registrations, m.RunDuration, m.TaskDuration)
	}
	return m
}

// Registered counts one registration of workflow; nil m records nothing.
func (m *Metrics) Registered(workflow string, err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.Registrations.WithLabelValues(workflow, result).Inc()
}

// Ran records one run of workflow ending in status; nil m records nothing.
func (m *Metrics) Ran(workflow, status string, took time.Duration) {
	if m == nil {
		return
	}
	m.RunDuration.WithLabelValues(workflow, status).Observe(took.Seconds())
}

// taskDone records one task execution; nil m records nothing.
func (m *Metrics) taskDone(action string, err error, took time.Duration) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.TaskDuration.WithLabelValues(action, result).Observe(took.Seconds())
}
