// Package celerybridge sends tasks to Python Celery workers over RabbitMQ and
// reads their results, speaking Celery's message protocol v2 exactly as
// Python's send_task does.
//
// The model has three parts:
//
//   - A Client owns one AMQP connection that it re-dials with backoff when the
//     broker goes away. Every publish is mandatory and confirmed: Send returns
//     only after the broker has confirmed the message (a nack is an error, a
//     message no queue accepts is ErrUnroutable), and a message whose
//     confirmation was lost with the connection is published again on the next
//     one. Delivery is therefore at least once. Send is safe for concurrent use:
//     concurrent Sends publish on a few confirming channels of the connection,
//     and each waits for its own confirmation.
//   - Routing follows Celery's task_routes: exact names first, then glob
//     patterns in order, else the default queue "celery". Messages go to the
//     default exchange "" with the queue name as routing key; the bridge never
//     declares a worker's queue.
//   - A result backend chosen by URL, as CELERY_RESULT_BACKEND names it:
//     "rpc://" consumes a reply queue owned by the Client; "db+postgresql://…"
//     reads Celery's celery_taskmeta table and decodes its pickled results;
//     "redis://…" or "rediss://…" reads the JSON Celery stores under
//     celery-task-meta-<id>, learning of new results by pub/sub.
//     Wait blocks until a task reaches a final state; Lookup reports the
//     current state at once (PENDING when nothing is known).
//
// Result values are returned as json.RawMessage holding the exact JSON the
// worker produced (rpc://, redis://) or the pickled Python value re-encoded
// as JSON (db+postgresql://, integers of any size kept exact). A FAILURE or REVOKED
// result comes back as a *TaskError, which matches ErrNotRegistered or
// ErrRevoked with errors.Is where it applies.
package celerybridge
