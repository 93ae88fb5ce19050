package platform

import (
	"errors"
	"fmt"
	"strings"
)

// ErrRefused reports a call the platform answered with a 4xx: a wrong key,
// an unknown execution, a payload it does not accept. Repeating it does not
// help.
var ErrRefused = errors.New("platform refused the call")

// ErrUnavailable reports a call that still met a 5xx or a network error when
// its retries ran out.
var ErrUnavailable = errors.New("platform internal API unavailable")

// APIError is one failed call of the internal API.
type APIError struct {
	// Method and Path name the call (Path below the base URL).
	Method, Path string
	// Status is the HTTP status, 0 for a network error.
	Status int
	// Message is the platform's error text, or the network error's.
	Message string
	// StatusLine is the answer's status ("404 Not Found"), and Body its body as
	// the platform's workers read it (at most 500 characters); both empty
	// for a network error.
	StatusLine, Body string
	// Attempts is how many times the call was sent.
	Attempts int
}

// Error says which call failed, how and how often it was tried.
func (e *APIError) Error() string {
	switch {
	case e.Status == 401 || e.Status == 403:
		return fmt.Sprintf("platform internal API %s %s: %d %s (check PLATFORM_INTERNAL_API_KEY)", e.Method, e.Path, e.Status, e.Message)
	case e.Status == 0:
		return fmt.Sprintf("platform internal API %s %s: %s (after %d attempts)", e.Method, e.Path, e.Message, e.Attempts)
	case e.Status >= 500:
		return fmt.Sprintf("platform internal API %s %s: %d %s (after %d attempts)", e.Method, e.Path, e.Status, e.Message, e.Attempts)
	default:
		return fmt.Sprintf("platform internal API %s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
	}
}

// Unwrap makes errors.Is(err, ErrRefused) hold for a 4xx and
// errors.Is(err, ErrUnavailable) for a 5xx or network error.
func (e *APIError) Unwrap() error {
	if e.Status >= 400 && e.Status < 500 {
		return ErrRefused
	}
	return ErrUnavailable
}

// workerBody is how much of an error body the platform's workers keep
// (base_client.py, _safe_get_response_text).
const workerBody = 500

// WorkerText is the failure as the platform's own workers word it
// (workers/shared/clients/base_client.py, _make_request): what their
// exception says of the same answer.
func (e *APIError) WorkerText() string {
	switch {
	case e.Status == 0:
		return "Request connection error: " + e.Message
	case e.Status == 401:
		return "Authentication failed with internal API: " + e.Body
	case e.Status >= 500:
		return "Server error: " + e.StatusLine + ": " + e.Body
	case e.Status >= 400 && e.Status != 408 && e.Status != 429:
		return "Client error: " + e.StatusLine + ": " + e.Body
	default:
		return "Request failed: " + e.StatusLine + ": " + e.Body
	}
}

// ContextFailure starts the error of an execution whose record the
// internal API did not give: the platform's workers fail the execution
// with it (workers/general/tasks.py, async_execute_bin_general).
const ContextFailure = "Failed to get execution context: "

// ContextFailureIn finds a ContextError's text in text (a failed run's
// error, which may name its task first) and returns it from
// ContextFailure on.
func ContextFailureIn(text string) (string, bool) {
	i := strings.Index(text, ContextFailure)
	if i < 0 {
		return "", false
	}
	return text[i:], true
}

// ContextError is the failure of an execution whose record the internal
// API did not give; its text is the platform workers' own.
type ContextError struct {
	// Err is the failed read.
	Err error
}

// Error is ContextFailure followed by the read's failure, as the
// platform's workers word it.
func (e *ContextError) Error() string {
	var apiErr *APIError
	if errors.As(e.Err, &apiErr) {
		return ContextFailure + apiErr.WorkerText()
	}
	return ContextFailure + e.Err.Error()
}

// Unwrap returns the failed read.
func (e *ContextError) Unwrap() error { return e.Err }
