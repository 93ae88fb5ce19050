package workflows

import (
	"errors"
	"fmt"
	"time"
)

// Problems a definition can have, for errors.Is.
var (
	ErrEmptyName      = errors.New("empty name")
	ErrDuplicateTask  = errors.New("duplicate task")
	ErrMissingParent  = errors.New("missing parent")
	ErrCycle          = errors.New("cycle")
	ErrTimeout        = errors.New("timeout")
	ErrNoTasks        = errors.New("no tasks")
	ErrNoFunction     = errors.New("no task function")
	ErrNegativeRetry  = errors.New("negative retries")
	ErrDuplicateFlows = errors.New("duplicate workflow")
)

// ValidateAll checks every definition and that workflow names are unique.
func ValidateAll(defs []Definition) []error {
	var problems []error
	seen := map[string]bool{}
	for _, d := range defs {
		if seen[d.Name] {
			problems = append(problems, fmt.Errorf("workflow %q: %w", d.Name, ErrDuplicateFlows))
		}
		seen[d.Name] = true
		for _, p := range Validate(d) {
			problems = append(problems, fmt.Errorf("workflow %q: %w", d.Name, p))
		}
	}
	return problems
}

// Validate checks one definition before it reaches the engine: names,
// duplicates, parents (missing, foreign or forward), cycles, and timeouts
// (positive, and no task or DAG path longer than the workflow's timeout).
func Validate(d Definition) []error {
	var p problems
	add := p.add
	if d.Name == "" {
		add(ErrEmptyName, "workflow has no name")
	}
	if d.Timeout <= 0 {
		add(ErrTimeout, "workflow timeout must be positive")
	}
	if len(d.Tasks) == 0 {
		add(ErrNoTasks, "workflow has no tasks")
	}
	index := map[string]int{}
	for i, t := range d.Tasks {
		validateTask(d, t, &p)
		if _, dup := index[t.Name]; dup && t.Name != "" {
			add(ErrDuplicateTask, "task %q declared twice", t.Name)
		}
		index[t.Name] = i
	}
	for _, t := range d.Tasks {
		for _, parent := range t.Parents {
			if _, ok := index[parent]; !ok {
				add(ErrMissingParent, "task %q: parent %q is not a task of this workflow", t.Name, parent)
			}
		}
	}
	if cyc := findCycle(d.Tasks, index); cyc != "" {
		add(ErrCycle, "tasks form a cycle through %q", cyc)
	} else if longest := longestPath(d.Tasks, index); d.Timeout > 0 && longest > d.Timeout {
		add(ErrTimeout, "the longest task path takes up to %s, more than the workflow's %s", longest, d.Timeout)
	}
	return p
}

// problems collects validation errors, each wrapping its sentinel.
type problems []error

func (p *problems) add(err error, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%w: "+format, append([]any{err}, args...)...))
}

// validateTask adds t's own problems to p.
func validateTask(d Definition, t Task, p *problems) {
	add := p.add
	if t.Name == "" {
		add(ErrEmptyName, "a task has no name")
	}
	if t.Fn == nil {
		add(ErrNoFunction, "task %q has no function", t.Name)
	}
	if t.Timeout <= 0 {
		add(ErrTimeout, "task %q: timeout must be positive", t.Name)
	}
	if d.Timeout > 0 && t.Timeout > d.Timeout {
		add(ErrTimeout, "task %q: timeout %s is longer than the workflow's %s", t.Name, t.Timeout, d.Timeout)
	}
	if t.Retries < 0 {
		add(ErrNegativeRetry, "task %q: retries %d", t.Name, t.Retries)
	}
}

// findCycle returns a task on a cycle, or "" when the graph is acyclic.
func findCycle(tasks []Task, index map[string]int) string {
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(tasks))
	var visit func(i int) string
	visit = func(i int) string {
		state[i] = visiting
		for _, p := range tasks[i].Parents {
			j, ok := index[p]
			if !ok {
				continue
			}
			if state[j] == visiting {
				return tasks[j].Name
			}
			if state[j] == unvisited {
				if c := visit(j); c != "" {
					return c
				}
			}
		}
		state[i] = done
		return ""
	}
	for i := range tasks {
		if state[i] == unvisited {
			if c := visit(i); c != "" {
				return c
			}
		}
	}
	return ""
}

// longestPath returns the largest sum of task timeouts along any chain of
// parents; the graph must be acyclic.
func longestPath(tasks []Task, index map[string]int) time.Duration {
	memo := make(map[int]time.Duration, len(tasks))
	var path func(i int) time.Duration
	path = func(i int) time.Duration {
		if v, ok := memo[i]; ok {
			return v
		}
		var best time.Duration
		for _, p := range tasks[i].Parents {
			if j, ok := index[p]; ok {
				best = max(best, path(j))
			}
		}
		memo[i] = best + tasks[i].Timeout
		return memo[i]
	}
	var longest time.Duration
	for i := range tasks {
		longest = max(longest, path(i))
	}
	return longest
}
