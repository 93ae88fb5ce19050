// Package shim is the dual-mode HTTP API the platform's backend calls while
// it migrates from Celery to Hatchet.
//
// One request flows straight through: the handler decodes and validates it,
// looks the workflow up in the Catalog, asks the routing decision (feature
// flags) which backend serves it and why, records the execution in the Store
// (which also makes idempotency keys work), and hands the work to that
// Backend — a Hatchet workflow run or a legacy Celery task through
// shim/celerybridge. The answer, 202, is sent only once the backend has
// durably accepted the work; a backend that is down gives 503 (or, when
// fallback is enabled, the other backend, and the reason says so).
//
// Status and cancel requests find the execution in the Store and ask the
// backend that holds it. Every error is {"error": {"code", "message"}}.
package shim
