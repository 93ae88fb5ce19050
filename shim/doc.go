// Package shim is the dual-mode API the platform's backend calls while it
// migrates from Celery to Hatchet.
//
// One request reads straight through:
//
//   - api.Server (shim/api, the HTTP layer): authenticates, decodes the
//     body, and maps errors to a status and a JSON body.
//   - Dispatcher (plain Go): finds the workflow's Route in the route.Catalog, asks
//     the Router (featureflag.Router: flags, pin, Hatchet-only, fallback)
//     for one Decision, claims the execution in the Store — which makes
//     idempotency keys exactly-once — and submits it to a Backend, falling
//     back to the other when the router allows; it records the backend's
//     ref and returns only once the work is durably accepted.
//   - Backend: a Hatchet workflow run (shim/backend/hatchet) or a legacy
//     Celery task through shim/celerybridge (shim/backend/celery). Backends
//     implement this package's interfaces; it imports neither.
//   - Store: store.Postgres (shim/store) keeps the records in Postgres.
//
// The Dispatcher and the backends return domain errors (ErrInvalidInput,
// ErrUnknownWorkflow, ErrNotFound, ErrConflict, ErrNotCancellable,
// ErrUnavailable); only shim/api turns them into status codes. This package
// serves no HTTP.
//
// docs/architecture.md follows one request through these, and gives the
// reasons behind leases, settling writes and the keyless path.
package shim
