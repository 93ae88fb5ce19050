package frontdoor

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/workflows"
)

// fakeDispatch decides as told and records what it was asked to run.
type fakeDispatch struct {
	backend  featureflag.Backend
	err      error // ExecuteAs's answer
	replayed bool  // ExecuteAs replays an earlier execution
	fallback bool
	ran      []shim.ExecuteRequest
	recorded []shim.ExecuteRequest // executed off Hatchet

	cancelErr error // Cancel's answer
	cancelled []string
	status    *shim.Status // Status's answer; nil fails
}

func (f *fakeDispatch) Decide(req shim.ExecuteRequest) (featureflag.Decision, error) {
	return featureflag.Decision{Backend: f.backend, Reason: featureflag.ReasonGlobal, Workflow: req.Workflow}, nil
}

func (f *fakeDispatch) ExecuteAs(ctx context.Context, req shim.ExecuteRequest, dec featureflag.Decision) (shim.Accepted, error) {
	if dec.Backend != featureflag.BackendHatchet {
		return f.handOver(ctx, req, dec)
	}
	f.ran = append(f.ran, req)
	return shim.Accepted{Execution: shim.Execution{ID: "e-1", Workflow: req.Workflow}, Replayed: f.replayed}, f.err
}

// handOver records a request executed off Hatchet, as the dispatcher does:
// by its hand-over, which the front door must set.
func (f *fakeDispatch) handOver(ctx context.Context, req shim.ExecuteRequest, dec featureflag.Decision) (shim.Accepted, error) {
	submit := req.HandOver()
	if submit == nil {
		return shim.Accepted{}, errors.New("executed off hatchet without a hand-over")
	}
	ref, err := submit(ctx)
	if err != nil {
		return shim.Accepted{}, err
	}
	f.recorded = append(f.recorded, req)
	return shim.Accepted{Execution: shim.Execution{ID: "e-c", Workflow: req.Workflow, Backend: dec.Backend, BackendRef: ref}}, nil
}

func (f *fakeDispatch) Cancel(_ context.Context, id string) (shim.Execution, error) {
	f.cancelled = append(f.cancelled, id)
	return shim.Execution{ID: id}, f.cancelErr
}

func (f *fakeDispatch) Status(_ context.Context, id string) (shim.Status, error) {
	if f.status == nil {
		return shim.Status{}, errors.New("no status")
	}
	return *f.status, nil
}

func (f *fakeDispatch) Fallback(dec featureflag.Decision) (featureflag.Decision, bool) {
	return featureflag.Decision{Backend: featureflag.BackendCelery, Reason: "fallback:global", Workflow: dec.Workflow}, f.fallback
}

// fakeForward records forwards, failing with err.
type fakeForward struct {
	err  error
	sent []string // "queue task-id"
}

func (f *fakeForward) Forward(_ context.Context, d amqp.Delivery, queue string) error {
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, queue+" "+d.CorrelationId)
	return nil
}

// taskMessage is a protocol-v2 message of task with args and kwargs.
func taskMessage(id, task, args, kwargs string, headers amqp.Table) amqp.Delivery {
	h := amqp.Table{"id": id, "task": task, "retries": int32(0), "eta": nil, "expires": nil, "root_id": id}
	for k, v := range headers {
		h[k] = v
	}
	return amqp.Delivery{Headers: h, ContentType: "application/json", ContentEncoding: "utf-8", CorrelationId: id,
		Body: []byte(`[` + args + `, ` + kwargs + `, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]`)}
}

