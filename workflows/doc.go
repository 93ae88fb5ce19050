// Package workflows holds the platform's Hatchet workflows and the registry
// the worker registers from.
//
// Each workflow is a Definition: a name, a description, a timeout and tasks
// with their parents, timeouts and retries. Validate checks a definition
// before it reaches the engine; Build turns it into an SDK workflow. Task
// bodies call plain functions from helpers/ and, for legacy steps, the
// CeleryBridge; they never talk HTTP to the backend.
package workflows
