package frontdoor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
	"github.com/unstract/hatchet-worker/shim/route"
)

// Dispatch is what the front door needs of the shim's dispatcher
// (*shim.Dispatcher).
type Dispatch interface {
	// Decide says where a request would run, as Execute decides it.
	Decide(req shim.ExecuteRequest) (featureflag.Decision, error)
	// ExecuteAs runs a request where dec says, with no fallback, and
	// returns once its work is durably accepted.
	ExecuteAs(ctx context.Context, req shim.ExecuteRequest, dec featureflag.Decision) (shim.Accepted, error)
	// Fallback says whether a request decided as dec may go elsewhere
	// when its backend is down.
	Fallback(dec featureflag.Decision) (featureflag.Decision, bool)
	// Cancel cancels the execution with id.
	Cancel(ctx context.Context, id string) (shim.Execution, error)
	// Status reads the execution with id from its backend.
	Status(ctx context.Context, id string) (shim.Status, error)
}

// Forwarder passes a message on unchanged (*celerybridge.Client).
type Forwarder interface {
	Forward(ctx context.Context, d amqp.Delivery, queue string) error
}

// Door decides, for each task message taken off one of the platform's
// queues, whether it runs on Hatchet or goes on, unchanged, to the queue's
// legacy twin, which the platform's workers consume.
type Door struct {
	routes   map[taskOn]route.Route
	byName   map[string]route.Route
	settings *Settings
	dispatch Dispatch
	forward  Forwarder
	twin     func(queue string) string
	log      *slog.Logger
	metrics  *metrics
	results  Results     // nil: no caller awaits a result
	store    ResultStore // where results are stored
	worker   string      // the hostname results name, as Celery's
}

// Option configures New.
type Option func(*Door)

// WithMetrics counts the messages the front door takes in reg.
func WithMetrics(reg prometheus.Registerer) Option {
	return func(d *Door) { d.metrics = newMetrics(reg) }
}

// taskOn is a legacy task on the queue it is sent to.
type taskOn struct{ queue, task string }

// New returns a front door for the routes whose legacy task can become a
// run (route.LegacyTask.Input); twin names a queue's legacy twin.
func New(routes []route.Route, settings *Settings, dispatch Dispatch, forward Forwarder, twin func(string) string, log *slog.Logger, opts ...Option) *Door {
	d := &Door{routes: map[taskOn]route.Route{}, byName: map[string]route.Route{}, settings: settings, dispatch: dispatch,
		forward: forward, twin: twin, log: log, worker: workerName()}
	for _, o := range opts {
		o(d)
	}
	if d.metrics == nil {
		d.metrics = newMetrics(nil)
	}
	for _, r := range routes {
		if r.Legacy != nil && r.Legacy.Input != nil {
			d.routes[taskOn{r.Legacy.Queue, r.Legacy.Task}] = r
			d.byName[r.Name] = r
		}
	}
	return d
}

// Handle takes one message of queue. It returns nil once the message's
// work is durably accepted: a Hatchet run created (keyed by the Celery
// task id, so a redelivery creates none), or the message confirmed on the
// twin queue. An error leaves the message to be delivered again.
func (d *Door) Handle(ctx context.Context, queue string, m amqp.Delivery) error {
	if m.Redelivered {
		d.metrics.redelivered.WithLabelValues(queue).Inc()
	}
	outcome, err := d.handle(ctx, queue, m)
	d.metrics.messages.WithLabelValues(queue, outcome).Inc()
	return err
}

// handle is Handle; it returns the message's outcome.
func (d *Door) handle(ctx context.Context, queue string, m amqp.Delivery) (string, error) {
	req, caller, why := d.request(queue, m)
	if why == "" {
		dec, err := d.dispatch.Decide(req)
		switch {
		case err != nil:
			why = err.Error()
		case dec.Backend != featureflag.BackendHatchet:
			return d.forwardAs(ctx, queue, m, req, dec)
		default:
			return d.execute(ctx, queue, m, req, dec, caller)
		}
	}
	return d.pass(ctx, queue, m, why)
}

// request is the execute request of a message with its caller, or why it
// cannot run on Hatchet.
func (d *Door) request(queue string, m amqp.Delivery) (shim.ExecuteRequest, Caller, string) {
	t, err := celerybridge.DecodeTask(m)
	if err != nil {
		return shim.ExecuteRequest{}, Caller{}, err.Error()
	}
	rt, ok := d.routes[taskOn{queue, t.Name}]
	switch {
	case !ok:
		return shim.ExecuteRequest{}, Caller{}, "no route for task " + t.Name
	case t.Linked:
		return shim.ExecuteRequest{}, Caller{}, "the message links further work (callbacks, chain or chord)"
	case !t.ETA.IsZero():
		return shim.ExecuteRequest{}, Caller{}, "the message has an eta"
	case !t.Expires.IsZero(): // Celery's workers revoke it when it expires unrun
		return shim.ExecuteRequest{}, Caller{}, "the message has an expiry"
	}
	input, org, err := rt.Legacy.Input(t.Args, t.Kwargs)
	if err != nil {
		return shim.ExecuteRequest{}, Caller{}, err.Error()
	}
	input, err = d.withSettings(input)
	if err != nil {
		return shim.ExecuteRequest{}, Caller{}, err.Error()
	}
	req := shim.ExecuteRequest{Workflow: rt.Name, OrganizationID: org, Input: input, IdempotencyKey: t.ID, Ingress: shim.IngressFrontDoor}
	return req, Caller{TaskID: t.ID, Task: t.Name, Queue: queue, Args: t.Args, Kwargs: t.Kwargs, Retries: t.Retries,
		ReplyTo: t.ReplyTo, IgnoreResult: t.IgnoreResult}, ""
}

