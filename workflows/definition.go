//lint:file-ignore SA1019 the SDK marks a task error non-retryable only through pkg/worker.NewNonRetryableError, and takes a workflow's task defaults only as pkg/client/create.TaskDefaults.

package workflows

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/client/create"
	"github.com/hatchet-dev/hatchet/pkg/client/types"
	pkgworker "github.com/hatchet-dev/hatchet/pkg/worker"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/shim/route"
)

// Definition describes one workflow in terms an operator reads (names,
// parents, timeouts, retries) and holds the task functions Build registers.
// The same value drives `workflows list`, `workflows validate` and the worker,
// so what is shown is what runs.
type Definition struct {
	// Name is the Hatchet workflow name, as the dashboard shows it.
	Name string
	// Description appears in the dashboard.
	Description string
	// Timeout is the budget for the whole run; no task may exceed it, and the
	// tasks on the longest path of the DAG must fit in it.
	Timeout time.Duration
	// Tasks are the workflow's steps, in any order.
	Tasks []Task
	// Options are extra SDK options (concurrency, triggers…).
	Options []hatchet.WorkflowOption
	// Triggers lists event or cron triggers, for display.
	Triggers []string
	// Route exposes the workflow through the shim API: its legacy Celery
	// task (nil: Hatchet only) and run metadata. Its Name and Hatchet
	// workflow are the definition's Name. Nil keeps the workflow off the
	// shim.
	Route *route.Route
	// MoreRoutes expose the same workflow under other names (another
	// legacy task or queue); their Hatchet workflow is the definition's
	// Name.
	MoreRoutes []route.Route
	// OnFailure, when set, runs once the run has failed for good:
	// func(hatchet.Context, In) (Out, error).
	OnFailure any
}

// Routes returns the shim routes of the definitions that have one.
func Routes(defs []Definition) []route.Route {
	var routes []route.Route
	for _, d := range defs {
		if d.Route == nil {
			continue
		}
		r := *d.Route
		r.Name, r.Hatchet, r.ResultTask = d.Name, d.Name, resultTask(d.Tasks)
		if r.ResultTask == "" && d.OnFailure != nil && len(d.Tasks) == 1 {
			// The run's output then also holds the on-failure task's
			// (skipped) entry; the result is the one task's.
			r.ResultTask = d.Tasks[0].Name
		}
		routes = append(routes, r)
		for _, more := range d.MoreRoutes {
			more.Hatchet, more.ResultTask = d.Name, r.ResultTask
			routes = append(routes, more)
		}
	}
	return routes
}

// RouteNames returns the names the shim routes, as Routes names them: a
// value known before the worker's dependencies open (the feature flags are
// checked against it at start-up).
func RouteNames() []string {
	routes := Routes(Registry(Deps{Log: slog.New(slog.DiscardHandler)}))
	names := make([]string, len(routes))
	for i, r := range routes {
		names[i] = r.Name
	}
	return names
}

// resultTask is the one task no other task waits for, whose output the
// engine reports as a run's result; "" for one task or several leaves.
func resultTask(tasks []Task) string {
	if len(tasks) < 2 {
		return ""
	}
	parent := map[string]bool{}
	for _, t := range tasks {
		for _, p := range t.Parents {
			parent[p] = true
		}
	}
	leaf := ""
	for _, t := range tasks {
		if parent[t.Name] {
			continue
		}
		if leaf != "" {
			return ""
		}
		leaf = t.Name
	}
	return leaf
}

// BacklogWait is how long any task may wait to be scheduled before Hatchet
// fails it (SCHEDULING_TIMED_OUT; Hatchet's default is 5 minutes). Work waits
// as a Celery message waits in its queue: behind a backlog (10,000 front-door
// messages behind the per-organisation limit) or through an engine outage,
// after which the engine times out at once what waited longer.
const BacklogWait = 24 * time.Hour

// backlogDefaults lets every task of a workflow wait BacklogWait, its
// on-failure task included, which only the workflow's task defaults reach.
func backlogDefaults() hatchet.WorkflowOption {
	return hatchet.WithWorkflowTaskDefaults(&create.TaskDefaults{ScheduleTimeout: BacklogWait})
}

