package shim

import (
	"encoding/json"
	"time"
)

// Outcome is how far an execution got, as outcome tracking last recorded
// it in the execution record. Once FinishedAt is set it never changes, so a
// status never goes backwards, even after a restart.
type Outcome struct {
	// State is one of the State constants; queued until tracking sees more.
	State        string     `json:"status"`
	BackendState string     `json:"backend_status,omitempty"`
	StartedAt    *time.Time `json:"started_at,omitempty"`
	FinishedAt   *time.Time `json:"finished_at,omitempty"`
	// DurationSeconds is the time from acceptance to the end (queue to finish).
	DurationSeconds float64         `json:"duration_seconds,omitempty"`
	Error           *FailureInfo    `json:"error,omitempty"`
	Result          json.RawMessage `json:"result,omitempty"`
}

// Finished reports whether the record holds a terminal outcome.
func (o Outcome) Finished() bool { return o.FinishedAt != nil }

// maxStoredResult caps the result kept in the record; a larger one stays
// readable from its backend only.
const maxStoredResult = 64 << 10

// outcomeOf is the outcome st reports.
func outcomeOf(st Status) Outcome {
	o := Outcome{State: st.State, BackendState: st.BackendState, StartedAt: st.StartedAt, FinishedAt: st.FinishedAt, Error: st.Error}
	if len(st.Result) <= maxStoredResult {
		o.Result = st.Result
	}
	return o
}

// recorded is e's status as its record holds it: what Status answers for a
// finished execution its backend no longer shows (an rpc:// result after a
// restart).
func recorded(e Execution) Status {
	st := e.Status()
	st.State, st.BackendState, st.StartedAt, st.FinishedAt = e.State, e.BackendState, e.StartedAt, e.FinishedAt
	st.Error, st.Result = e.Error, e.Result
	return st
}
