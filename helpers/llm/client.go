package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls an OpenAI-compatible chat-completions endpoint. It is safe
// for concurrent use.
type Client struct {
	endpoint    string
	model       string
	apiKey      string
	timeout     time.Duration
	maxRetries  int
	baseDelay   time.Duration
	maxDelay    time.Duration
	temperature *float64
	maxTokens   int
	http        *http.Client
	log         *slog.Logger
}

// New returns a client for the server at baseURL (for example
// "https://api.openai.com/v1" or "http://localhost:11434/v1"), using model.
// It fails with [ErrInvalidConfig] on a malformed URL, an empty model or
// negative settings.
func New(baseURL, model string, opts ...Option) (*Client, error) {
	c := &Client{
		model:      model,
		timeout:    120 * time.Second,
		maxRetries: 3,
		baseDelay:  500 * time.Millisecond,
		maxDelay:   30 * time.Second,
		http:       &http.Client{},
		log:        slog.Default(),
	}
	for _, opt := range opts {
		opt(c)
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: base URL must be an absolute http(s) URL", ErrInvalidConfig)
	}
	switch {
	case strings.TrimSpace(model) == "":
		return nil, fmt.Errorf("%w: model is empty", ErrInvalidConfig)
	case c.timeout <= 0 || c.maxRetries < 0 || c.baseDelay < 0 || c.maxDelay < c.baseDelay:
		return nil, fmt.Errorf("%w: timeout, retries and backoff must be positive", ErrInvalidConfig)
	}
	c.endpoint = strings.TrimRight(u.String(), "/") + "/chat/completions"
	return c, nil
}

// Model returns the model name the client requests.
func (c *Client) Model() string { return c.model }

// Complete sends messages and returns the first choice's answer. See the
// package documentation for the retry rules and the errors returned.
func (c *Client) Complete(ctx context.Context, messages []Message) (*Response, error) {
	if len(messages) == 0 {
		return nil, fmt.Errorf("%w: no messages", ErrInvalidConfig)
	}
	body, err := c.requestBody(messages)
	if err != nil {
		return nil, err
	}
	var last error
	for attempt := 1; attempt <= c.maxRetries+1; attempt++ {
		resp, wait, err := c.attempt(ctx, body)
		if err == nil {
			resp.Attempts = attempt
			c.log.DebugContext(ctx, "llm completion", "model", c.model, "attempts", attempt,
				"prompt_tokens", resp.Usage.PromptTokens, "completion_tokens", resp.Usage.CompletionTokens)
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("llm: %s: %w", c.model, context.Cause(ctx))
		}
		if !retryable(err) {
			return nil, err
		}
		last = err
		if attempt > c.maxRetries {
			break
		}
		delay := c.backoff(attempt, wait)
		c.log.WarnContext(ctx, "llm request failed, retrying",
			"model", c.model, "attempt", attempt, "delay", delay, "error", err)
		if err := sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("llm: %s: %w", c.model, err)
		}
	}
	return nil, fmt.Errorf("%w after %d attempts: %w", ErrRetriesExhausted, c.maxRetries+1, last)
}

// Prompt asks instruction about document, building a single user message in
// the platform prompt service's layout:
//
//	{instruction}
//
//	Context:
//	---------------
//	{document}
//	-----------------
//
//	Answer:
//
// When system is not empty it is sent first as a system message.
func (c *Client) Prompt(ctx context.Context, system, instruction, document string) (*Response, error) {
	var msgs []Message
	if system != "" {
		msgs = append(msgs, Message{Role: RoleSystem, Content: system})
	}
	user := instruction + "\n\nContext:\n---------------\n" + document + "\n-----------------\n\nAnswer:"
	return c.Complete(ctx, append(msgs, Message{Role: RoleUser, Content: user}))
}

// retryable reports whether err is worth another attempt.
func retryable(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Retryable()
	}
	var netErr *networkError
	return errors.As(err, &netErr)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
