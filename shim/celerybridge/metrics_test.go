package celerybridge

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetricsLabels(t *testing.T) {
	sends := []struct {
		err  error
		want string
	}{
		{nil, "confirmed"},
		{fmt.Errorf("send: %w", ErrUnroutable), "unroutable"},
		{ErrNacked, "nacked"},
		{context.Canceled, "error"},
	}
	for _, tt := range sends {
		m := NewMetrics(prometheus.NewRegistry())
		m.sent("t", tt.err)
		if got := testutil.ToFloat64(m.Sends.WithLabelValues("t", tt.want)); got != 1 {
			t.Errorf("sent(%v): sends{t,%s} = %v, want 1", tt.err, tt.want, got)
		}
	}
	waits := []struct {
		r    Result
		err  error
		want string
	}{
		{Result{State: StateSuccess}, nil, "SUCCESS"},
		{Result{State: StateFailure}, &TaskError{State: StateFailure}, "FAILURE"},
		{Result{State: StateRevoked}, &TaskError{State: StateRevoked}, "REVOKED"},
		{Result{}, fmt.Errorf("wait for task x: %w", context.DeadlineExceeded), "timeout"},
		{Result{}, errors.New("read result: connection refused"), "error"},
	}
	for _, tt := range waits {
		m := NewMetrics(prometheus.NewRegistry())
		m.waited(tt.r, tt.err, time.Second)
		if n := testutil.CollectAndCount(m.WaitDuration); n != 1 {
			t.Fatalf("waited(%v): %d series, want 1", tt.err, n)
		}
		// Asking for the wanted series adds none if it was the one recorded.
		m.WaitDuration.WithLabelValues(tt.want)
		if n := testutil.CollectAndCount(m.WaitDuration); n != 1 {
			t.Errorf("waited(%v): recorded another outcome than %s", tt.err, tt.want)
		}
	}
	var none *Metrics // a Client without metrics records nothing and does not panic
	none.sent("t", nil)
	none.waited(Result{}, nil, 0)
	none.republished()
	none.reconnected()
}
