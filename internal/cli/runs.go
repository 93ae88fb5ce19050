package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/shim"
)

// RunsUsage describes the runs subcommands.
const RunsUsage = `usage:
  hatchet-worker runs list [--workflow W] [--backend hatchet|celery] [--status S]
                 [--org ORG] [--since 24h|RFC3339] [--limit N] [--json]
                                      the shim's executions, newest first, on both backends
  hatchet-worker runs show ID [--follow] [--json]
                                      one execution: backend and reason, timeline, result
                                      or error with traceback; --follow prints each change
                                      until it ends (exit 0 succeeded, 1 otherwise)
  hatchet-worker runs cancel ID       cancel an execution on its backend
  (all talk to the running service at SERVICE_ADDR, or --url, with SHIM_API_TOKEN;
   exit 2 when it cannot be reached or refuses the token, 1 on any other error)
`

// Runs runs "hatchet-worker runs list|show|cancel …"; args are the words
// after "runs". It calls the running service's shim API, found from the
// service's own configuration (SERVICE_ADDR, SHIM_API_TOKEN, read through
// getenv) unless --url names another. It returns an Exit… code.
func Runs(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, RunsUsage)
		return ExitUsage
	}
	cmd, args := args[0], args[1:]
	run, ok := map[string]func(context.Context, []string, io.Writer, io.Writer, func(string) string) int{
		"list": runsList, "show": runsShow, "cancel": runsCancel,
	}[cmd]
	if !ok {
		fmt.Fprintf(stderr, "runs: unknown subcommand %q\n%s", cmd, RunsUsage)
		return ExitUsage
	}
	return run(ctx, args, stdout, stderr, getenv)
}

// runsFlags are the flags every runs subcommand takes.
type runsFlags struct {
	fs      *flag.FlagSet
	url     string
	asJSON  bool
	getenv  func(string) string
	command string
}

func newRunsFlags(command string, stderr io.Writer, getenv func(string) string) *runsFlags {
	f := &runsFlags{fs: flag.NewFlagSet("runs "+command, flag.ContinueOnError), getenv: getenv, command: command}
	f.fs.SetOutput(stderr)
	f.fs.Usage = func() { fmt.Fprint(stderr, RunsUsage) }
	f.fs.StringVar(&f.url, "url", "", "the service's base URL (default: from SERVICE_ADDR)")
	f.fs.BoolVar(&f.asJSON, "json", false, "print JSON")
	return f
}

// parse reads args, with one positional ID when wantID.
func (f *runsFlags) parse(args []string, wantID bool) (string, error) {
	var id string
	if wantID && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := f.fs.Parse(args); err != nil {
		return "", err
	}
	switch {
	case wantID && id == "" && f.fs.NArg() == 1:
		id = f.fs.Arg(0)
	case f.fs.NArg() > 0:
		return "", fmt.Errorf("unexpected arguments %q", f.fs.Args())
	}
	if wantID && id == "" {
		return "", errors.New("an execution ID is required")
	}
	return id, nil
}

// client returns a client of the configured service.
func (f *runsFlags) client() (*shimClient, error) {
	cfg, err := config.Load(environ(f.getenv), config.UseShim)
	if err != nil {
		return nil, err
	}
	base := f.url
	if base == "" {
		base = cfg.Service.Addr
	}
	var token string
	if tokens := cfg.Shim.Tokens(); len(tokens) > 0 {
		token = tokens[0]
	}
	return newShimClient(base, token)
}

// fail reports err for the subcommand and returns its exit code.
func (f *runsFlags) fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "runs %s: %v\n", f.command, err)
	return exitFor(err)
}

// start parses args and opens the client; code is non-negative when the
// subcommand must stop with it.
func (f *runsFlags) start(args []string, wantID bool, stderr io.Writer) (string, *shimClient, int) {
	id, err := f.parse(args, wantID)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "runs %s: %v\n", f.command, err)
		}
		return "", nil, usageExit(err)
	}
	c, err := f.client()
	if err != nil {
		fmt.Fprintf(stderr, "runs %s: %v\n", f.command, err)
		return "", nil, ExitUsage
	}
	return id, c, -1
}

func runsList(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	f := newRunsFlags("list", stderr, getenv)
	q := url.Values{}
	for _, name := range []string{"workflow", "backend", "status", "since"} {
		f.fs.Func(name, "filter by "+name, func(v string) error { q.Set(name, v); return nil })
	}
	f.fs.Func("org", "filter by organization id", func(v string) error { q.Set("organization_id", v); return nil })
	limit := f.fs.Int("limit", shim.DefaultListLimit, "how many executions to show")
	_, c, code := f.start(args, false, stderr)
	if code >= 0 {
		return code
	}
	q.Set("limit", strconv.Itoa(*limit))
	var page shim.Page
	if err := c.call(ctx, http.MethodGet, "/api/v2/workflows/executions?"+q.Encode(), &page); err != nil {
		return f.fail(stderr, err)
	}
	if f.asJSON {
		return printJSON(stdout, page)
	}
	printList(stdout, page.Executions)
	if page.NextCursor != "" {
		fmt.Fprintf(stdout, "(more: raise --limit or narrow with --since)\n")
	}
	return ExitOK
}

// printList writes executions as a table.
func printList(w io.Writer, es []shim.Execution) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWORKFLOW\tBACKEND\tSTATUS\tCREATED\tDURATION\tERROR")
	for _, e := range es {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Workflow, e.Backend, e.State,
			e.CreatedAt.UTC().Format(time.RFC3339), duration(e.Outcome), errorLine(e.Error))
	}
	_ = tw.Flush()
}

// duration renders a finished execution's duration, "-" otherwise.
func duration(o shim.Outcome) string {
	if !o.Finished() {
		return "-"
	}
	return time.Duration(o.DurationSeconds * float64(time.Second)).Round(time.Millisecond).String()
}

// errorLine is the first line of a failure, "" for none.
func errorLine(f *shim.FailureInfo) string {
	if f == nil {
		return ""
	}
	line, _, _ := strings.Cut(f.Message, "\n")
	if f.Type != "" {
		line = f.Type + ": " + line
	}
	if len(line) > 80 {
		line = line[:80] + "…"
	}
	return line
}

func runsCancel(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	f := newRunsFlags("cancel", stderr, getenv)
	id, c, code := f.start(args, true, stderr)
	if code >= 0 {
		return code
	}
	var out map[string]string
	if err := c.call(ctx, http.MethodPost, "/api/v2/workflows/executions/"+url.PathEscape(id)+"/cancel", &out); err != nil {
		return f.fail(stderr, err)
	}
	if f.asJSON {
		return printJSON(stdout, out)
	}
	fmt.Fprintf(stdout, "%s: cancel requested on %s\n", id, out["backend"])
	return ExitOK
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return ExitFailed
	}
	return ExitOK
}
