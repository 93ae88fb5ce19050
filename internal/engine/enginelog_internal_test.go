//go:build !hatchet_external

package engine

import "testing"

// TestEngineLogQuiet demotes the engine's notes of slowness and, while it
// stops, its listeners' context cancellations; real failures stay.
func TestEngineLogQuiet(t *testing.T) {
	tests := []struct {
		name     string
		event    map[string]any
		stopping bool
		want     bool
	}{
		{"scheduler pass", map[string]any{"message": "concurrency strategy 7 took longer than 100ms (130ms) to process 0 items"}, false, true},
		{"long transaction", map[string]any{"message": "long transaction start", "duration": 104.4}, false, true},
		{"slow lookup", map[string]any{"message": "slow finalized workflow runs lookup"}, false, true},
		{"listing took", map[string]any{"message": "list finalized workflow runs for 1 workflows took 145ms"}, false, true},
		{"canceled while stopping", map[string]any{"message": "error in listener", "error": "waiting for notification: context canceled"}, true, true},
		{"canceled while running", map[string]any{"message": "error in listener", "error": "waiting for notification: context canceled"}, false, false},
		{"a real failure", map[string]any{"message": "subscribe: failed to process messages", "error": "too many clients"}, true, false},
		{"slow with an error", map[string]any{"message": "query took 3s", "error": "deadline exceeded"}, false, false},
		{"API 404", map[string]any{"message": "API", "status": 404.0, "uri": "/api/v1/stable/workflow-runs/x"}, false, true},
		{"API 500", map[string]any{"message": "API", "status": 500.0}, false, false},
		{"a real warning", map[string]any{"message": "worker heartbeat interval delay"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &engineLog{}
			l.stopping.Store(tt.stopping)
			if got := l.quiet(tt.event); got != tt.want {
				t.Errorf("quiet(%v) = %v, want %v", tt.event, got, tt.want)
			}
		})
	}
}
