package shim

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Backend names, as returned in "backend".
const (
	BackendHatchet = "hatchet"
	BackendCelery  = "celery"
)

// ErrUnavailable wraps a backend failure that means "could not accept the
// work now" (engine or broker down); the shim answers 503 or falls back.
var ErrUnavailable = errors.New("backend unavailable")

// ErrNotCancellable reports an execution its backend cannot cancel.
var ErrNotCancellable = errors.New("execution cannot be cancelled")

// Backend runs executions on one system: Hatchet or legacy Celery.
type Backend interface {
	// Submit hands the work over and returns only once it is durably
	// accepted, with the backend's reference for it.
	Submit(ctx context.Context, e Execution, r Route, input json.RawMessage) (ref string, err error)
	// Status reports where the execution is now.
	Status(ctx context.Context, e Execution) (Status, error)
	// Cancel asks the backend to stop the execution.
	Cancel(ctx context.Context, e Execution) error
	// Ready reports whether the backend can accept work.
	Ready(ctx context.Context) error
}

// States of an execution, common to both backends.
const (
	StateQueued    = "queued"
	StateRunning   = "running"
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
	StateCancelled = "cancelled"
	// StateUnknown is an accepted execution its backend cannot show any
	// more (e.g. a Hatchet run lost in a Postgres outage); error.type says
	// why and error.message what to do. It is final unless the backend
	// shows the execution again.
	StateUnknown = "unknown"
)

// Status is what GET /api/v2/workflows/executions/{id} returns.
type Status struct {
	ExecutionID    string          `json:"execution_id"`
	Workflow       string          `json:"workflow"`
	OrganizationID string          `json:"organization_id"`
	Backend        string          `json:"backend"`
	Reason         string          `json:"reason"`
	State          string          `json:"status"`
	BackendState   string          `json:"backend_status"`
	BackendRef     string          `json:"backend_ref,omitempty"`
	Result         json.RawMessage `json:"result,omitempty"`
	Error          *FailureInfo    `json:"error,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	StartedAt      *time.Time      `json:"started_at,omitempty"`
	FinishedAt     *time.Time      `json:"finished_at,omitempty"`
}

// FailureInfo describes why an execution failed.
type FailureInfo struct {
	Type      string `json:"type,omitempty"`
	Message   string `json:"message"`
	Traceback string `json:"traceback,omitempty"`
}
