package llm

import (
	"log/slog"
	"net/http"
	"time"
)

// Option configures a [Client].
type Option func(*Client)

// WithAPIKey sets the bearer key sent in the Authorization header. Without
// it no Authorization header is sent (Ollama, llama.cpp, local vLLM).
func WithAPIKey(key string) Option {
	return func(c *Client) { c.apiKey = key }
}

// WithTimeout bounds each HTTP attempt (default 120s). The caller's context
// bounds the whole call, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) { c.timeout = d }
}

// WithMaxRetries sets how many times a retryable failure is retried after
// the first attempt (default 3; 0 disables retries).
func WithMaxRetries(n int) Option {
	return func(c *Client) { c.maxRetries = n }
}

// WithBackoff sets the base delay of the exponential backoff and the cap on
// any single wait, Retry-After included (defaults 500ms and 30s).
func WithBackoff(base, maxDelay time.Duration) Option {
	return func(c *Client) { c.baseDelay, c.maxDelay = base, maxDelay }
}

// WithHTTPClient sets the HTTP client (default: a new client with no overall
// timeout, since attempts have their own).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) { c.log = l }
}

// WithTemperature sets the sampling temperature sent with every request.
// Without it the field is omitted and the server's default applies.
func WithTemperature(t float64) Option {
	return func(c *Client) { c.temperature = &t }
}

// WithMaxTokens caps the completion length sent with every request.
// Without it the field is omitted.
func WithMaxTokens(n int) Option {
	return func(c *Client) { c.maxTokens = n }
}
