// Package e2e holds the end-to-end tests and benchmarks of the platform's
// executions: a request through the shim's dispatcher, to the workflows on
// a real Hatchet engine or to the legacy Celery workers, reported to the
// platform's internal API. Its files are tests only; it sits apart from
// workflows and shim so neither package's tests import the other.
package e2e
