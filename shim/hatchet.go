package shim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/hatchetrun"
	"github.com/unstract/hatchet-worker/internal/jsonnum"
)

// Hatchet runs executions as Hatchet workflow runs.
type Hatchet struct {
	client *hatchet.Client
	ready  func(context.Context) error
}

// NewHatchet returns the Hatchet backend; ready reports engine health.
func NewHatchet(client *hatchet.Client, ready func(context.Context) error) *Hatchet {
	return &Hatchet{client: client, ready: ready}
}

// Metadata keys attached to every run, for the dashboard's filters.
const (
	MetaOrganization = "organization_id"
	MetaExecution    = "execution_id"
	MetaSource       = "source"
	MetaReason       = "route_reason"
	MetaWorkflow     = "shim_workflow"
)

// Submit creates the workflow run; the engine has stored it when this returns.
// Input with a whole number beyond ±2^53 is refused (422): Hatchet's Go SDK
// would hand the task other digits.
func (h *Hatchet) Submit(ctx context.Context, e Execution, r Route, input json.RawMessage) (string, error) {
	var inexact *jsonnum.InexactError
	if err := jsonnum.CheckExact(input); errors.As(err, &inexact) {
		return "", fail(ErrInvalidInput, err, "input %v", inexact)
	}
	meta := map[string]string{}
	if r.Metadata != nil {
		maps.Copy(meta, r.Metadata(input))
	}
	maps.Copy(meta, map[string]string{
		MetaOrganization: e.OrganizationID,
		MetaExecution:    e.ID,
		MetaSource:       "shim",
		MetaReason:       string(e.Reason),
		MetaWorkflow:     r.Name,
	})
	ref, err := h.client.RunNoWait(ctx, r.Hatchet, input, hatchet.WithRunMetadata(meta))
	if err != nil {
		return "", fmt.Errorf("%w: start hatchet workflow %s: %w", ErrUnavailable, r.Hatchet, err)
	}
	return ref.RunId, nil
}

// Status reads the run through the engine's REST API.
func (h *Hatchet) Status(ctx context.Context, e Execution) (Status, error) {
	st := statusOf(e)
	if e.BackendRef == "" {
		st.State, st.BackendState = StateQueued, "SUBMITTING"
		return st, nil
	}
	d, err := h.client.Runs().Get(ctx, e.BackendRef)
	if hatchetrun.NotYetVisible(err) {
		st.State, st.BackendState = StateQueued, string(rest.V1TaskStatusQUEUED)
		return st, nil
	}
	if err != nil {
		return Status{}, fmt.Errorf("%w: read hatchet run %s: %w", ErrUnavailable, e.BackendRef, err)
	}
	return withRun(st, d), nil
}

// withRun fills st from the run's details. Only an ended run has a finish
// time, and only a failed one an error: a run retrying a failed attempt is
// still running.
func withRun(st Status, d *rest.V1WorkflowRunDetails) Status {
	run := d.Run
	st.BackendState = string(run.Status)
	st.State = hatchetState(run.Status)
	st.StartedAt = run.StartedAt
	if hatchetrun.Final(run.Status) {
		st.FinishedAt = run.FinishedAt
	}
	switch run.Status {
	case rest.V1TaskStatusCOMPLETED:
		if b, err := json.Marshal(run.Output); err == nil {
			st.Result = b
		}
	case rest.V1TaskStatusFAILED:
		msg := hatchetrun.Error(d)
		if msg == "" {
			msg = "workflow run failed"
		}
		st.Error = &FailureInfo{Message: msg}
	}
	return st
}

func hatchetState(s rest.V1TaskStatus) string {
	switch s {
	case rest.V1TaskStatusRUNNING:
		return StateRunning
	case rest.V1TaskStatusCOMPLETED:
		return StateSucceeded
	case rest.V1TaskStatusFAILED:
		return StateFailed
	case rest.V1TaskStatusCANCELLED:
		return StateCancelled
	default:
		return StateQueued
	}
}

// Cancel cancels the run and its tasks.
func (h *Hatchet) Cancel(ctx context.Context, e Execution) error {
	err := hatchetrun.Cancel(ctx, h.client, e.BackendRef)
	switch {
	case errors.Is(err, hatchetrun.ErrBadID):
		return fail(ErrNotCancellable, err, "no Hatchet run recorded yet")
	case err != nil:
		return fail(ErrUnavailable, err, "%v", err)
	}
	return nil
}

// Ready reports whether the engine answers.
func (h *Hatchet) Ready(ctx context.Context) error { return h.ready(ctx) }

func statusOf(e Execution) Status {
	return Status{
		ExecutionID: e.ID, Workflow: e.Workflow, OrganizationID: e.OrganizationID,
		Backend: e.Backend, Reason: e.Reason, BackendRef: e.BackendRef, CreatedAt: e.CreatedAt,
	}
}
