// Package hatchet is the shim's Hatchet backend: it creates a workflow run
// per execution and reads its state, result and progress from the engine.
package hatchet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	sdk "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/hatchetrun"
	"github.com/unstract/hatchet-worker/internal/jsonnum"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/route"
)

// Backend runs executions as Hatchet workflow runs.
type Backend struct {
	client      *sdk.Client
	ready       func(context.Context) error
	lostAfter   time.Duration
	dashboard   string            // run page URL prefix; "" without HATCHET_DASHBOARD_URL
	resultTasks map[string]string // route name → task whose output is the result
	spawning    map[string]bool   // routes whose runs start runs of their own
	connected   func() error      // nil unless WithConnected
}

// DefaultLostAfter is how long after acceptance a run the engine has no
// record of still counts as being created. Hatchet's Postgres message queue
// drops a message five minutes after writing it (MessageQueueItem.expiresAt),
// so a trigger not turned into a run by then never will be.
const DefaultLostAfter = 5 * time.Minute

// Option configures the Hatchet backend.
type Option func(*Backend)

// WithConnected gives Submit a cheap check of the engine connection: while
// connected reports an error, Submit answers ErrUnavailable at once rather
// than after the SDK's retries (up to a minute).
func WithConnected(connected func() error) Option {
	return func(h *Backend) { h.connected = connected }
}

// WithLostAfter sets how long after acceptance a run the engine has no
// record of is reported queued; after that it is reported unknown
// (default DefaultLostAfter).
func WithLostAfter(d time.Duration) Option { return func(h *Backend) { h.lostAfter = d } }

// WithDashboard links each run's status to its page on the Hatchet
// dashboard at baseURL (HATCHET_DASHBOARD_URL) for tenant; an empty baseURL
// adds no link.
func WithDashboard(baseURL, tenant string) Option {
	return func(h *Backend) {
		if baseURL != "" && tenant != "" {
			h.dashboard = strings.TrimSuffix(baseURL, "/") + "/tenants/" + url.PathEscape(tenant) + "/runs/"
		}
	}
}

// WithResultTasks names, by route, the task whose output is a run's result
// when the run is read from the engine's own records (Catalog.ResultTasks),
// so that the result has the shape the engine's API gives it: the last
// task's output.
func WithResultTasks(tasks map[string]string) Option {
	return func(h *Backend) { h.resultTasks = tasks }
}

// WithProgress names the routes whose workflows start runs of their own
// (Catalog.Spawning): the status of their executions counts those runs.
func WithProgress(routes ...string) Option {
	return func(h *Backend) {
		h.spawning = map[string]bool{}
		for _, r := range routes {
			h.spawning[r] = true
		}
	}
}