// TestHandle takes the platform's messages as the front door must: to
// Hatchet, keyed by the task id and completed with the workflow's
// settings, only when everything allows it; to the twin queue, unchanged,
// otherwise; never acknowledged before one side has it.
func TestHandle(t *testing.T) {
	settings, err := OpenSettings(writeSettings(t, "s.json",
		`{"workflows": {"wf-1": {"outputs": [{"name": "total", "prompt": "State the total"}], "llm_adapter_id": "local"}}}`),
		func(workflows.DocumentSettings) error { return nil }, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	routes := workflows.Routes(workflows.Registry(workflows.Deps{Log: slog.Default()}))
	files := `{"h1": {"file_name": "a.pdf", "file_path": "/in/a.pdf", "file_hash": "h1"}}`
	call := func(id, wf, kwargs string) amqp.Delivery {
		return taskMessage(id, workflows.TaskAsyncExecuteBin, `["org_1", "`+wf+`", "ex-1", `+files+`]`, kwargs, nil)
	}
	unavailable := shim.Fail(shim.ErrUnavailable, nil, "hatchet backend is unavailable")
	tests := []struct {
		name     string
		msg      amqp.Delivery
		queue    string
		backend  featureflag.Backend
		execErr  error
		fallback bool
		fwdErr   error
		replayed bool
		awaitErr error // recording the caller fails
		wantRun  bool
		wantFwd  bool
		wantErr  bool
		// wantKept: forwarded as an execution the router decided (recorded)
		wantKept bool
	}{
		{name: "to hatchet", msg: call("t-1", "wf-1", `{"pipeline_id": "p"}`), wantRun: true},
		{name: "delivered again", msg: func() amqp.Delivery { d := call("t-1", "wf-1", `{}`); d.Redelivered = true; return d }(), replayed: true, wantRun: true},
		{name: "the router says celery", msg: call("t-2", "wf-1", `{}`), backend: featureflag.BackendCelery, wantFwd: true, wantKept: true},
		{name: "another queue's task", msg: call("t-3", "wf-1", `{}`), queue: "file_processing", wantFwd: true},
		{name: "a task without a route", msg: taskMessage("t-4", "echo", `[1]`, `{}`, nil), wantFwd: true},
		{name: "not JSON", msg: func() amqp.Delivery {
			d := call("t-5", "wf-1", `{}`)
			d.ContentType = "application/x-python-serialize"
			return d
		}(), wantFwd: true},
		{name: "an eta", msg: taskMessage("t-6", workflows.TaskAsyncExecuteBin, `["org_1", "wf-1", "ex-1", `+files+`]`, `{}`,
			amqp.Table{"eta": "2026-12-02T15:00:00+00:00"}), wantFwd: true},
		{name: "an expiry", msg: taskMessage("t-6e", workflows.TaskAsyncExecuteBin, `["org_1", "wf-1", "ex-1", `+files+`]`, `{}`,
			amqp.Table{"expires": "2026-12-02T15:00:00+00:00"}), wantFwd: true},
		{name: "no settings for the workflow", msg: call("t-7", "wf-2", `{}`), wantFwd: true},
		{name: "human in the loop", msg: call("t-8", "wf-1", `{"hitl_queue_name": "review"}`), wantFwd: true},
		{name: "hatchet down, fallback allowed", msg: call("t-9", "wf-1", `{}`), execErr: unavailable, fallback: true, wantRun: true, wantFwd: true, wantKept: true},
		{name: "hatchet down, no fallback", msg: call("t-10", "wf-1", `{}`), execErr: unavailable, wantRun: true, wantErr: true},
		{name: "refused by the shim", msg: call("t-11", "wf-1", `{}`), execErr: shim.Fail(shim.ErrInvalidInput, nil, "bad"), wantRun: true, wantFwd: true},
		{name: "the twin cannot be reached", msg: call("t-12", "wf-1", `{}`), backend: featureflag.BackendCelery, fwdErr: errors.New("broker down"), wantErr: true},
		{name: "no result wanted", msg: taskMessage("t-13", workflows.TaskAsyncExecuteBin, `["org_1", "wf-1", "ex-1", `+files+`]`, `{}`,
			amqp.Table{"ignore_result": true}), wantRun: true},
		{name: "the caller cannot be recorded", msg: call("t-14", "wf-1", `{}`), awaitErr: errors.New("store down"), wantRun: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dispatch := &fakeDispatch{backend: featureflag.BackendHatchet, err: tt.execErr, replayed: tt.replayed, fallback: tt.fallback}
			if tt.backend != "" {
				dispatch.backend = tt.backend
			}
			fwd := &fakeForward{err: tt.fwdErr}
			results := &memResults{err: tt.awaitErr}
			door := New(routes, settings, dispatch, fwd, func(q string) string { return q + ".legacy" }, slog.Default(),
				WithResults(results, &fakeResultStore{}))
			queue := tt.queue
			if queue == "" {
				queue = workflows.QueueCelery
			}
			err := door.Handle(context.Background(), queue, tt.msg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle = %v, want error %v", err, tt.wantErr)
			}
			if ran := len(dispatch.ran) > 0; ran != tt.wantRun {
				t.Errorf("ran on hatchet: %v, want %v", ran, tt.wantRun)
			}
			if got := len(fwd.sent) > 0; got != tt.wantFwd {
				t.Errorf("forwarded %v, want %v", fwd.sent, tt.wantFwd)
			}
			if tt.wantFwd && fwd.err == nil && fwd.sent[0] != queue+".legacy "+tt.msg.CorrelationId {
				t.Errorf("forwarded %v, want to %s.legacy", fwd.sent, queue)
			}
			if tt.wantRun {
				checkRequest(t, dispatch.ran[0], tt.msg.CorrelationId)
			}
			if kept := len(dispatch.recorded) > 0; kept != tt.wantKept {
				t.Errorf("recorded as an execution off Hatchet: %v, want %v", kept, tt.wantKept)
			} else if kept {
				checkRequest(t, dispatch.recorded[0], tt.msg.CorrelationId)
			}
			ignored, _ := tt.msg.Headers["ignore_result"].(bool)
			wantAwait := tt.wantRun && !tt.wantFwd && !tt.wantErr
			got := results.awaited["e-1"]
			if (got.TaskID != "") != wantAwait || (wantAwait && (got.TaskID != tt.msg.CorrelationId || got.IgnoreResult != ignored)) {
				t.Errorf("caller recorded %+v, want one for %s: %v (ignoring its result: %v)", got, tt.msg.CorrelationId, wantAwait, ignored)
			}
			outcome := map[bool]string{true: outcomeRetried}[tt.wantErr]
			switch {
			case outcome != "":
			case tt.wantFwd:
				outcome = outcomeForwarded
			case tt.replayed:
				outcome = outcomeReplayed
			default:
				outcome = outcomeHatchet
			}
			if n := testutil.ToFloat64(door.metrics.messages.WithLabelValues(queue, outcome)); n != 1 {
				t.Errorf("front_door_messages_total{outcome=%q} = %v, want 1", outcome, n)
			}
			if n := testutil.ToFloat64(door.metrics.redelivered.WithLabelValues(queue)); (n == 1) != tt.msg.Redelivered {
				t.Errorf("front_door_redeliveries_total = %v for a message redelivered %v", n, tt.msg.Redelivered)
			}
		})
	}
}

// checkRequest checks the request made of an async_execute_bin call.
func checkRequest(t *testing.T, req shim.ExecuteRequest, taskID string) {
	t.Helper()
	var in workflows.ExecutionInput
	if err := json.Unmarshal(req.Input, &in); err != nil {
		t.Fatal(err)
	}
	if req.Workflow != workflows.WorkflowExecutionName || req.OrganizationID != "org_1" || req.IdempotencyKey != taskID || req.Ingress != shim.IngressFrontDoor ||
		req.UseAbstraction != nil || in.WorkflowID != "wf-1" || len(in.Outputs) != 1 || in.LLMAdapterID != "local" ||
		!strings.Contains(string(req.Input), `"file_path":"/in/a.pdf"`) {
		t.Errorf("request %+v, input %s", req, req.Input)
	}
}
