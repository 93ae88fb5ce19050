package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/unstract/hatchet-worker/shim/route"
	"github.com/unstract/hatchet-worker/workflows"
)

// workflowView is one workflow as `workflows list --json` prints it.
type workflowView struct {
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	Timeout        string   `json:"timeout"`
	TimeoutSeconds float64  `json:"timeout_seconds"`
	Triggers       []string `json:"triggers"`
	// Legacy is the Celery task the shim routes the workflow to besides
	// Hatchet; null when it has none.
	Legacy *route.LegacyTask `json:"legacy"`
	Tasks  []taskView        `json:"tasks"`
}

// taskView is one task of a workflowView.
type taskView struct {
	Name           string   `json:"name"`
	Parents        []string `json:"parents"`
	Timeout        string   `json:"timeout"`
	TimeoutSeconds float64  `json:"timeout_seconds"`
	Retries        int      `json:"retries"`
	// Durable tasks wait in the worker's durable slots.
	Durable bool `json:"durable"`
}

func viewOf(d workflows.Definition) workflowView {
	v := workflowView{
		Name: d.Name, Description: d.Description, Timeout: d.Timeout.String(), TimeoutSeconds: d.Timeout.Seconds(),
		Triggers: append([]string{}, d.Triggers...), Legacy: legacyOf(d), Tasks: make([]taskView, 0, len(d.Tasks)),
	}
	for _, t := range d.Tasks {
		v.Tasks = append(v.Tasks, taskView{
			Name: t.Name, Parents: append([]string{}, t.Parents...),
			Timeout: t.Timeout.String(), TimeoutSeconds: t.Timeout.Seconds(), Retries: t.Retries, Durable: t.Durable,
		})
	}
	return v
}

// legacyOf is d's legacy Celery task, or nil.
func legacyOf(d workflows.Definition) *route.LegacyTask {
	if d.Route == nil {
		return nil
	}
	return d.Route.Legacy
}

// legacyText is d's legacy task as the table shows it, queue:task, or "-".
func legacyText(d workflows.Definition) string {
	l := legacyOf(d)
	if l == nil {
		return "-"
	}
	return l.Queue + ":" + l.Task
}

func listCommand(defs []workflows.Definition, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("workflows list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON instead of tables")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "workflows list: unexpected arguments %q\n", fs.Args())
		return ExitUsage
	}
	if err := list(defs, *asJSON, stdout); err != nil {
		fmt.Fprintf(stderr, "workflows list: %v\n", err)
		return ExitFailed
	}
	return ExitOK
}

// list prints defs as a JSON array of workflowView, or as two tables: the
// workflows, then every task.
func list(defs []workflows.Definition, asJSON bool, out io.Writer) error {
	if asJSON {
		views := make([]workflowView, len(defs))
		for i, d := range defs {
			views[i] = viewOf(d)
		}
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(views)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKFLOW\tTIMEOUT\tTASKS\tTRIGGERS\tLEGACY (QUEUE:TASK)\tDESCRIPTION")
	for _, d := range defs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", d.Name, d.Timeout, len(d.Tasks), orDash(d.Triggers), legacyText(d), d.Description)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "WORKFLOW\tTASK\tPARENTS\tTIMEOUT\tRETRIES\tSLOTS")
	for _, d := range defs {
		for _, t := range d.Tasks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, t.Name, orDash(t.Parents), t.Timeout, strconv.Itoa(t.Retries), slotKind(t))
		}
	}
	return tw.Flush()
}

// slotKind names the worker slots a task runs in.
func slotKind(t workflows.Task) string {
	if t.Durable {
		return "durable"
	}
	return "default"
}

func orDash(names []string) string {
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ",")
}

// validate checks defs as the worker would before registering them and
// prints "ok: N workflows valid", or one line per problem and returns
// ExitFailed.
func validate(defs []workflows.Definition, out io.Writer) int {
	problems := workflows.ValidateAll(defs)
	if len(problems) == 0 {
		fmt.Fprintf(out, "ok: %d workflows valid\n", len(defs))
		return ExitOK
	}
	for _, p := range problems {
		fmt.Fprintln(out, p)
	}
	return ExitFailed
}
