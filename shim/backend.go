package shim

import (
	"context"
	"encoding/json"
	"time"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/internal/hatchetrun"
	"github.com/unstract/hatchet-worker/shim/route"
)

// Backend runs executions on one system: Hatchet or legacy Celery. Its
// errors are domain errors: ErrUnavailable when it cannot accept or answer
// now, ErrInvalidInput when the input cannot run there.
type Backend interface {
	// Submit hands the work over and returns only once it is durably
	// accepted, with the backend's reference for it.
	Submit(ctx context.Context, e Execution, r route.Route, input json.RawMessage) (ref string, err error)
	// Status reports where the execution is now.
	Status(ctx context.Context, e Execution) (Status, error)
	// Cancel asks the backend to stop the execution.
	Cancel(ctx context.Context, e Execution) error
	// Ready reports whether the backend can accept work.
	Ready(ctx context.Context) error
}

// Follower is a Backend that reads many executions at once, for outcome
// tracking (see Tracker).
type Follower interface {
	// Follow returns the status of each execution of es the backend can
	// show, in a few round trips whatever their number; an execution it
	// leaves out is unchanged as far as it knows.
	Follow(ctx context.Context, es []Execution) ([]Status, error)
}

// RunFinder is a Backend that finds the work an execution handed it from the
// execution alone, for a record whose ref was never written: the request
// died, or the store failed, between the backend's acceptance and the
// record.
type RunFinder interface {
	// FindRef returns the ref of e's work, or "" when the backend has none.
	FindRef(ctx context.Context, e Execution) (string, error)
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
	ExecutionID    string              `json:"execution_id"`
	Workflow       string              `json:"workflow"`
	OrganizationID string              `json:"organization_id"`
	IdempotencyKey string              `json:"idempotency_key,omitempty"`
	Backend        featureflag.Backend `json:"backend"`
	Reason         featureflag.Reason  `json:"reason"`
	Ingress        string              `json:"ingress,omitempty"`
	State          string              `json:"status"`
	BackendState   string              `json:"backend_status"`
	BackendRef     string              `json:"backend_ref,omitempty"`
	DashboardURL   string              `json:"dashboard_url,omitempty"`
	Result         json.RawMessage     `json:"result,omitempty"`
	Error          *FailureInfo        `json:"error,omitempty"`
	// Progress counts what the runs a Hatchet execution spawned process (for
	// a workflow execution, its files: total, done, failed…); absent when
	// none.
	Progress *hatchetrun.Children `json:"progress,omitempty"`
	// CancelRequestedAt is when a cancel was last sent to its backend.
	CancelRequestedAt *time.Time `json:"cancel_requested_at,omitempty"`
	// PlatformReport is what the platform was told of the execution
	// (platform_reported, platform_error); absent when nothing was reported.
	*PlatformReport
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// Final reports whether the execution has ended (unknown counts: its
// backend cannot show it any more).
func (s Status) Final() bool { return final(s.State) }

// final reports whether state is one an execution ends in.
func final(state string) bool {
	switch state {
	case StateSucceeded, StateFailed, StateCancelled, StateUnknown:
		return true
	}
	return false
}

// FailureInfo describes why an execution failed.
type FailureInfo struct {
	Type      string `json:"type,omitempty"`
	Message   string `json:"message"`
	Traceback string `json:"traceback,omitempty"`
}

// Status is e's status as its record alone tells it, before its
// outcome or its backend add theirs.
func (e Execution) Status() Status {
	return Status{
		ExecutionID: e.ID, Workflow: e.Workflow, OrganizationID: e.OrganizationID, IdempotencyKey: e.IdempotencyKey,
		Backend: e.Backend, Reason: e.Reason, Ingress: e.Ingress, BackendRef: e.BackendRef, CreatedAt: e.CreatedAt,
		CancelRequestedAt: e.CancelRequestedAt,
	}
}
