// Package hatchetrun reads and stops Hatchet workflow runs the way both the
// shim and the CLI need: whether the API shows a run yet, whether it has
// ended, what its error is, and cancelling it.
package hatchetrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
)

// ErrBadID reports a run id that is not a UUID; the engine knows no such run.
var ErrBadID = errors.New("run id is not a UUID")

// NotYetVisible reports the API's 404 for a run it has created but not yet
// indexed; the SDK only says so in its error text.
func NotYetVisible(err error) bool {
	return err != nil && strings.Contains(err.Error(), "got status 404")
}

// Final reports whether a run in state s has ended.
func Final(s rest.V1TaskStatus) bool {
	return s == rest.V1TaskStatusCOMPLETED || s == rest.V1TaskStatusFAILED || s == rest.V1TaskStatusCANCELLED
}

// Error is the run's error message or, when it has none, its tasks'
// ("task: message; …"); "" when neither has one. Messages the engine stored
// as JSON strings are unquoted.
func Error(d *rest.V1WorkflowRunDetails) string {
	if m := d.Run.ErrorMessage; m != nil && *m != "" {
		return TaskError(*m)
	}
	var msgs []string
	for _, t := range d.Tasks {
		if t.ErrorMessage != nil && *t.ErrorMessage != "" {
			msgs = append(msgs, TaskFailure(TaskName(t), *t.ErrorMessage))
		}
	}
	return strings.Join(msgs, "; ")
}

// TaskFailure is how a failed task shows in a run's error: its name and
// its message (TaskError).
func TaskFailure(name, msg string) string { return name + ": " + TaskError(msg) }

// TaskError is a task's error message as the engine hands it back, which
// may keep it as a JSON string literal: the text itself.
func TaskError(s string) string {
	var out string
	if len(s) >= 2 && s[0] == '"' && json.Unmarshal([]byte(s), &out) == nil {
		return out
	}
	return s
}

// TaskName is the task's name in its workflow, from its action id
// ("workflow:task"); the display name carries a numeric suffix.
func TaskName(t rest.V1TaskSummary) string {
	if t.ActionId != nil {
		if _, name, ok := strings.Cut(*t.ActionId, ":"); ok && name != "" {
			return name
		}
	}
	return t.DisplayName
}

// Cancel asks the engine to cancel the run and its tasks.
func Cancel(ctx context.Context, client *hatchet.Client, runID string) error {
	id, err := uuid.Parse(runID)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrBadID, runID)
	}
	ids := []uuid.UUID{id}
	if _, err := client.Runs().Cancel(ctx, rest.V1CancelTaskRequest{ExternalIds: &ids}); err != nil {
		return fmt.Errorf("cancel hatchet run %s: %w", runID, err)
	}
	return nil
}

// ParentRunKey is the metadata key the engine gives every run a task
// spawned, naming the spawning workflow run.
const ParentRunKey = "hatchet__parent_workflow_run_id"

// childFilter selects the runs the workflow run runID spawned since since.
func childFilter(runID string) []string { return []string{ParentRunKey + ":" + runID} }

// CancelChildren cancels the queued and running runs that run runID
// spawned since since (the engine does not cancel them with their parent).
func CancelChildren(ctx context.Context, client *hatchet.Client, runID string, since time.Time) error {
	meta := childFilter(runID)
	active := []rest.V1TaskStatus{rest.V1TaskStatusQUEUED, rest.V1TaskStatusRUNNING}
	req := rest.V1CancelTaskRequest{Filter: &rest.V1TaskFilter{Since: since, AdditionalMetadata: &meta, Statuses: &active}}
	if _, err := client.Runs().Cancel(ctx, req); err != nil {
		return fmt.Errorf("cancel runs spawned by %s: %w", runID, err)
	}
	return nil
}

