package filewatch

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWatch reloads at the start, after a change to the file (seen by
// notification: the poll is an hour), and after the poll alone; it
// returns when its context ends.
func TestWatch(t *testing.T) {
	tests := []struct {
		name   string
		poll   time.Duration
		change bool
	}{
		{"a write is noticed", time.Hour, true},
		{"the poll reloads", 50 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "settings.json")
			if err := os.WriteFile(path, []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
			reloads := make(chan struct{}, 16)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{})
			go func() {
				defer close(done)
				Watch(ctx, path, tt.poll, slog.Default(), "test", func(context.Context) { reloads <- struct{}{} })
			}()
			wait(t, reloads, "the first reload")
			if tt.change {
				if err := os.WriteFile(path, []byte(`{"a": 1}`), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			wait(t, reloads, "a reload after the change")
			cancel()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				t.Fatal("Watch did not return after its context ended")
			}
		})
	}
}

func wait(t *testing.T, reloads <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-reloads:
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s within 5 s", what)
	}
}
