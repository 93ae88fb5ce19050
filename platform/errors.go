package platform

import (
	"errors"
	"fmt"
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
