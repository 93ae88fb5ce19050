package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const testKey = "sk-test-SECRET-0123456789"

// reply is one scripted server answer.
type reply struct {
	status     int
	body       string
	retryAfter string
	delay      time.Duration
}

func ok(text string) reply {
	return reply{status: 200, body: fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion","model":"test-model",`+
		`"choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],`+
		`"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}`, text)}
}

// server is an OpenAI chat-completions endpoint that validates each request
// and answers from a script, repeating the last reply when it runs out.
type server struct {
	t       *testing.T
	key     string
	script  []reply
	calls   atomic.Int32
	lastReq atomic.Pointer[chatRequest]
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.calls.Add(1)) - 1
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		s.t.Errorf("got %s %s, want POST /v1/chat/completions", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		s.t.Errorf("Content-Type = %q", ct)
	}
	wantAuth := ""
	if s.key != "" {
		wantAuth = "Bearer " + s.key
	}
	if got := r.Header.Get("Authorization"); got != wantAuth {
		s.t.Errorf("Authorization = %q, want %q", got, wantAuth)
	}
	var req chatRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.t.Errorf("request body: %v", err)
	}
	if req.Model == "" || len(req.Messages) == 0 || req.Stream {
		s.t.Errorf("bad request shape: %+v", req)
	}
	for _, m := range req.Messages {
		if m.Role != RoleSystem && m.Role != RoleUser && m.Role != RoleAssistant {
			s.t.Errorf("bad role %q", m.Role)
		}
	}
	s.lastReq.Store(&req)
	rep := s.script[min(n, len(s.script)-1)]
	if rep.delay > 0 {
		select {
		case <-time.After(rep.delay):
		case <-r.Context().Done():
			return
		}
	}
	if rep.retryAfter != "" {
		w.Header().Set("Retry-After", rep.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = w.Write([]byte(rep.body))
}

func newTestClient(t *testing.T, key string, script []reply, opts ...Option) (*Client, *server) {
	t.Helper()
	s := &server{t: t, key: key, script: script}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	base := []Option{WithBackoff(time.Millisecond, 5*time.Millisecond), WithMaxRetries(3)}
	if key != "" {
		base = append(base, WithAPIKey(key))
	}
	c, err := New(ts.URL+"/v1/", "test-model", append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func TestComplete(t *testing.T) {
	c, s := newTestClient(t, testKey, []reply{ok("Invoice total: 42")}, WithTemperature(0), WithMaxTokens(64))
	resp, err := c.Complete(context.Background(), []Message{
		{Role: RoleSystem, Content: "You extract fields."},
		{Role: RoleUser, Content: "What is the total?"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Response{Text: "Invoice total: 42", FinishReason: "stop", Model: "test-model",
		Usage: Usage{PromptTokens: 12, CompletionTokens: 5, TotalTokens: 17}, Attempts: 1}
	if *resp != want {
		t.Fatalf("got %+v, want %+v", *resp, want)
	}
	req := s.lastReq.Load()
	if req.Temperature == nil || *req.Temperature != 0 || req.MaxTokens != 64 || len(req.Messages) != 2 {
		t.Fatalf("request = %+v", req)
	}
}

func TestCompleteWithoutKeySendsNoAuthorization(t *testing.T) {
	c, _ := newTestClient(t, "", []reply{ok("hi")})
	if _, err := c.Complete(context.Background(), []Message{{Role: RoleUser, Content: "hello"}}); err != nil {
		t.Fatal(err)
	}
}

func TestPromptLayout(t *testing.T) {
	c, s := newTestClient(t, testKey, []reply{ok("42")})
	if _, err := c.Prompt(context.Background(), "Be terse.", "Find the total.", "Total: 42 EUR"); err != nil {
		t.Fatal(err)
	}
	req := s.lastReq.Load()
	want := []Message{
		{Role: RoleSystem, Content: "Be terse."},
		{Role: RoleUser, Content: "Find the total.\n\nContext:\n---------------\nTotal: 42 EUR\n-----------------\n\nAnswer:"},
	}
	if len(req.Messages) != 2 || req.Messages[0] != want[0] || req.Messages[1] != want[1] {
		t.Fatalf("messages = %q", req.Messages)
	}
}

func TestCompleteRetries(t *testing.T) {
	tests := []struct {
		name     string
		script   []reply
		wantErr  error
		wantCode int
		calls    int
	}{
		{"429 then 200", []reply{{status: 429, body: `{"error":{"message":"slow down","type":"rate_limit"}}`, retryAfter: "0"}, ok("done")}, nil, 0, 2},
		{"500 502 then 200", []reply{{status: 500, body: "boom"}, {status: 502, body: "bad gateway"}, ok("done")}, nil, 0, 3},
		{"500 forever", []reply{{status: 500, body: `{"error":"overloaded"}`}}, ErrRetriesExhausted, 500, 4},
		{"400 not retried", []reply{{status: 400, body: `{"error":{"message":"bad model","type":"invalid_request_error"}}`}}, nil, 400, 1},
		{"401 not retried", []reply{{status: 401, body: `{"error":{"message":"no key"}}`}}, nil, 401, 1},
		{"malformed json", []reply{{status: 200, body: `{"choices": [`}}, ErrBadResponse, 0, 1},
		{"no choices", []reply{{status: 200, body: `{"choices": []}`}}, ErrBadResponse, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s := newTestClient(t, testKey, tt.script)
			resp, err := c.Complete(context.Background(), []Message{{Role: RoleUser, Content: "q"}})
			if got := int(s.calls.Load()); got != tt.calls {
				t.Errorf("server saw %d calls, want %d", got, tt.calls)
			}
			if tt.wantErr == nil && tt.wantCode == 0 {
				if err != nil || resp.Text != "done" || resp.Attempts != tt.calls {
					t.Fatalf("got %+v, %v", resp, err)
				}
				return
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			var apiErr *APIError
			if tt.wantCode != 0 && (!errors.As(err, &apiErr) || apiErr.StatusCode != tt.wantCode) {
				t.Fatalf("error %v, want APIError %d", err, tt.wantCode)
			}
		})
	}
}

func TestAPIErrorFields(t *testing.T) {
	c, _ := newTestClient(t, testKey, []reply{{status: 404, body: `{"error":{"message":"model nope does not exist","type":"invalid_request_error"}}`}})
	_, err := c.Complete(context.Background(), []Message{{Role: RoleUser, Content: "q"}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v is not an *APIError", err)
	}
	if apiErr.StatusCode != 404 || apiErr.Type != "invalid_request_error" || apiErr.Message != "model nope does not exist" {
		t.Fatalf("got %+v", apiErr)
	}
	if errors.Is(err, ErrRetriesExhausted) {
		t.Fatal("a 404 must not count as exhausted retries")
	}
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	c, s := newTestClient(t, testKey, []reply{{status: 200, delay: time.Minute}, ok("done")},
		WithTimeout(50*time.Millisecond))
	resp, err := c.Complete(context.Background(), []Message{{Role: RoleUser, Content: "q"}})
	if err != nil || resp.Text != "done" || s.calls.Load() != 2 {
		t.Fatalf("got %+v, %v after %d calls", resp, err, s.calls.Load())
	}
}

func TestAttemptTimeoutExhausts(t *testing.T) {
	c, _ := newTestClient(t, testKey, []reply{{status: 200, delay: time.Minute}},
		WithTimeout(20*time.Millisecond), WithMaxRetries(1))
	_, err := c.Complete(context.Background(), []Message{{Role: RoleUser, Content: "q"}})
	if !errors.Is(err, ErrRetriesExhausted) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want exhausted retries after deadline", err)
	}
}

func TestCallerCancelStopsRetrying(t *testing.T) {
	c, s := newTestClient(t, testKey, []reply{{status: 503, body: "down", retryAfter: "60"}},
		WithBackoff(time.Millisecond, time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for s.calls.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.Complete(ctx, []Message{{Role: RoleUser, Content: "q"}})
	if !errors.Is(err, context.Canceled) || s.calls.Load() != 1 {
		t.Fatalf("error %v after %d calls, want context.Canceled after 1", err, s.calls.Load())
	}
}

func TestKeyNeverLeaks(t *testing.T) {
	echo := fmt.Sprintf(`{"error":{"message":"Incorrect API key provided: %s","type":"invalid_request_error"}}`, testKey)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, script := range [][]reply{
		{{status: 401, body: echo}},
		{{status: 500, body: echo}},
		{{status: 429, body: "key " + testKey}, ok("fine")},
	} {
		c, _ := newTestClient(t, testKey, script, WithLogger(logger), WithMaxRetries(2))
		_, err := c.Complete(context.Background(), []Message{{Role: RoleUser, Content: "q"}})
		if err != nil && strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), testKey) {
			t.Fatalf("error leaks the key: %v", err)
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Fatalf("expected retry logs, got %q", logs.String())
	}
	if strings.Contains(logs.String(), testKey) {
		t.Fatalf("logs leak the key: %s", logs.String())
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name, url, model string
		opts             []Option
	}{
		{"relative url", "/v1", "m", nil},
		{"bad scheme", "ftp://x/v1", "m", nil},
		{"empty model", "http://x/v1", " ", nil},
		{"negative retries", "http://x/v1", "m", []Option{WithMaxRetries(-1)}},
		{"zero timeout", "http://x/v1", "m", []Option{WithTimeout(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.url, tt.model, tt.opts...); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("error %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{"-4", 0},
		{"soon", 0},
		{now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.header, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	c, err := New("http://x/v1", "m", WithBackoff(100*time.Millisecond, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 40; attempt++ {
		ceiling := min(100*time.Millisecond<<min(attempt-1, 20), 2*time.Second)
		for range 20 {
			if d := c.backoff(attempt, 0); d < 0 || d > ceiling {
				t.Fatalf("attempt %d: delay %v outside [0, %v]", attempt, d, ceiling)
			}
		}
		if d := c.backoff(attempt, 1500*time.Millisecond); d < 1500*time.Millisecond {
			t.Fatalf("attempt %d: delay %v ignores Retry-After", attempt, d)
		}
		if d := c.backoff(attempt, time.Hour); d != 2*time.Second {
			t.Fatalf("attempt %d: delay %v not capped", attempt, d)
		}
	}
}
