package celerybridge

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrUnroutable means no queue accepted the message (the broker returned it).
	ErrUnroutable = errors.New("celerybridge: message unroutable (no such queue)")
	// ErrNacked means the broker refused the message with a negative confirm.
	ErrNacked = errors.New("celerybridge: message nacked by broker")
	// ErrClosed means the Client has been closed.
	ErrClosed = errors.New("celerybridge: client closed")
	// ErrNotRegistered matches a *TaskError for a task name the worker does not know.
	ErrNotRegistered = errors.New("celerybridge: task not registered")
	// ErrRevoked matches a *TaskError for a revoked or expired task.
	ErrRevoked = errors.New("celerybridge: task revoked")
	// ErrUnsupportedBackend means the result backend URL names no backend this package reads.
	ErrUnsupportedBackend = errors.New("celerybridge: unsupported result backend")
	// ErrNoBackend means results were asked for but the Client has no result backend.
	ErrNoBackend = errors.New("celerybridge: no result backend")
)

// TaskError is a task that ended in FAILURE or REVOKED, as the worker reported it.
type TaskError struct {
	TaskID    string
	State     State
	ExcType   string
	ExcModule string
	// ExcMessage is the exception's message: its lone string argument, or
	// its arguments' JSON text.
	ExcMessage string
	// ExcArgs is exc_message exactly as Celery stored it: the exception's
	// arguments, usually a JSON list; nil when the result was not an
	// exception dict.
	ExcArgs   json.RawMessage
	Traceback string
}

// Error describes the task's exception.
func (e *TaskError) Error() string {
	return fmt.Sprintf("celery task %s %s: %s.%s: %s", e.TaskID, e.State, e.ExcModule, e.ExcType, e.ExcMessage)
}

// Is makes errors.Is(err, ErrNotRegistered) and errors.Is(err, ErrRevoked) work.
func (e *TaskError) Is(target error) bool {
	switch target {
	case ErrNotRegistered:
		return e.ExcType == "NotRegistered"
	case ErrRevoked:
		return e.State == StateRevoked
	}
	return false
}
