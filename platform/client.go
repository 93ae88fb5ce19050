package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Default retry policy of a Client.
const (
	// DefaultRetryFor is how long a call is retried on 5xx and network errors.
	DefaultRetryFor = 5 * time.Minute
	// DefaultCallTimeout bounds one attempt of a call.
	DefaultCallTimeout = 30 * time.Second
	minBackoff         = 500 * time.Millisecond
	maxBackoff         = 10 * time.Second
	maxErrorBody       = 4 << 10
)

// Client calls the platform backend's internal API (INTERNAL_API_BASE_URL,
// e.g. http://unstract-backend:8000/internal) with its service key
// (INTERNAL_SERVICE_API_KEY).
type Client struct {
	base     *url.URL
	key      string
	http     *http.Client
	retryFor time.Duration
	timeout  time.Duration
	log      *slog.Logger
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: one with no overall timeout;
// each attempt is bounded by WithCallTimeout).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithRetryFor sets how long a call is retried on 5xx and network errors
// (default DefaultRetryFor); 0 sends each call once.
func WithRetryFor(d time.Duration) Option { return func(c *Client) { c.retryFor = d } }

// WithCallTimeout bounds one attempt of a call (default DefaultCallTimeout).
func WithCallTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithLogger sets the logger retries are logged to (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// NewClient returns a client of the internal API at baseURL, authenticated
// with key.
func NewClient(baseURL, key string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("platform internal API URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("platform internal API URL %q: want http(s)://host/…", baseURL)
	}
	if key == "" {
		return nil, errors.New("platform internal API key is empty")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	c := &Client{base: u, key: key, http: &http.Client{}, retryFor: DefaultRetryFor, timeout: DefaultCallTimeout, log: slog.Default()}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// call is one request of the internal API.
type call struct {
	method string
	// path is below the base URL, e.g. "v1/workflow-execution/ID/update_status/".
	path string
	// org goes in X-Organization-ID.
	org  string
	body any
	// out receives the decoded JSON answer; nil ignores it.
	out any
	// retrying, when set, is told of each failed attempt that will be retried.
	retrying func(err error)
	// retryFor, when set, replaces the client's retry budget.
	retryFor time.Duration
	// applied, when set, is asked before a retry whether the platform took
	// the call after all (its answer was lost); a call that is not
	// idempotent then is not sent again.
	applied func(ctx context.Context) (bool, error)
}

// do sends c, retrying 5xx and network errors with backoff until the
// client's retry budget or ctx runs out. A 4xx is returned at once.
func (cl *Client) do(ctx context.Context, c call) error {
	var body []byte
	if c.body != nil {
		var err error
		if body, err = json.Marshal(c.body); err != nil {
			return fmt.Errorf("platform %s %s: encode body: %w", c.method, c.path, err)
		}
	}
	budget := cl.retryFor
	if c.retryFor > 0 {
		budget = c.retryFor
	}
	deadline := time.Now().Add(budget)
	for attempt := 1; ; attempt++ {
		apiErr := cl.once(ctx, c, body)
		if apiErr == nil {
			return nil
		}
		apiErr.Attempts = attempt
		if errors.Is(apiErr, ErrRefused) {
			return apiErr
		}
		wait := backoff(attempt)
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", apiErr, ctx.Err())
		}
		if time.Now().Add(wait).After(deadline) {
			return apiErr
		}
		cl.log.Warn("platform internal API call failed; retrying", "method", c.method, "path", c.path, "attempt", attempt, "retry_in", wait, "error", apiErr.Message, "status", apiErr.Status)
		if c.retrying != nil {
			c.retrying(apiErr)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", apiErr, ctx.Err())
		case <-time.After(wait):
		}
		if c.applied != nil {
			if done, err := c.applied(ctx); err != nil {
				return fmt.Errorf("%w; check whether it was applied: %w", apiErr, err)
			} else if done {
				return nil
			}
		}
	}
}

// once sends one attempt; nil means a 2xx whose body decoded into c.out.
func (cl *Client) once(ctx context.Context, c call, body []byte) *APIError {
	fail := func(status int, msg string) *APIError {
		return &APIError{Method: c.method, Path: c.path, Status: status, Message: msg}
	}
	ctx, cancel := context.WithTimeout(ctx, cl.timeout)
	defer cancel()
	u := cl.base.ResolveReference(&url.URL{Path: strings.TrimPrefix(pathOnly(c.path), "/"), RawQuery: queryOf(c.path)})
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, u.String(), rd)
	if err != nil {
		return fail(400, err.Error())
	}
	req.Header.Set("Authorization", "Bearer "+cl.key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.org != "" {
		req.Header.Set("X-Organization-ID", c.org)
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		return fail(0, err.Error())
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode >= 300 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		apiErr := fail(resp.StatusCode, errorText(resp.Status, raw))
		apiErr.StatusLine, apiErr.Body = resp.Status, workerView(raw)
		return apiErr
	}
	if c.out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(c.out); err != nil {
		return fail(resp.StatusCode, "decode answer: "+err.Error())
	}
	return nil
}

// errorText is the platform's error message from an error body: its
// {"error", "detail"} fields, a serializer's field errors, or the text.
func errorText(status string, raw []byte) string {
	var v map[string]any
	if json.Unmarshal(raw, &v) == nil && len(v) > 0 {
		msg, _ := v["error"].(string)
		if msg == "" {
			msg, _ = v["message"].(string)
		}
		if d, ok := v["detail"].(string); ok && d != "" {
			if msg != "" {
				msg += ": "
			}
			msg += d
		}
		if msg != "" {
			return msg
		}
		return strings.TrimSpace(string(raw))
	}
	if t := strings.TrimSpace(string(raw)); t != "" {
		return t
	}
	return status
}

// workerView is an error body as the platform's workers quote it: its
// first 500 characters, then "... (truncated)".
func workerView(raw []byte) string {
	text := []rune(strings.ToValidUTF8(string(raw), "\uFFFD"))
	if len(text) > workerBody {
		return string(text[:workerBody]) + "... (truncated)"
	}
	return string(text)
}

// backoff is the wait before attempt+1: doubling from 500 ms up to 10 s,
// with equal jitter so that many workers retrying spread out.
func backoff(attempt int) time.Duration {
	d := maxBackoff
	if attempt < 6 {
		d = min(minBackoff<<(attempt-1), maxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

func queryOf(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[i+1:]
	}
	return ""
}
