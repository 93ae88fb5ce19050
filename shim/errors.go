package shim

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Error codes in the "code" field of an error response.
const (
	CodeBadJSON         = "bad_json"
	CodeInvalid         = "invalid_request"
	CodeUnknownWorkflow = "unknown_workflow"
	CodeNotFound        = "not_found"
	CodeTooLarge        = "body_too_large"
	CodeUnauthorized    = "unauthorized"
	CodeMethod          = "method_not_allowed"
	CodeUnavailable     = "backend_unavailable"
	CodeNotCancellable  = "not_cancellable"
	CodeInProgress      = "in_progress"
	CodeInternal        = "internal"
)

// APIError is an error with the HTTP status and code the client sees.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error returns the message.
func (e *APIError) Error() string { return e.Message }

func apiError(status int, code, msg string) *APIError {
	return &APIError{Status: status, Code: code, Message: msg}
}

// writeError writes err as {"error": {"code", "message"}}. An outage of the
// execution store or a backend is a 503; other errors that are not
// *APIError become a 500 whose message hides internals.
func writeError(w http.ResponseWriter, err error) {
	ae := errorOf(err)
	writeJSON(w, ae.Status, map[string]*APIError{"error": ae})
}

// errorOf maps err to the status and body the client sees.
func errorOf(err error) *APIError {
	var ae *APIError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, ErrStoreUnavailable):
		return apiError(http.StatusServiceUnavailable, CodeUnavailable,
			"the execution store is unavailable; retry later (with the same idempotency key)")
	case errors.Is(err, ErrUnavailable):
		return apiError(http.StatusServiceUnavailable, CodeUnavailable, "backend unavailable; retry later")
	default:
		return apiError(http.StatusInternalServerError, CodeInternal, "internal error")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
