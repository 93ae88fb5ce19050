package workflows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/jsonnum"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// CeleryBridgeName is the Hatchet name of the bridge workflow.
const CeleryBridgeName = "celery-bridge"

// Celery is what a bridge step needs from the CeleryBridge client;
// *celerybridge.Client provides it.
type Celery interface {
	Send(ctx context.Context, task string, args []any, kwargs map[string]any, opts ...celerybridge.SendOption) (string, error)
	Wait(ctx context.Context, id string) (celerybridge.Result, error)
}

// CeleryCall is the bridge's input: one legacy task call.
type CeleryCall struct {
	Task string `json:"task"`
	// Args and Kwargs are a JSON list and object. Hatchet's Go SDK decodes
	// run input through float64, so whole numbers beyond ±2^53 are refused
	// rather than sent with other digits: pass them as strings.
	Args   json.RawMessage `json:"args,omitempty"`
	Kwargs json.RawMessage `json:"kwargs,omitempty"`
	Queue  string          `json:"queue,omitempty"`
	// Timeout bounds the wait for the result, in seconds (default 300).
	Timeout float64 `json:"timeout,omitempty"`
}

// CeleryOutput is the bridge's output.
type CeleryOutput struct {
	CeleryTaskID string          `json:"celery_task_id"`
	Status       string          `json:"status"`
	Result       json.RawMessage `json:"result"`
}

// defaultCeleryTimeout is the wait when a call names none.
const defaultCeleryTimeout = 5 * time.Minute

// maxCeleryTimeout is the bridge task's execution timeout.
const maxCeleryTimeout = 60 * time.Minute

// CeleryBridge calls an existing Celery task and waits for its result.
func CeleryBridge(deps Deps) Definition {
	return Definition{
		Name:        CeleryBridgeName,
		Description: "Call a legacy Celery task over AMQP (protocol v2) and wait for its result; the legacy exception fails the run.",
		Timeout:     maxCeleryTimeout + time.Minute,
		Tasks: []Task{{
			Name:    "call-legacy-task",
			Timeout: maxCeleryTimeout,
			// The legacy task owns its retry policy (Celery autoretry);
			// re-sending a failed task from here could repeat side effects.
			Retries: 0,
			Fn: func(ctx hatchet.Context, in CeleryCall) (CeleryOutput, error) {
				return CallCelery(ctx, deps, in)
			},
		}},
	}
}

// CallCelery sends one legacy task from a Hatchet task and waits for its
// result, logging progress to the run. Any workflow can use it to make a
// Celery task one of its steps. A legacy exception becomes the task's error;
// NotRegistered and unroutable queues are not retried.
func CallCelery(ctx hatchet.Context, deps Deps, in CeleryCall) (CeleryOutput, error) {
	if deps.Celery == nil {
		return CeleryOutput{}, badInput("no Celery broker is configured (CELERY_BROKER_URL)")
	}
	if in.Task == "" {
		return CeleryOutput{}, badInput("task is required")
	}
	args, kwargs, err := in.arguments()
	if err != nil {
		return CeleryOutput{}, badInput("%w", err)
	}
	timeout := defaultCeleryTimeout
	if in.Timeout > 0 {
		timeout = min(time.Duration(in.Timeout*float64(time.Second)), maxCeleryTimeout)
	}
	opts := []celerybridge.SendOption{celerybridge.WithTaskID(attemptTaskID(ctx))}
	if in.Queue != "" {
		opts = append(opts, celerybridge.WithQueue(in.Queue))
	}
	id, err := deps.Celery.Send(ctx, in.Task, args, kwargs, opts...)
	if errors.Is(err, celerybridge.ErrUnroutable) {
		return CeleryOutput{}, badInput("send %s: %w", in.Task, err)
	}
	if err != nil {
		return CeleryOutput{}, fmt.Errorf("send %s: %w", in.Task, err)
	}
	progress(ctx, deps.Log, "legacy task sent", "task", in.Task, "celery_task_id", id, "queue", in.Queue)
	began := time.Now()
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := deps.Celery.Wait(waitCtx, id)
	if err != nil {
		return CeleryOutput{}, fmt.Errorf("wait for %s (%s): %w", in.Task, id, err)
	}
	took := time.Since(began).Round(time.Millisecond)
	if terr := res.Err(); terr != nil {
		progress(ctx, deps.Log, "legacy task failed", "celery_task_id", id, "state", res.State, "error", terr.Error())
		if errors.Is(terr, celerybridge.ErrNotRegistered) {
			return CeleryOutput{}, badInput("%w", terr)
		}
		return CeleryOutput{}, terr
	}
	progress(ctx, deps.Log, "legacy task finished", "celery_task_id", id, "state", res.State, "took", took)
	return CeleryOutput{CeleryTaskID: id, Status: string(res.State), Result: res.Value}, nil
}

// attemptTaskID names the Celery task after the Hatchet task run and attempt,
// so operators can match the two and a retry never reads a stale result.
func attemptTaskID(ctx hatchet.Context) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, fmt.Appendf(nil, "hatchet:%s:%d", ctx.StepRunId(), ctx.RetryCount())).String()
}

// arguments decodes args (a list) and kwargs (an object), keeping numbers
// exact.
func (in CeleryCall) arguments() ([]any, map[string]any, error) {
	args := []any{}
	kwargs := map[string]any{}
	if err := decodeExact(in.Args, &args); err != nil {
		return nil, nil, fmt.Errorf("args must be a JSON list: %w", err)
	}
	if err := decodeExact(in.Kwargs, &kwargs); err != nil {
		return nil, nil, fmt.Errorf("kwargs must be a JSON object: %w", err)
	}
	if err := jsonnum.CheckValue(args); err != nil {
		return nil, nil, fmt.Errorf("args: %w", err)
	}
	if err := jsonnum.CheckValue(kwargs); err != nil {
		return nil, nil, fmt.Errorf("kwargs: %w", err)
	}
	return args, kwargs, nil
}

func decodeExact(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}
