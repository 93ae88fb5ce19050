package shim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/unstract/hatchet-worker/internal/jsonerr"
)

// ExecuteRequest is the body of POST /api/v2/workflows/execute.
type ExecuteRequest struct {
	Workflow       string          `json:"workflow"`
	Input          json.RawMessage `json:"input"`
	OrganizationID string          `json:"organization_id"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	UseAbstraction *bool           `json:"use_abstraction,omitempty"`
}

// maxKeyLen bounds idempotency keys and organisation ids.
const maxKeyLen = 255

// DecodeExecute reads an execute request from r, reading at most limit
// bytes. Every failure is an *APIError with the right status; the
// Dispatcher validates the fields.
func DecodeExecute(r io.Reader, limit int64) (ExecuteRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return ExecuteRequest{}, tooLarge(limit)
		}
		return ExecuteRequest{}, apiError(http.StatusBadRequest, CodeBadJSON, "could not read request body")
	}
	if int64(len(body)) > limit {
		return ExecuteRequest{}, tooLarge(limit)
	}
	var req ExecuteRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return ExecuteRequest{}, apiError(http.StatusBadRequest, CodeBadJSON, "malformed JSON: "+jsonerr.Describe(err))
	}
	if dec.More() {
		return ExecuteRequest{}, apiError(http.StatusBadRequest, CodeBadJSON, "malformed JSON: trailing data after the object")
	}
	return req, nil
}

func tooLarge(limit int64) *APIError {
	return apiError(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("request body exceeds %d bytes", limit))
}

// Validate checks the required fields and their sizes; a failure is
// ErrInvalidInput.
func (r ExecuteRequest) Validate() error {
	var missing []string
	if strings.TrimSpace(r.Workflow) == "" {
		missing = append(missing, "workflow")
	}
	if strings.TrimSpace(r.OrganizationID) == "" {
		missing = append(missing, "organization_id")
	}
	if len(r.Input) == 0 || string(r.Input) == "null" {
		missing = append(missing, "input")
	}
	if len(missing) > 0 {
		return fail(ErrInvalidInput, nil, "missing required fields: %s", strings.Join(missing, ", "))
	}
	if !json.Valid(r.Input) || r.Input[0] != '{' {
		return fail(ErrInvalidInput, nil, "input must be a JSON object")
	}
	if len(r.OrganizationID) > maxKeyLen || len(r.IdempotencyKey) > maxKeyLen {
		return fail(ErrInvalidInput, nil, "organization_id and idempotency_key are limited to %d bytes", maxKeyLen)
	}
	return nil
}
