// Package platform tells the Unstract platform what an execution did, through
// the platform's own channels, as its Celery workers do.
//
// The platform never waits on an execution's result: its backend reads the
// execution's status from its database (and a Redis hash it keeps current),
// and API deployments read their results from the Redis list
// api_results:{workflow_id}:{execution_id}. The workers keep both current
// through the backend's internal API. [Client] speaks that API: a bearer
// key, the organisation in X-Organization-ID, retries with backoff on 5xx and
// network errors, and an [*APIError] wrapping [ErrRefused] on any other 4xx.
// [Reporter] makes the calls of one execution in the workers' order, each
// one safe to repeat when a Hatchet step is retried: it reads the platform's
// record first and never counts a file twice or moves a final status back.
// [RedisResults] pushes API deployment results in the platform's JSON shape.
//
// Nothing here knows Hatchet: the workflows call a Reporter at a few points
// (execution started, file started, file finished, execution finished or
// failed).
package platform
