package shim

import (
	"encoding/json"
	"strings"
)

// ExecuteRequest is the body of POST /api/v2/workflows/execute.
type ExecuteRequest struct {
	Workflow       string          `json:"workflow"`
	Input          json.RawMessage `json:"input"`
	OrganizationID string          `json:"organization_id"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	UseAbstraction *bool           `json:"use_abstraction,omitempty"`

	pinned bool // set by ExecuteAs: never fall back
}

// maxKeyLen bounds idempotency keys and organisation ids.
const maxKeyLen = 255

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
		return Fail(ErrInvalidInput, nil, "missing required fields: %s", strings.Join(missing, ", "))
	}
	if !json.Valid(r.Input) || r.Input[0] != '{' {
		return Fail(ErrInvalidInput, nil, "input must be a JSON object")
	}
	if len(r.OrganizationID) > maxKeyLen || len(r.IdempotencyKey) > maxKeyLen {
		return Fail(ErrInvalidInput, nil, "organization_id and idempotency_key are limited to %d bytes", maxKeyLen)
	}
	return nil
}
