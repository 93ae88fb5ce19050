package celerybridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Result is a task's state as the result backend last reported it.
type Result struct {
	// TaskID is the task's id.
	TaskID string
	// State is the task's state; PENDING when the backend knows nothing.
	State State
	// Value is the backend's result field as exact JSON: the return value on
	// SUCCESS, the exception dict on FAILURE/REVOKED/RETRY, "null" when absent.
	Value json.RawMessage
	// Traceback is the Python traceback of a failure, if any.
	Traceback string
	// DateDone is when the task reached its state; zero if not reported
	// (rpc:// replies carry no date_done).
	DateDone time.Time
}

// Err returns the *TaskError of a FAILURE or REVOKED result and nil otherwise.
func (r Result) Err() error {
	if r.State != StateFailure && r.State != StateRevoked {
		return nil
	}
	te := &TaskError{TaskID: r.TaskID, State: r.State, Traceback: r.Traceback}
	var exc struct {
		ExcType    string          `json:"exc_type"`
		ExcModule  string          `json:"exc_module"`
		ExcMessage json.RawMessage `json:"exc_message"`
	}
	if err := json.Unmarshal(r.Value, &exc); err != nil {
		te.ExcMessage = string(r.Value)
		return te
	}
	te.ExcType, te.ExcModule, te.ExcMessage = exc.ExcType, exc.ExcModule, excMessage(exc.ExcMessage)
	if len(exc.ExcMessage) > 0 {
		te.ExcArgs = exc.ExcMessage
	}
	return te
}

// excMessage renders Celery's exc_message (the exception's args list): a lone
// string argument as itself, anything else as its JSON text.
func excMessage(raw json.RawMessage) string {
	var one []string
	if err := json.Unmarshal(raw, &one); err == nil && len(one) == 1 {
		return one[0]
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return string(bytes.TrimSpace(raw))
}

// pendingResult is what Lookup reports for a task the backend does not know.
func pendingResult(id string) Result {
	return Result{TaskID: id, State: StatePending, Value: json.RawMessage("null")}
}

// replyBody is the JSON a worker publishes to an rpc:// reply queue.
type replyBody struct {
	TaskID    string          `json:"task_id"`
	Status    State           `json:"status"`
	Result    json.RawMessage `json:"result"`
	Traceback *string         `json:"traceback"`
	DateDone  *string         `json:"date_done"`
}

// parseReply decodes an rpc:// reply body into a Result.
func parseReply(body []byte) (Result, error) {
	var b replyBody
	if err := json.Unmarshal(body, &b); err != nil {
		return Result{}, fmt.Errorf("decode celery reply: %w", err)
	}
	if b.TaskID == "" || b.Status == "" {
		return Result{}, fmt.Errorf("decode celery reply: missing task_id or status")
	}
	r := Result{TaskID: b.TaskID, State: b.Status, Value: b.Result}
	if len(r.Value) == 0 {
		r.Value = json.RawMessage("null")
	}
	if b.Traceback != nil {
		r.Traceback = *b.Traceback
	}
	if b.DateDone != nil {
		r.DateDone = parseCeleryTime(*b.DateDone)
	}
	return r, nil
}

// parseCeleryTime reads the ISO-8601 timestamps Celery writes; zero if unreadable.
func parseCeleryTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02 15:04:05.999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
