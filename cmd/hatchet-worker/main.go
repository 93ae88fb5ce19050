// Command hatchet-worker runs the platform's Hatchet worker and dual-mode
// shim, and holds the operator CLI.
//
//	hatchet-worker [serve]              run the service (default)
//	hatchet-worker celery call TASK …   call a legacy Celery task and print its result
//	hatchet-worker workflows …          list, validate, register and test the workflows
//	hatchet-worker runs list|show|cancel follow the shim's executions on both backends
//	hatchet-worker version              print the version
//
// Configuration comes from the environment; see the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"github.com/unstract/hatchet-worker/internal/app"
	"github.com/unstract/hatchet-worker/internal/cli"
	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/internal/engine"
	"github.com/unstract/hatchet-worker/internal/logging"
	"github.com/unstract/hatchet-worker/internal/shutdown"
)

func main() {
	ctx, stop := shutdown.Context(context.Background())
	logging.RouteRedis()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serveCommand(ctx, args, stdout, stderr)
	case "celery":
		return celery(ctx, args, stdout, stderr)
	case "workflows":
		return cli.Workflows(ctx, args, stdout, stderr, os.Getenv)
	case "runs":
		return cli.Runs(ctx, args, stdout, stderr, os.Getenv)
	case "version":
		fmt.Fprintln(stdout, versionLine())
		return cli.ExitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return cli.ExitOK
	default:
		fmt.Fprintf(stderr, "hatchet-worker: unknown command %q\n%s", cmd, usage)
		return cli.ExitUsage
	}
}

var usage = `usage:
  hatchet-worker [serve]              run the worker, shim and operations endpoints
  hatchet-worker celery call TASK [--args JSON] [--kwargs JSON] [--queue Q]
                 [--countdown D] [--expires D] [--timeout D] [--no-wait]
                                      call a legacy Celery task (CELERY_BROKER_URL,
                                      CELERY_RESULT_BACKEND) and print its result
  hatchet-worker version              print the version
` + strings.TrimPrefix(cli.WorkflowsUsage, "usage:\n") + strings.TrimPrefix(cli.RunsUsage, "usage:\n")

func celery(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "call" {
		fmt.Fprintf(stderr, "hatchet-worker: usage: hatchet-worker celery call TASK [flags]\n")
		return cli.ExitUsage
	}
	return cli.CeleryCall(ctx, args[1:], stdout, stderr, os.Getenv)
}

// serveCommand runs the service; it takes no arguments besides -h.
func serveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help"):
		fmt.Fprint(stdout, usage)
		return cli.ExitOK
	case len(args) > 0:
		fmt.Fprintf(stderr, "hatchet-worker serve: unexpected arguments %q\n%s", args, usage)
		return cli.ExitUsage
	}
	return serve(ctx, stderr)
}

// serve loads the whole configuration and runs the service until ctx ends.
func serve(ctx context.Context, stderr io.Writer) int {
	cfg, err := config.Load(os.Environ())
	if err != nil {
		fmt.Fprintf(stderr, "hatchet-worker: %v\n", err)
		return cli.ExitUsage
	}
	log := logging.New(stderr, cfg.Log.Level, cfg.Log.Format)
	slog.SetDefault(log) // also routes the standard log package, which Hatchet uses
	log.Info("starting", "revision", revision(), "hatchet_engine", engine.Version, "go", runtime.Version())
	if err := app.Run(ctx, cfg, log); err != nil {
		log.Error("service stopped", "err", err)
		if errors.Is(err, engine.ErrBadToken) {
			return cli.ExitUsage
		}
		return cli.ExitFailed
	}
	log.Info("service stopped cleanly")
	return cli.ExitOK
}
