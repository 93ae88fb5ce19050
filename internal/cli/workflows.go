package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"syscall"
	"time"

	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/internal/engine"
	"github.com/unstract/hatchet-worker/internal/logging"
	"github.com/unstract/hatchet-worker/internal/worker"
	"github.com/unstract/hatchet-worker/workflows"
)

// WorkflowsUsage describes the workflows subcommands.
const WorkflowsUsage = `usage:
  hatchet-worker workflows list [--json]
                                      each workflow: description, timeout, triggers,
                                      legacy Celery task (queue:task), and its tasks
                                      with parents, timeouts, retries and slots
  hatchet-worker workflows validate   check every definition (names, parents, cycles,
                                      timeouts); exit 1 listing each problem
  hatchet-worker workflows register [--fail-fast]
                                      register each workflow with the configured engine
  hatchet-worker workflows test --workflow NAME [--input JSON|@FILE] [--timeout D]
                                      run one workflow end to end on the configured
                                      engine with a worker in this process; progress
                                      on stderr, the run's output on stdout;
                                      exit 0 completed, 1 failed, 2 usage, 3 timeout
`

// WorkflowsOption configures Workflows.
type WorkflowsOption func(*workflowsConfig)

type workflowsConfig struct {
	metrics *worker.Metrics
}

// WithMetrics records registrations and test runs in m.
func WithMetrics(m *worker.Metrics) WorkflowsOption {
	return func(c *workflowsConfig) { c.metrics = m }
}

// cmdIO is where a workflows subcommand writes and what it records.
type cmdIO struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	metrics        *worker.Metrics // nil records nothing
}

// Workflows runs "hatchet-worker workflows list|validate|register|test …";
// args are the words after "workflows". list and validate need no engine;
// register and test connect to the engine configured in the environment
// (read through getenv, as the service reads it), starting the embedded one
// when HATCHET_CLIENT_TOKEN is unset. It returns an Exit… code.
func Workflows(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, opts ...WorkflowsOption) int {
	var wc workflowsConfig
	for _, o := range opts {
		o(&wc)
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, WorkflowsUsage)
		return ExitUsage
	}
	cmd, args := args[0], args[1:]
	// Listing and validating only read the definitions; Registry calls nothing.
	defs := workflows.Registry(workflows.Deps{Log: slog.New(slog.DiscardHandler)})
	switch cmd {
	case "list":
		return listCommand(defs, args, stdout, stderr)
	case "validate":
		return validateCommand(defs, args, stdout, stderr)
	case "register":
		return registerCommand(ctx, args, stdout, stderr, getenv, wc.metrics)
	case "test":
		return testCommand(ctx, defs, args, stdout, stderr, getenv, wc.metrics)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, WorkflowsUsage)
		return ExitOK
	default:
		fmt.Fprintf(stderr, "workflows: unknown subcommand %q\n%s", cmd, WorkflowsUsage)
		return ExitUsage
	}
}

// validateCommand runs "workflows validate", which takes no arguments
// besides -h.
func validateCommand(defs []workflows.Definition, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("workflows validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: hatchet-worker workflows validate\n  check every definition (names, parents, cycles, timeouts); exit 1 listing each problem\n")
	}
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "workflows validate: unexpected arguments %q\n", fs.Args())
		return ExitUsage
	}
	return validate(defs, stdout)
}

// session is a connection to the configured engine for one command.
type session struct {
	cfg  config.Config
	log  *slog.Logger
	conn *engine.Conn
}

// connect loads the parts of the configuration the command uses from
// getenv and joins (or starts) the engine; an external engine must answer
// within seconds. On failure it prints why (the engine's address and the
// reason, with a hint when the embedded engine's ports are taken) and
// returns ExitUsage.
func connect(ctx context.Context, name string, getenv func(string) string, stderr io.Writer, uses ...config.Use) (*session, int) {
	cfg, err := config.Load(environ(getenv), append(uses, config.UseEngine)...)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return nil, ExitUsage
	}
	// Keep stderr for progress: only warnings unless LOG_LEVEL asks for more.
	level := "warn"
	if getenv("LOG_LEVEL") != "" {
		level = cfg.Log.Level
	}
	log := logging.New(stderr, level, cfg.Log.Format)
	if cfg.Hatchet.External() {
		if err := engine.Probe(ctx, cfg.Hatchet); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return nil, ExitUsage
		}
	} else {
		fmt.Fprintf(stderr, "%s: HATCHET_CLIENT_TOKEN is unset: starting the embedded engine on DATABASE_URL\n", name)
	}
	conn, err := engine.Connect(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintf(stderr, "hint: a running hatchet-worker service probably holds the embedded engine's ports;\n"+
				"      point this command at its engine instead:\n"+
				"      HATCHET_CLIENT_TOKEN=$(cat %s) HATCHET_CLIENT_TLS_STRATEGY=none hatchet-worker workflows …\n",
				cfg.Embedded.TokenFile)
		}
		return nil, ExitUsage
	}
	return &session{cfg: cfg, log: log, conn: conn}, ExitOK
}

// close closes the client and stops an embedded engine.
func (s *session) close(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.conn.Close(ctx); err != nil {
		s.log.Warn("close engine connection", "err", err)
	}
}

// environ rebuilds, from getenv, the environment config.Load reads: every
// variable the configuration declares, plus HOME and XDG_STATE_HOME (the
// token file's default).
func environ(getenv func(string) string) []string {
	keys := append(config.Variables(), "HOME", "XDG_STATE_HOME")
	var env []string
	for _, k := range keys {
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}