// withSettings adds the document settings of input's platform workflow.
func (d *Door) withSettings(input json.RawMessage) (json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(input, &fields); err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	var id string
	if err := json.Unmarshal(fields["workflow_id"], &id); err != nil || id == "" {
		return nil, errors.New("the call names no workflow_id")
	}
	ds, ok := d.settings.For(id)
	if !ok {
		return nil, fmt.Errorf("no settings for workflow %s in the settings file", id)
	}
	raw, err := json.Marshal(ds)
	if err != nil {
		return nil, err
	}
	var settings map[string]json.RawMessage
	if err := json.Unmarshal(raw, &settings); err != nil {
		return nil, err
	}
	for k, v := range settings {
		fields[k] = v
	}
	return json.Marshal(fields)
}

// execute runs req on Hatchet. A Hatchet that is down sends the message
// to the legacy side when the router allows a fallback, and else leaves it
// for later; a request the shim refuses goes to the legacy side, which
// answers it as it always has.
func (d *Door) execute(ctx context.Context, queue string, m amqp.Delivery, req shim.ExecuteRequest, dec featureflag.Decision, caller Caller) (string, error) {
	a, err := d.dispatch.ExecuteAs(ctx, req, dec)
	if errors.Is(err, shim.ErrUnavailable) {
		if fb, ok := d.dispatch.Fallback(dec); ok && fb.Backend == featureflag.BackendCelery {
			return d.forwardAs(ctx, queue, m, req, fb)
		}
	}
	switch {
	case errors.Is(err, shim.ErrInvalidInput):
		return d.pass(ctx, queue, m, err.Error())
	case err != nil:
		return outcomeRetried, fmt.Errorf("front door: task %s: %w", req.IdempotencyKey, err)
	}
	if d.results != nil {
		if err := d.results.Await(ctx, a.ID, caller); err != nil {
			return outcomeRetried, fmt.Errorf("front door: task %s: record its caller: %w", req.IdempotencyKey, err)
		}
	}
	d.log.InfoContext(ctx, "front door: task runs on hatchet", "queue", queue, "task_id", req.IdempotencyKey,
		"execution_id", a.ID, "workflow", a.Workflow, "replayed", a.Replayed)
	if a.Replayed {
		return outcomeReplayed, nil
	}
	return outcomeHatchet, nil
}

// forwardAs forwards the message unchanged to queue's twin as the
// execution dec decided, recorded with its Celery task id as its ref, so it
// is tracked, listed and shown like any other; a redelivered message whose
// forward was recorded is not forwarded again. A request the shim refuses
// is forwarded unrecorded: the legacy side answers it as it always has.
func (d *Door) forwardAs(ctx context.Context, queue string, m amqp.Delivery, req shim.ExecuteRequest, dec featureflag.Decision) (string, error) {
	twin := d.twin(queue)
	req = req.HandedOver(func(ctx context.Context) (string, error) {
		if err := d.forward.Forward(ctx, m, twin); err != nil {
			return "", shim.Fail(shim.ErrUnavailable, err, "forward to %s", twin)
		}
		return req.IdempotencyKey, nil
	})
	a, err := d.dispatch.ExecuteAs(ctx, req, dec)
	switch {
	case errors.Is(err, shim.ErrInvalidInput):
		return d.pass(ctx, queue, m, err.Error())
	case err != nil:
		return outcomeRetried, fmt.Errorf("front door: task %s: %w", req.IdempotencyKey, err)
	}
	d.log.DebugContext(ctx, "front door: task forwarded", "queue", queue, "to", twin, "task_id", req.IdempotencyKey,
		"execution_id", a.ID, "reason", dec.Reason, "replayed", a.Replayed)
	if a.Replayed {
		return outcomeReplayed, nil
	}
	return outcomeForwarded, nil
}

// workerName is the hostname stored results name, as a Celery worker's
// (name@host).
func workerName() string {
	host, _ := os.Hostname()
	return "hatchet-worker@" + host
}

// pass forwards the message unchanged to queue's twin.
func (d *Door) pass(ctx context.Context, queue string, m amqp.Delivery, why string) (string, error) {
	twin := d.twin(queue)
	if err := d.forward.Forward(ctx, m, twin); err != nil {
		return outcomeRetried, fmt.Errorf("front door: forward to %s: %w", twin, err)
	}
	d.log.DebugContext(ctx, "front door: task forwarded", "queue", queue, "to", twin, "task_id", m.CorrelationId, "why", why)
	return outcomeForwarded, nil
}
