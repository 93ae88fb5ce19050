package api

import (
	"errors"
	"net/http"

	"github.com/unstract/hatchet-worker/internal/httpjson"
	"github.com/unstract/hatchet-worker/shim"
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

// statuses maps domain errors to their status, code and the message of an
// error that carries none for the client (not an *Error), most specific
// first.
var statuses = []struct {
	kind   error
	status int
	code   string
	msg    string
}{
	{shim.ErrInvalidInput, http.StatusUnprocessableEntity, CodeInvalid, "invalid input"},
	{shim.ErrUnknownWorkflow, http.StatusNotFound, CodeUnknownWorkflow, "unknown workflow"},
	{shim.ErrNotFound, http.StatusNotFound, CodeNotFound, "no such execution"},
	{shim.ErrNotCancellable, http.StatusConflict, CodeNotCancellable, "the execution cannot be cancelled"},
	{shim.ErrConflict, http.StatusConflict, CodeInProgress, "conflict"},
	{shim.ErrStoreUnavailable, http.StatusServiceUnavailable, CodeUnavailable,
		"the execution store is unavailable; retry later (with the same idempotency key)"},
	{shim.ErrUnavailable, http.StatusServiceUnavailable, CodeUnavailable, "backend unavailable; retry later"},
}

// toAPIError gives err its status, code and client message: a domain *Error
// keeps its message, another error of a domain kind gets the kind's; any
// other error is a 500 hiding internals.
func toAPIError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	var de *shim.Error
	for _, s := range statuses {
		switch {
		case !errors.Is(err, s.kind):
		case errors.As(err, &de):
			return apiError(s.status, s.code, de.Msg)
		default:
			return apiError(s.status, s.code, s.msg)
		}
	}
	return apiError(http.StatusInternalServerError, CodeInternal, "internal error")
}

// writeError writes ae as {"error": {"code", "message"}}.
func writeError(w http.ResponseWriter, ae *APIError) {
	httpjson.Write(w, ae.Status, map[string]*APIError{"error": ae})
}
