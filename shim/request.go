package shim

import (
	"context"
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
	// Ingress is how the request came in; empty is IngressAPI.
	Ingress string `json:"-"`

	pinned   bool                                      // set by ExecuteAs: never fall back
	handOver func(ctx context.Context) (string, error) // set by HandedOver
}

// HandedOver returns r with its work handed to its backend by submit,
// which returns the backend's ref, in place of the backend's own Submit:
// for an ingress that hands the backend its own message (the front door
// forwarding a Celery task unchanged). The record is kept as for any
// request.
func (r ExecuteRequest) HandedOver(submit func(ctx context.Context) (ref string, err error)) ExecuteRequest {
	r.handOver = submit
	return r
}

// HandOver returns the submit function HandedOver set, nil when none.
func (r ExecuteRequest) HandOver() func(ctx context.Context) (string, error) { return r.handOver }

// ingress is how r came in.
func (r ExecuteRequest) ingress() string {
	if r.Ingress == "" {
		return IngressAPI
	}
	return r.Ingress
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