// Task is one step of a Definition.
type Task struct {
	// Name is the task name within the workflow.
	Name string
	// Parents name tasks of the same workflow that must finish first.
	Parents []string
	// Timeout is the task's execution timeout.
	Timeout time.Duration
	// Retries is how many times Hatchet retries a failed attempt.
	Retries int
	// Durable runs the task in the worker's durable slots, apart from the
	// slots of ordinary tasks; Fn then takes a hatchet.DurableContext. A
	// task that waits for runs it spawned must be durable, or waiting
	// tasks could hold every slot their runs need.
	Durable bool
	// Fn is the task function: func(hatchet.Context, In) (Out, error), or
	// func(hatchet.DurableContext, In) (Out, error) for a durable task.
	Fn any
}

// Build turns d into an SDK workflow on client. It validates d first.
func (d Definition) Build(client *hatchet.Client) (*hatchet.Workflow, error) {
	if problems := Validate(d); len(problems) > 0 {
		return nil, fmt.Errorf("workflow %q: %w", d.Name, problems[0])
	}
	opts := append([]hatchet.WorkflowOption{hatchet.WithWorkflowDescription(d.Description), backlogDefaults()}, d.Options...)
	wf := client.NewWorkflow(d.Name, opts...)
	built := make(map[string]*hatchet.Task, len(d.Tasks))
	for _, t := range topological(d.Tasks) {
		topts := []hatchet.TaskOption{hatchet.WithExecutionTimeout(t.Timeout), hatchet.WithRetries(t.Retries)}
		if t.Retries > 0 {
			topts = append(topts, hatchet.WithRetryBackoff(2, 60))
		}
		parents := make([]*hatchet.Task, 0, len(t.Parents))
		for _, p := range t.Parents {
			parents = append(parents, built[p])
		}
		if len(parents) > 0 {
			topts = append(topts, hatchet.WithParents(parents...))
		}
		if t.Durable {
			built[t.Name] = wf.NewDurableTask(t.Name, t.Fn, topts...)
			continue
		}
		built[t.Name] = wf.NewTask(t.Name, t.Fn, topts...)
	}
	if d.OnFailure != nil {
		wf.OnFailure(d.OnFailure)
	}
	return wf, nil
}

// BuildAll builds every definition, stopping at the first invalid one.
func BuildAll(client *hatchet.Client, defs []Definition) ([]*hatchet.Workflow, error) {
	out := make([]*hatchet.Workflow, 0, len(defs))
	for _, d := range defs {
		wf, err := d.Build(client)
		if err != nil {
			return nil, err
		}
		out = append(out, wf)
	}
	return out, nil
}

// topological orders tasks so that parents come before their children; the
// graph must be acyclic (Validate checks it).
func topological(tasks []Task) []Task {
	placed := make(map[string]bool, len(tasks))
	out := make([]Task, 0, len(tasks))
	for len(out) < len(tasks) {
		progress := false
		for _, t := range tasks {
			if placed[t.Name] || !allPlaced(t.Parents, placed) {
				continue
			}
			placed[t.Name] = true
			out = append(out, t)
			progress = true
		}
		if !progress {
			return out
		}
	}
	return out
}

func allPlaced(names []string, placed map[string]bool) bool {
	for _, n := range names {
		if !placed[n] {
			return false
		}
	}
	return true
}

// badInput marks an error Hatchet must not retry: the same input fails again.
func badInput(format string, args ...any) error {
	return pkgworker.NewNonRetryableError(fmt.Errorf(format, args...))
}

// orgKey is the CEL concurrency key grouping runs by organisation: the
// input's organization_id, else the run metadata's (the shim sends the
// organisation there, beside input that often lacks it); runs with neither
// share the "" group.
const orgKey = `has(input.organization_id) ? input.organization_id : ` +
	`(has(additional_metadata.organization_id) ? additional_metadata.organization_id : "")`

// perOrganization limits a workflow to n runs at once per organisation,
// taking organisations in turn when more wait.
func perOrganization(n int32) hatchet.WorkflowOption { return perGroup(orgKey, n) }

// perGroup limits a workflow to n runs at once per value of the CEL
// expression key, taking the groups in turn when more wait.
func perGroup(key string, n int32) hatchet.WorkflowOption {
	strategy := types.GroupRoundRobin
	return hatchet.WithWorkflowConcurrency(types.Concurrency{Expression: key, MaxRuns: &n, LimitStrategy: &strategy})
}
