package celerybridge

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are a Client's Prometheus series: what operators watch while the
// legacy workers still do the work.
type Metrics struct {
	// Sends counts Send outcomes by task and result: "confirmed",
	// "unroutable" (no such queue), "nacked" or "error".
	Sends *prometheus.CounterVec
	// Republishes counts messages sent again because the connection dropped
	// before the broker confirmed them.
	Republishes prometheus.Counter
	// Reconnects counts broker connections restored after a loss.
	Reconnects prometheus.Counter
	// WaitDuration is how long Wait took, by outcome: the task's final state
	// ("SUCCESS", "FAILURE", "REVOKED"), "timeout" or "error".
	WaitDuration *prometheus.HistogramVec
}

// NewMetrics creates the series and registers them on reg when it is not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "celerybridge_sends_total",
			Help: "Celery task messages sent, by task and result (confirmed, unroutable, nacked, error).",
		}, []string{"task", "result"}),
		Republishes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "celerybridge_republishes_total",
			Help: "Messages sent again after the broker connection dropped before their confirm.",
		}),
		Reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "celerybridge_reconnects_total",
			Help: "Broker connections restored after a loss.",
		}),
		WaitDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "celerybridge_wait_duration_seconds",
			Help:    "Time spent waiting for Celery task results, by outcome (final state, timeout, error).",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 10), // 5 ms … 22 min
		}, []string{"outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.Sends, m.Republishes, m.Reconnects, m.WaitDuration)
	}
	return m
}

// WithMetrics records the Client's sends, re-sends, reconnects and waits in m.
func WithMetrics(m *Metrics) Option { return func(c *config) { c.metrics = m } }

// sent records one Send outcome; nil m records nothing.
func (m *Metrics) sent(task string, err error) {
	if m == nil {
		return
	}
	result := "confirmed"
	switch {
	case errors.Is(err, ErrUnroutable):
		result = "unroutable"
	case errors.Is(err, ErrNacked):
		result = "nacked"
	case err != nil:
		result = "error"
	}
	m.Sends.WithLabelValues(task, result).Inc()
}

// waited records one Wait; nil m records nothing.
func (m *Metrics) waited(r Result, err error, took time.Duration) {
	if m == nil {
		return
	}
	outcome := string(r.State)
	var te *TaskError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		outcome = "timeout"
	case err != nil && !errors.As(err, &te):
		outcome = "error"
	}
	m.WaitDuration.WithLabelValues(outcome).Observe(took.Seconds())
}

func (m *Metrics) republished() {
	if m != nil {
		m.Republishes.Inc()
	}
}

func (m *Metrics) reconnected() {
	if m != nil {
		m.Reconnects.Inc()
	}
}
