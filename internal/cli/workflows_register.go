package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/rs/zerolog"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/logging"
	"github.com/unstract/hatchet-worker/internal/worker"
	"github.com/unstract/hatchet-worker/workflows"
)

// registerTimeout bounds the registration of one workflow.
const registerTimeout = 30 * time.Second

func registerCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, m *worker.Metrics) int {
	fs := flag.NewFlagSet("workflows register", flag.ContinueOnError)
	fs.SetOutput(stderr)
	failFast := fs.Bool("fail-fast", false, "stop at the first workflow that fails to register")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "workflows register: unexpected arguments %q\n", fs.Args())
		return ExitUsage
	}
	s, code := connect(ctx, "workflows register", getenv, stderr)
	if s == nil {
		return code
	}
	defer s.close(ctx)
	// Registering sends definitions only; the task functions never run here.
	defs := workflows.Registry(workflows.Deps{Log: s.log})
	return register(ctx, s.conn.Client, defs, *failFast, cmdIO{stdout: stdout, stderr: stderr, log: s.log, metrics: m})
}

// register puts each definition to the engine on its own, printing
// "NAME: ok" or "NAME: FAILED: error" per workflow, and returns ExitFailed
// when any failed. With failFast it stops at the first failure.
func register(ctx context.Context, client *hatchet.Client, defs []workflows.Definition, failFast bool, c cmdIO) int {
	failed, done := 0, 0
	for _, d := range defs {
		err := registerOne(ctx, client, d, c.log)
		c.metrics.Registered(d.Name, err)
		done++
		if err != nil {
			failed++
			fmt.Fprintf(c.stdout, "%s: FAILED: %v\n", d.Name, err)
			if failFast {
				break
			}
			continue
		}
		fmt.Fprintf(c.stdout, "%s: ok\n", d.Name)
	}
	fmt.Fprintf(c.stderr, "registered %d of %d workflows", done-failed, len(defs))
	if skipped := len(defs) - done; skipped > 0 {
		fmt.Fprintf(c.stderr, " (%d skipped after the first failure)", skipped)
	}
	fmt.Fprintln(c.stderr)
	if failed > 0 {
		return ExitFailed
	}
	return ExitOK
}

// registerOne builds d and puts it to the engine. The SDK registers
// workflows only when it creates a worker, so this creates a worker holding
// just d and never starts it: nothing connects as a worker and no task runs.
func registerOne(ctx context.Context, client *hatchet.Client, d workflows.Definition, log *slog.Logger) error {
	wf, err := d.Build(client)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, registerTimeout)
	defer cancel()
	// NewWorker takes no context; wait for it in the background so a dead
	// engine cannot hang the command past registerTimeout.
	errc := make(chan error, 1)
	go func() {
		_, err := client.NewWorker("hatchet-worker-register",
			hatchet.WithWorkflows(wf),
			hatchet.WithLogger(logging.Zerolog(log, "hatchet-worker", zerolog.WarnLevel)))
		errc <- err
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return fmt.Errorf("register: %w", ctx.Err())
	}
}
