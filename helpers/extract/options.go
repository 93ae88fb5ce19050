package extract

import (
	"log/slog"
	"net/http"
	"time"
)

// DefaultMaxSize is the default document size limit: 100 MiB.
const DefaultMaxSize = 100 << 20

// config holds the settings shared by the extractors.
type config struct {
	maxSize int64
	timeout time.Duration
	http    *http.Client
	log     *slog.Logger
}

func newConfig(opts []Option) config {
	c := config{maxSize: DefaultMaxSize, timeout: 5 * time.Minute, http: &http.Client{}, log: slog.Default()}
	for _, opt := range opts {
		opt(&c)
	}
	return c
}

// Option configures an extractor. Options that do not apply to an extractor
// are ignored by it.
type Option func(*config)

// WithMaxSize sets the largest document accepted, in bytes (default
// [DefaultMaxSize]). Larger documents fail with [ErrTooLarge].
func WithMaxSize(n int64) Option {
	return func(c *config) { c.maxSize = n }
}

// WithTimeout bounds one x2text request, and one local PDF parse (default 5
// minutes). A PDF parse that overruns it fails with [ErrCorrupt]; since the
// PDF library cannot be interrupted, its goroutine is abandoned.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithHTTPClient sets the HTTP client used for x2text.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) { c.http = hc }
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.log = l }
}
