package app

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/config"
)

// TestStepIsBounded checks each stop of a shutdown returns by its deadline,
// also when the stop ignores its context, and passes its error on.
func TestStepIsBounded(t *testing.T) {
	s := &service{cfg: config.Config{Service: config.Service{ShutdownTimeout: 50 * time.Millisecond}},
		log: slog.New(slog.DiscardHandler)}
	boom := errors.New("boom")
	tests := []struct {
		name string
		stop func(context.Context) error
		want error
	}{
		{"clean", func(context.Context) error { return nil }, nil},
		{"fails", func(context.Context) error { return boom }, boom},
		{"ignores its context", func(context.Context) error { select {} }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			began := time.Now()
			err := s.step(tt.name, tt.stop)
			if took := time.Since(began); took > time.Second {
				t.Errorf("step took %s, want about its 50ms bound", took)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("step = %v, want %v", err, tt.want)
			}
		})
	}
}
