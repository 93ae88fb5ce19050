package featureflag

import (
	"log/slog"
	"time"
)

// Option configures Flags.
type Option func(*Flags)

// WithLogger sets the logger for reloads; the default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(f *Flags) {
		if l != nil {
			f.log = l
		}
	}
}

// WithKnownWorkflows makes a flags file naming any other workflow invalid.
func WithKnownWorkflows(names ...string) Option {
	return func(f *Flags) { f.known = append(f.known, names...) }
}

// WithPollInterval sets how often Watch re-reads the file in case a change
// notification was missed; the default is 5s. Non-positive values keep the
// default.
func WithPollInterval(d time.Duration) Option {
	return func(f *Flags) {
		if d > 0 {
			f.poll = d
		}
	}
}
