package celerybridge

import "path"

// DefaultQueue is Celery's default task queue.
const DefaultQueue = "celery"

// Route sends tasks whose name matches Pattern to Queue. Pattern is an exact
// task name or a glob ("*", "?", "[…]"), as in Celery's task_routes.
type Route struct {
	Pattern string
	Queue   string
}

// Routes is an ordered routing table with Celery's task_routes semantics: an
// exact name match wins, then the first matching glob, else the default queue.
type Routes []Route

// Queue returns the queue for task, or def when no route matches.
func (rs Routes) Queue(task, def string) string {
	for _, r := range rs {
		if r.Pattern == task {
			return r.Queue
		}
	}
	for _, r := range rs {
		if ok, err := path.Match(r.Pattern, task); err == nil && ok {
			return r.Queue
		}
	}
	return def
}