// New returns the Hatchet backend; ready reports engine health.
func New(client *sdk.Client, ready func(context.Context) error, opts ...Option) *Backend {
	h := &Backend{client: client, ready: ready, lostAfter: DefaultLostAfter}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Submit creates the workflow run; the engine has stored it when this returns.
// Input with a whole number beyond ±2^53 is refused (422): Hatchet's Go SDK
// would hand the task other digits.
func (h *Backend) Submit(ctx context.Context, e shim.Execution, r route.Route, input json.RawMessage) (string, error) {
	var inexact *jsonnum.InexactError
	if err := jsonnum.CheckExact(input); errors.As(err, &inexact) {
		return "", shim.Fail(shim.ErrInvalidInput, err, "input %v", inexact)
	}
	if h.connected != nil {
		if err := h.connected(); err != nil {
			return "", fmt.Errorf("%w: %w", shim.ErrUnavailable, err)
		}
	}
	meta := map[string]string{}
	if r.Metadata != nil {
		maps.Copy(meta, r.Metadata(input))
	}
	maps.Copy(meta, map[string]string{
		route.MetaOrganization: e.OrganizationID,
		route.MetaExecution:    e.ID,
		route.MetaSource:       "shim",
		route.MetaReason:       string(e.Reason),
		route.MetaWorkflow:     r.Name,
	})
	ref, err := h.client.RunNoWait(ctx, r.Hatchet, input, sdk.WithRunMetadata(meta))
	if err != nil {
		return "", fmt.Errorf("%w: start hatchet workflow %s: %w", shim.ErrUnavailable, r.Hatchet, err)
	}
	return ref.RunId, nil
}

// Status reads the run through the engine's REST API, which answers from
// its read model. That model is filled by messages the engine may lose in a
// Postgres outage, so a run it does not show, or shows unfinished, is also
// read from the engine's own records (gRPC GetRunDetails). A run neither
// knows lostAfter after acceptance is reported unknown. A run of a
// workflow that spawns runs (WithProgress: a workflow execution, one per
// file) reports their progress.
func (h *Backend) Status(ctx context.Context, e shim.Execution) (shim.Status, error) {
	st, err := h.status(ctx, e)
	if err != nil || st.BackendRef == "" || st.State == shim.StateUnknown || !h.spawning[e.Workflow] {
		return st, err
	}
	return h.withProgress(ctx, st), nil
}

// withProgress adds the counts of the runs st's run spawned, when it
// spawned any: those its result gathered once it has succeeded (the
// engine's read model can lose a child's end in a crash), else those the
// engine lists. Progress is an extra: a failed listing leaves it out.
func (h *Backend) withProgress(ctx context.Context, st shim.Status) shim.Status {
	if c, ok := hatchetrun.Gathered(st.Result); ok && st.State == shim.StateSucceeded {
		st.Progress = &c
		return st
	}
	c, err := hatchetrun.CountChildren(ctx, h.client, st.BackendRef, st.CreatedAt.Add(-childClockSkew))
	if err == nil && c.Total > 0 {
		st.Progress = &c
	}
	return st
}

// childClockSkew widens the window children are looked for in, for clocks
// of the shim and the engine that disagree.
const childClockSkew = time.Minute

func (h *Backend) status(ctx context.Context, e shim.Execution) (shim.Status, error) {
	st := e.Status()
	if e.BackendRef == "" {
		return h.unrecorded(ctx, e)
	}
	if h.dashboard != "" {
		st.DashboardURL = h.dashboard + url.PathEscape(e.BackendRef)
	}
	d, err := h.client.Runs().Get(ctx, e.BackendRef)
	if hatchetrun.NotYetVisible(err) {
		return h.fromRecords(ctx, st)
	}
	if err != nil {
		return shim.Status{}, fmt.Errorf("%w: read hatchet run %s: %w", shim.ErrUnavailable, e.BackendRef, err)
	}
	st = withRun(st, d)
	if st.State == shim.StateSucceeded || st.State == shim.StateCancelled {
		return st, nil
	}
	return h.confirm(ctx, st), nil
}

// Reasons (error.type) of an unknown Hatchet execution.
const (
	// UnknownNotSubmitted: the request that claimed the execution never
	// recorded a run.
	UnknownNotSubmitted = "not_submitted"
	// UnknownRunNotFound: the engine accepted the run but has no record of it.
	UnknownRunNotFound = "run_not_found"
)

// unrecorded reads an execution whose record has no run id: a run created
// by a request without a claim before its id was recorded, or by one whose
// holder died between creating the run and recording it. The run is found
// by its execution_id metadata; without one it is being submitted, or was
// abandoned (see unsubmitted).
func (h *Backend) unrecorded(ctx context.Context, e shim.Execution) (shim.Status, error) {
	ref, err := h.FindRef(ctx, e)
	if err != nil {
		return shim.Status{}, err
	}
	if ref == "" {
		return h.unsubmitted(e.Status()), nil
	}
	e.BackendRef = ref
	return h.status(ctx, e)
}

// unsubmitted reports a claim without a run: being submitted, or, after
// lostAfter, abandoned by a request that lost the store mid-way.
func (h *Backend) unsubmitted(st shim.Status) shim.Status {
	st.State, st.BackendState = shim.StateQueued, "SUBMITTING"
	if time.Since(st.CreatedAt) >= h.lostAfter {
		st.State, st.BackendState = shim.StateUnknown, "NOT_SUBMITTED"
		st.Error = &shim.FailureInfo{Type: UnknownNotSubmitted, Message: "the request that claimed this execution never recorded " +
			"a Hatchet run (the shim lost its database mid-request); send the request again with the same idempotency key to submit it"}
	}
	return st
}

// fromRecords reads a run the read model does not show from the engine's
// own records: still being created until lostAfter, unknown after.
func (h *Backend) fromRecords(ctx context.Context, st shim.Status) (shim.Status, error) {
	rec, found, err := h.records(ctx, st)
	switch {
	case err != nil:
		return shim.Status{}, err
	case found:
		return rec, nil
	case time.Since(st.CreatedAt) < h.lostAfter:
		st.State, st.BackendState = shim.StateQueued, string(rest.V1TaskStatusQUEUED)
		return st, nil
	}
	st.State, st.BackendState = shim.StateUnknown, "NOT_FOUND"
	st.Error = &shim.FailureInfo{Type: UnknownRunNotFound, Message: fmt.Sprintf("the Hatchet engine has no record of run %s, "+
		"accepted %s ago: it was lost (e.g. in a Postgres outage of an engine whose message queue is Postgres) and did not run; "+
		"submit the work again with a new idempotency key", st.BackendRef, time.Since(st.CreatedAt).Round(time.Second))}
	return st, nil
}

// confirm checks a run the read model shows unfinished or failed against
// the engine's own records, which win when the two disagree on whether the
// run ended: the read model misses updates in a Postgres outage, and shows
// FAILED for an attempt the engine is about to retry (e.g. one it could not
// send to a worker that had just stopped).
func (h *Backend) confirm(ctx context.Context, st shim.Status) shim.Status {
	rec, found, err := h.records(ctx, st)
	if err != nil || !found || rec.Final() == st.Final() {
		return st
	}
	return rec
}

// records reads the run from the engine's own tables. A result gathers the
// outputs: the result task's output (WithResultTasks), the one task's
// output, or, for a run of several tasks, an object of outputs by task name.
func (h *Backend) records(ctx context.Context, st shim.Status) (shim.Status, bool, error) {
	d, found, err := hatchetrun.Details(ctx, h.client, st.BackendRef)
	if err != nil {
		return shim.Status{}, false, fmt.Errorf("%w: %w", shim.ErrUnavailable, err)
	}
	if !found {
		return st, false, nil
	}
	runStatus := d.Status
	if runStatus == rest.V1TaskStatusFAILED && !d.Done {
		runStatus = rest.V1TaskStatusRUNNING // an attempt failed; its retry follows
	}
	st.BackendState, st.State = string(runStatus), hatchetState(runStatus)
	outputs := map[string]json.RawMessage{}
	var failures []string
	for name, t := range d.TaskRuns {
		outputs[name] = t.Output
		if t.Error != nil && *t.Error != "" {
			failures = append(failures, hatchetrun.TaskFailure(name, *t.Error))
		}
	}
	switch runStatus {
	case rest.V1TaskStatusCOMPLETED:
		st.Result = h.result(st.Workflow, outputs)
	case rest.V1TaskStatusFAILED:
		st.Error = &shim.FailureInfo{Message: joinFailures(failures)}
	}
	return st, true, nil
}

// result is the output of the workflow's result task when it names one
// and the run has it, else the outputs joined.
func (h *Backend) result(workflow string, outputs map[string]json.RawMessage) json.RawMessage {
	if out, ok := outputs[h.resultTasks[workflow]]; ok {
		return out
	}
	return joinOutputs(outputs)
}

func joinOutputs(outputs map[string]json.RawMessage) json.RawMessage {
	if len(outputs) == 1 {
		for _, o := range outputs {
			return o
		}
	}
	b, err := json.Marshal(outputs)
	if err != nil {
		return nil
	}
	return b
}

func joinFailures(failures []string) string {
	if len(failures) == 0 {
		return "workflow run failed"
	}
	sort.Strings(failures)
	return strings.Join(failures, "; ")
}

// withRun fills st from the run's details. Only an ended run has a finish
// time, and only a failed one an error: a run retrying a failed attempt is
// still running.
func withRun(st shim.Status, d *rest.V1WorkflowRunDetails) shim.Status {
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
		st.Error = &shim.FailureInfo{Message: msg}
	}
	return st
}

