package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxBody caps how much of a response body is read.
const maxBody = 32 << 20

// networkError is a transport failure or attempt timeout: always retryable.
type networkError struct{ err error }

func (e *networkError) Error() string { return "llm: request failed: " + e.err.Error() }
func (e *networkError) Unwrap() error { return e.err }

type chatRequest struct {
	Model       string    `json:"model"`
	Messages    []Message `json:"messages"`
	Temperature *float64  `json:"temperature,omitempty"`
	MaxTokens   int       `json:"max_tokens,omitempty"`
	Stream      bool      `json:"stream"`
}

type chatResponse struct {
	Model   string `json:"model"`
	Choices []struct {
		Message      Message `json:"message"`
		FinishReason string  `json:"finish_reason"`
	} `json:"choices"`
	Usage Usage `json:"usage"`
}

type errorBody struct {
	Error json.RawMessage `json:"error"`
}

type errorDetail struct {
	Message string `json:"message"`
	Type    string `json:"type"`
}

func (c *Client) requestBody(messages []Message) ([]byte, error) {
	body, err := json.Marshal(chatRequest{
		Model:       c.model,
		Messages:    messages,
		Temperature: c.temperature,
		MaxTokens:   c.maxTokens,
	})
	if err != nil {
		return nil, fmt.Errorf("llm: encode request: %w", err)
	}
	return body, nil
}

// attempt makes one HTTP call. It returns the server's Retry-After wait (0
// when absent) alongside any error.
func (c *Client) attempt(ctx context.Context, body []byte) (*Response, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, 0, fmt.Errorf("llm: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, 0, &networkError{err: c.redactErr(err)}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return nil, 0, &networkError{err: c.redactErr(err)}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, retryAfter(res.Header.Get("Retry-After"), time.Now()), c.apiError(res.StatusCode, data)
	}
	return c.decode(data)
}

func (c *Client) decode(data []byte) (*Response, time.Duration, error) {
	var cr chatResponse
	if err := json.Unmarshal(data, &cr); err != nil {
		return nil, 0, fmt.Errorf("%w: decode: %w", ErrBadResponse, err)
	}
	if len(cr.Choices) == 0 {
		return nil, 0, fmt.Errorf("%w: no choices", ErrBadResponse)
	}
	first := cr.Choices[0]
	return &Response{
		Text:         first.Message.Content,
		FinishReason: first.FinishReason,
		Model:        cr.Model,
		Usage:        cr.Usage,
	}, 0, nil
}

// apiError turns an error answer into an *APIError. OpenAI-style bodies
// carry {"error": {"message", "type"}}; others {"error": "text"}; anything
// else is kept as (truncated) text.
func (c *Client) apiError(status int, data []byte) *APIError {
	e := &APIError{StatusCode: status}
	var eb errorBody
	var detail errorDetail
	var text string
	switch {
	case json.Unmarshal(data, &eb) == nil && json.Unmarshal(eb.Error, &detail) == nil && detail.Message != "":
		e.Message, e.Type = detail.Message, detail.Type
	case json.Unmarshal(data, &eb) == nil && json.Unmarshal(eb.Error, &text) == nil && text != "":
		e.Message = text
	default:
		e.Message = truncate(strings.TrimSpace(string(data)), 512)
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	e.Message = c.redact(e.Message)
	return e
}

// redact removes the API key from s.
func (c *Client) redact(s string) string {
	if c.apiKey == "" {
		return s
	}
	return strings.ReplaceAll(s, c.apiKey, "[REDACTED]")
}

// redactErr returns err, or a copy of its text without the key when it
// contains it (losing the chain, which is the point).
func (c *Client) redactErr(err error) error {
	if c.apiKey == "" || !strings.Contains(err.Error(), c.apiKey) {
		return err
	}
	return fmt.Errorf("%s", c.redact(err.Error()))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
