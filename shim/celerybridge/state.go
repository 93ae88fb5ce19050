package celerybridge

// State is a Celery task state as the result backend reports it.
type State string

// The Celery task states.
const (
	StatePending State = "PENDING"
	StateStarted State = "STARTED"
	StateRetry   State = "RETRY"
	StateSuccess State = "SUCCESS"
	StateFailure State = "FAILURE"
	StateRevoked State = "REVOKED"
)

// Final reports whether the state is one a task does not leave.
func (s State) Final() bool {
	return s == StateSuccess || s == StateFailure || s == StateRevoked
}
