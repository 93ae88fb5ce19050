package shim

import (
	"errors"
	"net/http"

	"github.com/unstract/hatchet-worker/internal/httpjson"
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

// APIError is an error of the HTTP layer itself (body, method, token), with
// the status and code the client sees.
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

// statuses maps domain errors to their status and code, most specific
// first.
var statuses = []struct {
	kind   error
	status int
	code   string
}{
	{ErrInvalidInput, http.StatusUnprocessableEntity, CodeInvalid},
	{ErrUnknownWorkflow, http.StatusNotFound, CodeUnknownWorkflow},
	{ErrNotFound, http.StatusNotFound, CodeNotFound},
	{ErrNotCancellable, http.StatusConflict, CodeNotCancellable},
	{ErrConflict, http.StatusConflict, CodeInProgress},
	{ErrUnavailable, http.StatusServiceUnavailable, CodeUnavailable},
}

// toAPIError gives err its status, code and client message; anything that
// is neither an *APIError nor a domain *Error is a 500 hiding internals.
func toAPIError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	var de *Error
	if errors.As(err, &de) {
		for _, s := range statuses {
			if errors.Is(de, s.kind) {
				return apiError(s.status, s.code, de.Msg)
			}
		}
	}
	return apiError(http.StatusInternalServerError, CodeInternal, "internal error")
}

// writeError writes ae as {"error": {"code", "message"}}.
func writeError(w http.ResponseWriter, ae *APIError) {
	httpjson.Write(w, ae.Status, map[string]*APIError{"error": ae})
}
