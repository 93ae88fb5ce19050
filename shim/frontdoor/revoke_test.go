package frontdoor

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/unstract/hatchet-worker/shim"
)

// TestHandleControl cancels the runs of revoked tasks the front door ran
// on Hatchet, and nothing else: not tasks on Celery, not other commands.
// A Hatchet that is down leaves the broadcast to come again.
func TestHandleControl(t *testing.T) {
	revoke := func(ids string) amqp.Delivery {
		return amqp.Delivery{Body: []byte(`{"method": "revoke", "arguments": {"task_id": ` + ids + `, "terminate": false, "signal": "SIGTERM"},
			"destination": null, "pattern": null, "matcher": null}`)}
	}
	tests := []struct {
		name       string
		msg        amqp.Delivery
		cancelErr  error
		wantCancel []string
		outcome    string
		wantErr    bool
	}{
		{"one task", revoke(`"t-1"`), nil, []string{"e-1"}, revokeCancelled, false},
		{"a list, one on celery", revoke(`["t-celery", "t-2"]`), nil, []string{"e-2"}, revokeCancelled, false},
		{"a task on celery", revoke(`"t-celery"`), nil, nil, "", false},
		{"another command", amqp.Delivery{Body: []byte(`{"method": "ping", "arguments": {}}`)}, nil, nil, "", false},
		{"not JSON", amqp.Delivery{Body: []byte("\x80\x04")}, nil, nil, "", false},
		{"the run already ended", revoke(`"t-1"`), shim.Fail(shim.ErrNotCancellable, nil, "ended"), []string{"e-1"}, revokeEnded, false},
		{"hatchet down", revoke(`"t-1"`), shim.Fail(shim.ErrUnavailable, nil, "down"), []string{"e-1"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := &memResults{}
			for _, id := range []string{"1", "2"} {
				_ = results.Await(context.Background(), "e-"+id, Caller{TaskID: "t-" + id})
			}
			dispatch := &fakeDispatch{cancelErr: tt.cancelErr}
			d := New(nil, nil, dispatch, nil, nil, slog.Default(), WithResults(results, &fakeResultStore{}))
			if err := d.HandleControl(context.Background(), tt.msg); (err != nil) != tt.wantErr {
				t.Fatalf("HandleControl = %v, want error %v", err, tt.wantErr)
			}
			if !slices.Equal(dispatch.cancelled, tt.wantCancel) {
				t.Errorf("cancelled %v, want %v", dispatch.cancelled, tt.wantCancel)
			}
			if tt.outcome != "" {
				if n := testutil.ToFloat64(d.metrics.revokes.WithLabelValues(tt.outcome)); n != float64(len(tt.wantCancel)) {
					t.Errorf("front_door_revokes_total{outcome=%q} = %v", tt.outcome, n)
				}
			}
		})
	}
}
