package ops

import (
	"context"
	"errors"
	"maps"
	"testing"
)

func TestReady(t *testing.T) {
	s := New()
	var engineErr error
	tests := []struct {
		name  string
		setup func()
		want  Readiness
	}{
		{"not ready without checks", func() {}, Readiness{Checks: map[string]string{"service": "starting"}}},
		{"ready when all pass", func() {
			s.AddCheck("engine", func(context.Context) error { return engineErr })
			s.AddCheck("worker", func(context.Context) error { return nil })
		}, Readiness{Ready: true, Checks: map[string]string{"engine": "ok", "worker": "ok"}}},
		{"one failing check", func() { engineErr = errors.New("engine down") },
			Readiness{Checks: map[string]string{"engine": "engine down", "worker": "ok"}}},
		{"removed check no longer counts", func() { s.RemoveCheck("engine") },
			Readiness{Ready: true, Checks: map[string]string{"worker": "ok"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup()
			got := s.Ready(context.Background())
			if got.Ready != tt.want.Ready || !maps.Equal(got.Checks, tt.want.Checks) {
				t.Errorf("Ready = %+v, want %+v", got, tt.want)
			}
		})
	}
}
