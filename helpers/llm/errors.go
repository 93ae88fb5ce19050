package llm

import (
	"errors"
	"fmt"
)

var (
	// ErrRetriesExhausted reports that every attempt failed with a retryable
	// error; the last failure is wrapped alongside it.
	ErrRetriesExhausted = errors.New("llm: retries exhausted")
	// ErrBadResponse reports a successful HTTP answer whose body is not a
	// usable chat-completions response (malformed JSON, no choices).
	ErrBadResponse = errors.New("llm: bad response")
	// ErrInvalidConfig reports a client built with unusable settings.
	ErrInvalidConfig = errors.New("llm: invalid configuration")
)

// APIError is an HTTP error answer from the server. Non-retryable statuses
// are returned as an *APIError; retryable ones are wrapped in
// [ErrRetriesExhausted] once attempts run out.
type APIError struct {
	// StatusCode is the HTTP status code.
	StatusCode int
	// Message is the server's error message, with the API key redacted.
	Message string
	// Type is the server's error type (e.g. "invalid_request_error"), if any.
	Type string
}

// Error implements error.
func (e *APIError) Error() string {
	if e.Type != "" {
		return fmt.Sprintf("llm: HTTP %d (%s): %s", e.StatusCode, e.Type, e.Message)
	}
	return fmt.Sprintf("llm: HTTP %d: %s", e.StatusCode, e.Message)
}

// Retryable reports whether the status is worth retrying (429 or 5xx).
func (e *APIError) Retryable() bool {
	return e.StatusCode == 429 || e.StatusCode >= 500
}