func hatchetState(s rest.V1TaskStatus) string {
	switch s {
	case rest.V1TaskStatusRUNNING:
		return shim.StateRunning
	case rest.V1TaskStatusCOMPLETED:
		return shim.StateSucceeded
	case rest.V1TaskStatusFAILED:
		return shim.StateFailed
	case rest.V1TaskStatusCANCELLED:
		return shim.StateCancelled
	default:
		return shim.StateQueued
	}
}

// Cancel cancels the run and its tasks, then the runs it spawned (the
// engine leaves those running).
func (h *Backend) Cancel(ctx context.Context, e shim.Execution) error {
	err := hatchetrun.Cancel(ctx, h.client, e.BackendRef)
	switch {
	case errors.Is(err, hatchetrun.ErrBadID):
		return shim.Fail(shim.ErrConflict, err, "the execution's Hatchet run is not recorded yet; retry shortly")
	case err != nil:
		return shim.Fail(shim.ErrUnavailable, err, "%v", err)
	}
	if err := hatchetrun.CancelChildren(ctx, h.client, e.BackendRef, e.CreatedAt.Add(-childClockSkew)); err != nil {
		return shim.Fail(shim.ErrUnavailable, err, "%v", err)
	}
	return nil
}

// Ready reports whether the engine answers.
func (h *Backend) Ready(ctx context.Context) error { return h.ready(ctx) }
