// Package cli holds the logic of hatchet-worker's subcommands, kept out of
// cmd/hatchet-worker so tests can run it with their own arguments and streams.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// callOutput is the JSON object CeleryCall prints.
type callOutput struct {
	TaskID     string          `json:"task_id"`
	Status     string          `json:"status"`
	Result     json.RawMessage `json:"result"`
	ExcType    string          `json:"exc_type,omitempty"`
	ExcModule  string          `json:"exc_module,omitempty"`
	ExcMessage json.RawMessage `json:"exc_message,omitempty"`
	Traceback  string          `json:"traceback,omitempty"`
}

// callArgs are the parsed arguments of "celery call".
type callArgs struct {
	task             string
	args             []any
	kwargs           map[string]any
	queue            string
	countdown        time.Duration
	expires, timeout time.Duration
	noWait           bool
}

// CeleryCall runs "hatchet-worker celery call TASK [--args JSON] [--kwargs
// JSON] [--queue Q] [--countdown D] [--expires D] [--timeout D] [--no-wait]";
// args are the words after "celery call". It prints one JSON object
// {"task_id","status","result"} (plus exc_type, exc_module, exc_message and
// traceback on failure; exc_message as Celery stored it, the exception's
// arguments) and returns an Exit… code. The broker and result backend come
// from the service's own configuration (CELERY_BROKER_URL,
// CELERY_RESULT_BACKEND and their defaults), read through getenv.
func CeleryCall(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	ca, err := parseCall(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "celery call: %v\n", err)
		}
		return usageExit(err)
	}
	cfg, err := config.Load(environ(getenv), config.UseCelery)
	if err != nil {
		fmt.Fprintf(stderr, "celery call: %v\n", err)
		return ExitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, ca.timeout)
	defer cancel()
	c, err := celerybridge.Dial(ctx, cfg.Celery.BrokerURL, celerybridge.WithResultBackend(cfg.Celery.ResultBackend))
	if err != nil {
		fmt.Fprintf(stderr, "celery call: %v\n", err)
		return ExitUsage
	}
	defer c.Close(context.WithoutCancel(ctx))
	return runCall(ctx, c, ca, stdout, stderr)
}

func runCall(ctx context.Context, c *celerybridge.Client, ca callArgs, stdout, stderr io.Writer) int {
	opts := []celerybridge.SendOption{}
	if ca.queue != "" {
		opts = append(opts, celerybridge.WithQueue(ca.queue))
	}
	if ca.countdown > 0 {
		opts = append(opts, celerybridge.WithCountdown(ca.countdown))
	}
	if ca.expires > 0 {
		opts = append(opts, celerybridge.WithExpiresIn(ca.expires))
	}
	id, err := c.Send(ctx, ca.task, ca.args, ca.kwargs, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "celery call: %v\n", err)
		if errors.Is(err, context.DeadlineExceeded) {
			return ExitTimeout
		}
		return ExitUsage
	}
	if ca.noWait {
		return printOutput(stdout, stderr, callOutput{TaskID: id, Status: string(celerybridge.StatePending), Result: json.RawMessage("null")}, ExitOK)
	}
	r, err := c.Wait(ctx, id)
	return report(ctx, c, id, r, err, stdout, stderr)
}

// report prints the outcome of Wait and picks the exit code.
func report(ctx context.Context, c *celerybridge.Client, id string, r celerybridge.Result, err error, stdout, stderr io.Writer) int {
	var te *celerybridge.TaskError
	switch {
	case errors.As(err, &te):
		return printOutput(stdout, stderr, callOutput{TaskID: id, Status: string(r.State), Result: r.Value,
			ExcType: te.ExcType, ExcModule: te.ExcModule, ExcMessage: te.ExcArgs, Traceback: te.Traceback}, ExitFailed)
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(stderr, "celery call: timed out waiting for %s\n", id)
		status := celerybridge.StatePending
		if cur, lerr := c.Lookup(context.WithoutCancel(ctx), id); lerr == nil {
			status = cur.State
		}
		return printOutput(stdout, stderr, callOutput{TaskID: id, Status: string(status), Result: json.RawMessage("null")}, ExitTimeout)
	case err != nil:
		fmt.Fprintf(stderr, "celery call: %v\n", err)
		return ExitUsage
	}
	return printOutput(stdout, stderr, callOutput{TaskID: id, Status: string(r.State), Result: r.Value}, ExitOK)
}

func printOutput(stdout, stderr io.Writer, out callOutput, code int) int {
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(stderr, "celery call: write output: %v\n", err)
		return ExitUsage
	}
	return code
}

// parseCall parses the arguments, allowing flags before and after TASK.
func parseCall(args []string, stderr io.Writer) (callArgs, error) {
	ca := callArgs{}
	var argsJSON, kwargsJSON string
	fs := flag.NewFlagSet("celery call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&argsJSON, "args", "[]", "positional arguments as a JSON array")
	fs.StringVar(&kwargsJSON, "kwargs", "{}", "keyword arguments as a JSON object")
	fs.StringVar(&ca.queue, "queue", "", "queue to send to (default: celery)")
	fs.DurationVar(&ca.countdown, "countdown", 0, "delay before the task may run")
	fs.DurationVar(&ca.expires, "expires", 0, "expire the task if not started within this time")
	fs.DurationVar(&ca.timeout, "timeout", time.Minute, "how long to wait for the result")
	fs.BoolVar(&ca.noWait, "no-wait", false, "print the task id once sent, without waiting")
	var positional []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return ca, err
		}
		if fs.NArg() == 0 {
			break
		}
		positional, rest = append(positional, fs.Arg(0)), fs.Args()[1:]
	}
	if len(positional) != 1 || strings.TrimSpace(positional[0]) == "" {
		return ca, fmt.Errorf("want exactly one TASK name, got %q", positional)
	}
	if ca.timeout <= 0 {
		return ca, fmt.Errorf("--timeout must be positive")
	}
	ca.task = positional[0]
	if err := decodeJSON(argsJSON, &ca.args); err != nil {
		return ca, fmt.Errorf("--args: %w", err)
	}
	if err := decodeJSON(kwargsJSON, &ca.kwargs); err != nil {
		return ca, fmt.Errorf("--kwargs: %w", err)
	}
	return ca, nil
}

// decodeJSON decodes one JSON value keeping numbers exact (json.Number).
func decodeJSON(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after JSON value")
	}
	return nil
}