// Children counts the items the runs that run runID spawned since since
// process, by state: one a run, or a batch run's files.
type Children struct {
	Total int `json:"total"`
	// Done counts the runs that ended: succeeded, failed or cancelled.
	Done      int `json:"done"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
	Running   int `json:"running"`
	Queued    int `json:"queued"`
}

// maxChildren bounds one listing of a run's children.
const maxChildren = 10000

// BatchFilesKey is the metadata key of a spawned run that processes a batch
// of items: how many. Children counts such a run as that many, and a
// completed one by its output's successful_files and failed_files, the
// counts of the platform's process_file_batch result.
const BatchFilesKey = "batch_files"

// CountChildren lists the runs run runID spawned since since and counts
// them by state, a batch run (BatchFilesKey) as its items.
func CountChildren(ctx context.Context, client *hatchet.Client, runID string, since time.Time) (Children, error) {
	meta := childFilter(runID)
	limit := int64(maxChildren)
	// The engine leaves outputs out unless asked, whatever its API says.
	payloads := true
	list, err := client.Runs().List(ctx, rest.V1WorkflowRunListParams{Since: since, AdditionalMetadata: &meta, Limit: &limit, IncludePayloads: &payloads})
	if err != nil {
		return Children{}, fmt.Errorf("list runs spawned by %s: %w", runID, err)
	}
	var c Children
	for _, r := range list.Rows {
		c.addRun(r)
	}
	return c, nil
}

// Gathered is the count of a finished run's items as its own output
// (json) gives them, successful_files and failed_files, when it does: what
// its children did, as the run gathered it. After a crash the engine's read
// model can go on showing some of the children unfinished.
func Gathered(output json.RawMessage) (Children, bool) {
	out, ok := countsIn(output)
	if !ok {
		return Children{}, false
	}
	var c Children
	c.addCounts(out)
	return c, true
}

// batchCounts is the part of a batch run's output Children reads.
type batchCounts struct {
	SuccessfulFiles *int `json:"successful_files"`
	FailedFiles     *int `json:"failed_files"`
}

// addRun counts one spawned run: one item, or a batch's items.
func (c *Children) addRun(r rest.V1TaskSummary) {
	n := batchFiles(r.AdditionalMetadata)
	if n == 0 {
		c.add(r.Status, 1)
		return
	}
	if r.Status != rest.V1TaskStatusCOMPLETED {
		c.add(r.Status, n)
		return
	}
	out, ok := countsOf(r.Output)
	if !ok {
		c.add(r.Status, n)
		return
	}
	c.addCounts(out)
}

// addCounts counts a batch's succeeded and failed items.
func (c *Children) addCounts(out batchCounts) {
	c.add(rest.V1TaskStatusCOMPLETED, *out.SuccessfulFiles)
	c.add(rest.V1TaskStatusFAILED, *out.FailedFiles)
}

// countsOf reads a batch run's counts from its output, or from the one
// task output it is keyed by.
func countsOf(output map[string]any) (batchCounts, bool) {
	raw, err := json.Marshal(output)
	if err != nil {
		return batchCounts{}, false
	}
	return countsIn(raw)
}

// countsIn is countsOf for an output as JSON.
func countsIn(raw []byte) (batchCounts, bool) {
	var out batchCounts
	if json.Unmarshal(raw, &out) == nil && out.SuccessfulFiles != nil && out.FailedFiles != nil {
		return out, true
	}
	var byTask map[string]json.RawMessage
	if json.Unmarshal(raw, &byTask) != nil || len(byTask) != 1 {
		return batchCounts{}, false
	}
	for _, v := range byTask {
		if json.Unmarshal(v, &out) == nil && out.SuccessfulFiles != nil && out.FailedFiles != nil {
			return out, true
		}
	}
	return batchCounts{}, false
}

// batchFiles is the BatchFilesKey of a run's metadata, 0 when absent.
func batchFiles(meta *map[string]any) int {
	if meta == nil {
		return 0
	}
	s, _ := (*meta)[BatchFilesKey].(string)
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// add counts n items in state s.
func (c *Children) add(s rest.V1TaskStatus, n int) {
	c.Total += n
	if Final(s) {
		c.Done += n
	}
	switch s {
	case rest.V1TaskStatusCOMPLETED:
		c.Succeeded += n
	case rest.V1TaskStatusFAILED:
		c.Failed += n
	case rest.V1TaskStatusCANCELLED:
		c.Cancelled += n
	case rest.V1TaskStatusRUNNING:
		c.Running += n
	default:
		c.Queued += n
	}
}
