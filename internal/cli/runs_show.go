package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/unstract/hatchet-worker/shim"
)

// followInterval is how often runs show --follow reads the execution.
const followInterval = time.Second

func runsShow(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	f := newRunsFlags("show", stderr, getenv)
	follow := f.fs.Bool("follow", false, "print each change until the execution ends")
	id, c, code := f.start(args, true, stderr)
	if code >= 0 {
		return code
	}
	read := func() (shim.Status, error) {
		var st shim.Status
		err := c.call(ctx, http.MethodGet, "/api/v2/workflows/executions/"+url.PathEscape(id), &st)
		return st, err
	}
	st, err := read()
	if err != nil {
		return f.fail(stderr, err)
	}
	if *follow {
		if st, err = followStatus(ctx, st, read, stderr); err != nil {
			return f.fail(stderr, err)
		}
	}
	if f.asJSON {
		printJSON(stdout, st)
	} else {
		printStatus(stdout, st)
	}
	if *follow && st.State != shim.StateSucceeded {
		return ExitFailed
	}
	return ExitOK
}

// followStatus prints a timeline line on progress for each change of st
// until it ends or ctx does, and returns the last status read.
func followStatus(ctx context.Context, st shim.Status, read func() (shim.Status, error), progress io.Writer) (shim.Status, error) {
	printChange(progress, st)
	t := time.NewTicker(followInterval)
	defer t.Stop()
	for !st.Final() {
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("stopped following: %w", ctx.Err())
		case <-t.C:
		}
		next, err := read()
		if err != nil {
			return st, err
		}
		if next.State != st.State || next.BackendState != st.BackendState {
			printChange(progress, next)
		}
		st = next
	}
	return st, nil
}

// printChange writes one timeline line: now, the state and the backend's own.
func printChange(w io.Writer, st shim.Status) {
	fmt.Fprintf(w, "%s  %-9s %s\n", time.Now().UTC().Format("15:04:05"), st.State, st.BackendState)
}

// printStatus writes st for a reader: where it ran and why, its timeline,
// and its result or its error with the traceback.
func printStatus(w io.Writer, st shim.Status) {
	fmt.Fprintf(w, "execution  %s\nworkflow   %s\norg        %s\nbackend    %s (%s)\nstatus     %s (%s)\n",
		st.ExecutionID, st.Workflow, st.OrganizationID, st.Backend, st.Reason, st.State, st.BackendState)
	if st.BackendRef != "" {
		fmt.Fprintf(w, "ref        %s\n", st.BackendRef)
	}
	if st.DashboardURL != "" {
		fmt.Fprintf(w, "dashboard  %s\n", st.DashboardURL)
	}
	fmt.Fprintf(w, "timeline\n")
	for _, ev := range timeline(st) {
		fmt.Fprintf(w, "  %s  %s\n", ev.at.UTC().Format(time.RFC3339Nano), ev.what)
	}
	switch {
	case st.Error != nil:
		fmt.Fprintf(w, "error      %s\n", errorLine(st.Error))
		if st.Error.Traceback != "" {
			fmt.Fprintf(w, "traceback\n%s\n", indent(st.Error.Traceback))
		}
	case len(st.Result) > 0:
		fmt.Fprintf(w, "result     %s\n", st.Result)
	}
}

// event is one step of an execution's timeline.
type event struct {
	at   time.Time
	what string
}

// timeline lists the steps st shows: accepted, started, ended.
func timeline(st shim.Status) []event {
	evs := []event{{st.CreatedAt, "accepted by " + string(st.Backend)}}
	if st.StartedAt != nil {
		evs = append(evs, event{*st.StartedAt, "started"})
	}
	if st.FinishedAt != nil {
		evs = append(evs, event{*st.FinishedAt, st.State + " after " + st.FinishedAt.Sub(st.CreatedAt).Round(time.Millisecond).String()})
	}
	return evs
}

// indent indents every line of s by four spaces.
func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
