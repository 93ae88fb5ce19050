// Package route holds what a workflow declares about how the shim reaches
// it: its Route (Hatchet workflow, legacy Celery task), the Catalog of
// routes, and the run metadata keys. It imports nothing of the shim, so
// workflows declare their routes without linking the HTTP layer.
package route

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Route is one workflow the backend can ask for, with its Hatchet workflow
// and, where the platform has one, its legacy Celery task. Each workflow
// declares its route beside its definition (workflows.Definition.Route).
type Route struct {
	// Name is what the backend sends in "workflow".
	Name string `json:"workflow"`
	// Hatchet is the Hatchet workflow that runs it.
	Hatchet string `json:"hatchet_workflow"`
	// Legacy is the Celery task that runs it today; nil when there is none,
	// in which case the request always goes to Hatchet.
	Legacy *LegacyTask `json:"legacy,omitempty"`
	// Metadata picks run metadata out of the input for the dashboard's
	// filters (e.g. the document path); nil adds none.
	Metadata func(input json.RawMessage) map[string]string `json:"-"`
	// Check refuses input the workflow must not run, whichever backend the
	// request goes to; its error's message is the 422's. Nil accepts all.
	Check func(input json.RawMessage) error `json:"-"`
	// ResultTask is the task whose output is a Hatchet run's result, for a
	// workflow of several tasks ending in one; empty reports every task's
	// output by name when the run is read from the engine's own records.
	ResultTask string `json:"-"`
	// Spawns says the workflow starts runs of its own (one per batch of
	// files); the status of its executions then reports their progress.
	Spawns bool `json:"-"`
}

// LegacyTask names a Celery task and maps a shim request to its arguments.
type LegacyTask struct {
	Task  string `json:"task"`
	Queue string `json:"queue"`
	// Args maps the request to the task's positional and keyword arguments.
	Args func(c Call, input json.RawMessage) ([]any, map[string]any, error) `json:"-"`
	// Input is the inverse of Args: the workflow input and organisation of
	// a call of the task taken off its queue (args and kwargs as the
	// message carries them). Nil when a call cannot become a workflow run;
	// an error names what it cannot carry over.
	Input func(args, kwargs json.RawMessage) (input json.RawMessage, org string, err error) `json:"-"`
	// Result maps a run's result to the value the task returns, for its
	// Celery caller; nil returns the run's result as it is.
	Result func(output json.RawMessage) (json.RawMessage, error) `json:"-"`
	// Raises maps a failed run's error to the exception the task raises
	// for its Celery caller; nil, or false, raises the front door's own
	// WorkflowFailed with the run's error.
	Raises func(runError string) (Exception, bool) `json:"-"`
}

// Exception is a Python exception as a Celery result carries it.
type Exception struct {
	// Type and Module name its class ("Exception", "builtins").
	Type, Module string
	// Message is its argument.
	Message string
}

// Call is the execution a legacy task is called for.
type Call struct {
	// ExecutionID is the shim's execution id.
	ExecutionID string
	// OrganizationID is the organisation the request names; it may be empty.
	OrganizationID string
}

// Metadata keys attached to every Hatchet run, for the dashboard's filters.
const (
	MetaOrganization = "organization_id"
	MetaExecution    = "execution_id"
	MetaSource       = "source"
	MetaReason       = "route_reason"
	MetaWorkflow     = "shim_workflow"
)

// Catalog is the set of routes, by name.
type Catalog map[string]Route

// NewCatalog checks routes (unique non-empty names, each Hatchet workflow
// among known, each legacy task complete) and indexes them.
func NewCatalog(routes []Route, known []string) (Catalog, error) {
	knownSet := map[string]bool{}
	for _, k := range known {
		knownSet[k] = true
	}
	c := Catalog{}
	var problems []error
	for _, r := range routes {
		switch {
		case r.Name == "" || r.Hatchet == "":
			problems = append(problems, fmt.Errorf("route %q: empty name or Hatchet workflow", r.Name))
		case c[r.Name].Name != "":
			problems = append(problems, fmt.Errorf("route %q declared twice", r.Name))
		case !knownSet[r.Hatchet]:
			problems = append(problems, fmt.Errorf("route %q: Hatchet workflow %q is not registered", r.Name, r.Hatchet))
		case r.Legacy != nil && (r.Legacy.Task == "" || r.Legacy.Queue == "" || r.Legacy.Args == nil):
			problems = append(problems, fmt.Errorf("route %q: legacy task needs a task name, queue and argument mapping", r.Name))
		}
		c[r.Name] = r
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("shim catalog: %w", errors.Join(problems...))
	}
	return c, nil
}

// Spawning lists the routes whose workflows start runs of their own.
func (c Catalog) Spawning() []string {
	var names []string
	for name, r := range c {
		if r.Spawns {
			names = append(names, name)
		}
	}
	return names
}

// ResultTasks maps each route that names a result task to that task.
func (c Catalog) ResultTasks() map[string]string {
	tasks := map[string]string{}
	for name, r := range c {
		if r.ResultTask != "" {
			tasks[name] = r.ResultTask
		}
	}
	return tasks
}
