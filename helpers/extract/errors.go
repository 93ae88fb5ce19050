package extract

import (
	"errors"
	"fmt"
)

var (
	// ErrUnsupportedFormat reports a document whose format is not handled.
	ErrUnsupportedFormat = errors.New("extract: unsupported format")
	// ErrEmpty reports a zero-byte document.
	ErrEmpty = errors.New("extract: empty document")
	// ErrCorrupt reports a document that claims a format but cannot be read
	// as one (bad PDF structure, truncated ZIP, malformed XML or CSV).
	ErrCorrupt = errors.New("extract: corrupt document")
	// ErrEncrypted reports a password-protected document.
	ErrEncrypted = errors.New("extract: encrypted document")
	// ErrTooLarge reports a document over the size limit ([WithMaxSize]).
	ErrTooLarge = errors.New("extract: document too large")
	// ErrNoText reports a readable document that yielded no text.
	ErrNoText = errors.New("extract: no text in document")
	// ErrInvalidConfig reports an extractor built with unusable settings.
	ErrInvalidConfig = errors.New("extract: invalid configuration")
)

// StatusError is an HTTP error answer from the x2text service.
type StatusError struct {
	// StatusCode is the HTTP status code.
	StatusCode int
	// Body is the start of the answer's body, with the API key redacted.
	Body string
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("extract: x2text: HTTP %d: %s", e.StatusCode, e.Body)
}
