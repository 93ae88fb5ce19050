package shim

import (
	"errors"
	"fmt"
)

// Domain errors the dispatcher and the backends return; callers branch on
// them with errors.Is. The HTTP layer maps them to status codes, the CLI to
// exit codes.
var (
	// ErrInvalidInput: the request cannot be run as given (422).
	ErrInvalidInput = errors.New("invalid input")
	// ErrUnknownWorkflow: no route has the requested workflow name (404).
	ErrUnknownWorkflow = errors.New("unknown workflow")
	// ErrNotFound: the store does not know the execution id (404).
	ErrNotFound = errors.New("execution not found")
	// ErrConflict: the request conflicts with the execution's state, e.g. its
	// idempotency key is being submitted by another request (409).
	ErrConflict = errors.New("conflict")
	// ErrNotCancellable: the execution cannot be cancelled (409); it also
	// matches ErrConflict.
	ErrNotCancellable = fmt.Errorf("%w: execution cannot be cancelled", ErrConflict)
	// ErrUnavailable: the backend could not accept or answer now (engine or
	// broker down); nothing was accepted (503).
	ErrUnavailable = errors.New("backend unavailable")
	// ErrStoreUnavailable: the execution store's database could not be
	// reached or ended the session (a Postgres restart or outage), as
	// opposed to refusing the statement (503; retry with the same key).
	ErrStoreUnavailable = errors.New("execution store unavailable")
)

// Error is a domain error whose message is meant for the client; Kind is
// one of the sentinels above and Err, when set, the cause for the log.
type Error struct {
	Kind error
	Msg  string
	Err  error
}

// Error returns the client's message.
func (e *Error) Error() string { return e.Msg }

// Is matches e's Kind and what Kind matches.
func (e *Error) Is(target error) bool { return errors.Is(e.Kind, target) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Fail returns an *Error of kind with a formatted message and cause (nil
// for none).
func Fail(kind, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// Quote quotes s for a message, cut to 80 bytes: ids and names come from
// the client.
func Quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return `"` + s + `"`
}
