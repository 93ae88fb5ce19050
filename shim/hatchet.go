package shim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/google/uuid"
	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

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
	if notYetVisible(err) {
		st.State, st.BackendState = StateQueued, string(rest.V1TaskStatusQUEUED)
		return st, nil
	}
	if err != nil {
		return Status{}, fmt.Errorf("%w: read hatchet run %s: %w", ErrUnavailable, e.BackendRef, err)
	}
	run := d.Run
	st.BackendState = string(run.Status)
	st.State = hatchetState(run.Status)
	st.StartedAt, st.FinishedAt = run.StartedAt, run.FinishedAt
	if run.Status == rest.V1TaskStatusCOMPLETED {
		if b, err := json.Marshal(run.Output); err == nil {
			st.Result = b
		}
	}
	if run.ErrorMessage != nil && *run.ErrorMessage != "" {
		st.Error = &FailureInfo{Message: *run.ErrorMessage}
	} else if run.Status == rest.V1TaskStatusFAILED {
		st.Error = &FailureInfo{Message: taskErrors(d.Tasks)}
	}
	return st, nil
}

// notYetVisible reports the API's 404 for a run it has created but not yet
// indexed; the SDK only says so in its error text.
func notYetVisible(err error) bool {
	return err != nil && strings.Contains(err.Error(), "got status 404")
}

func taskErrors(tasks []rest.V1TaskSummary) string {
	var msgs []string
	for _, t := range tasks {
		if t.ErrorMessage != nil && *t.ErrorMessage != "" {
			msgs = append(msgs, t.DisplayName+": "+*t.ErrorMessage)
		}
	}
	if len(msgs) == 0 {
		return "workflow run failed"
	}
	return strings.Join(msgs, "; ")
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
	id, err := uuid.Parse(e.BackendRef)
	if err != nil {
		return errors.Join(ErrNotCancellable, err)
	}
	ids := []uuid.UUID{id}
	if _, err := h.client.Runs().Cancel(ctx, rest.V1CancelTaskRequest{ExternalIds: &ids}); err != nil {
		return fmt.Errorf("%w: cancel hatchet run: %w", ErrUnavailable, err)
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
