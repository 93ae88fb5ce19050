package hatchetrun

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"
)

func ptr[T any](v T) *T { return &v }

// TestError checks which message a run reports, unquoted.
func TestError(t *testing.T) {
	tests := []struct {
		name string
		d    rest.V1WorkflowRunDetails
		want string
	}{
		{"none", rest.V1WorkflowRunDetails{}, ""},
		{"run message", rest.V1WorkflowRunDetails{Run: rest.V1WorkflowRun{ErrorMessage: ptr("boom")}}, "boom"},
		{"JSON-quoted run message", rest.V1WorkflowRunDetails{Run: rest.V1WorkflowRun{ErrorMessage: ptr(`"either llm or llm_adapter_id is required"`)}},
			"either llm or llm_adapter_id is required"},
		{"quotes inside stay", rest.V1WorkflowRunDetails{Run: rest.V1WorkflowRun{ErrorMessage: ptr(`file "x" missing`)}}, `file "x" missing`},
		{"task messages", rest.V1WorkflowRunDetails{Tasks: []rest.V1TaskSummary{
			{DisplayName: "extract-text-1", ActionId: ptr("document-processing-v2:extract-text"), ErrorMessage: ptr(`"no such file"`)},
			{DisplayName: "chunk-text-2"},
		}}, "extract-text: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Error(&tt.d); got != tt.want {
				t.Errorf("Error = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestTaskFailure checks a task's failure as a run's error shows it,
// whichever way the engine kept the message.
func TestTaskFailure(t *testing.T) {
	const text = "Client error: 404 Not Found: {\"error\":\"gone\"}\n"
	quoted, _ := json.Marshal(text)
	for _, msg := range []string{text, string(quoted)} {
		if got := TaskFailure("process-files", msg); got != "process-files: "+text {
			t.Errorf("TaskFailure(%q) = %q, want the task's name and the text", msg, got)
		}
	}
}

// TestNotYetVisible checks the SDK's 404 text is recognised.
func TestNotYetVisible(t *testing.T) {
	if !NotYetVisible(errors.New("failed to get workflow run: got status 404")) || NotYetVisible(nil) || NotYetVisible(errors.New("got status 500")) {
		t.Error("NotYetVisible misreads the SDK's errors")
	}
}

// TestCancelBadID checks a non-UUID id fails before calling the engine.
func TestCancelBadID(t *testing.T) {
	if err := Cancel(t.Context(), nil, "not-a-uuid"); !errors.Is(err, ErrBadID) {
		t.Errorf("Cancel = %v, want ErrBadID", err)
	}
}

// TestChildrenCount checks how spawned runs are counted by state: every
// ended run is done, whatever its end.
func TestChildrenCount(t *testing.T) {
	tests := []struct {
		name     string
		statuses []rest.V1TaskStatus
		want     Children
	}{
		{"none", nil, Children{}},
		{"all kinds", []rest.V1TaskStatus{rest.V1TaskStatusCOMPLETED, rest.V1TaskStatusFAILED, rest.V1TaskStatusCANCELLED,
			rest.V1TaskStatusRUNNING, rest.V1TaskStatusQUEUED},
			Children{Total: 5, Done: 3, Succeeded: 1, Failed: 1, Cancelled: 1, Running: 1, Queued: 1}},
		{"still running", []rest.V1TaskStatus{rest.V1TaskStatusRUNNING, rest.V1TaskStatusRUNNING, rest.V1TaskStatusCOMPLETED},
			Children{Total: 3, Done: 1, Succeeded: 1, Running: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Children
			for _, s := range tt.statuses {
				c.addRun(rest.V1TaskSummary{Status: s})
			}
			if c != tt.want {
				t.Errorf("counted %+v, want %+v", c, tt.want)
			}
		})
	}
}

// TestChildrenBatches checks a batch run counts as its files: by its
// output's counts once completed, else all in the run's state.
func TestChildrenBatches(t *testing.T) {
	batch := func(files string, s rest.V1TaskStatus, output map[string]any) rest.V1TaskSummary {
		return rest.V1TaskSummary{Status: s, AdditionalMetadata: &map[string]any{BatchFilesKey: files}, Output: output}
	}
	tests := []struct {
		name string
		runs []rest.V1TaskSummary
		want Children
	}{
		{"completed, counts at the top", []rest.V1TaskSummary{batch("4", rest.V1TaskStatusCOMPLETED,
			map[string]any{"successful_files": 3, "failed_files": 1})}, Children{Total: 4, Done: 4, Succeeded: 3, Failed: 1}},
		{"completed, counts under the task", []rest.V1TaskSummary{batch("3", rest.V1TaskStatusCOMPLETED,
			map[string]any{"process-batch": map[string]any{"successful_files": 1, "failed_files": 2}})}, Children{Total: 3, Done: 3, Succeeded: 1, Failed: 2}},
		{"completed without counts", []rest.V1TaskSummary{batch("2", rest.V1TaskStatusCOMPLETED, map[string]any{"x": 1})},
			Children{Total: 2, Done: 2, Succeeded: 2}},
		{"running, queued, cancelled, failed", []rest.V1TaskSummary{batch("4", rest.V1TaskStatusRUNNING, nil), batch("4", rest.V1TaskStatusQUEUED, nil),
			batch("2", rest.V1TaskStatusCANCELLED, nil), batch("1", rest.V1TaskStatusFAILED, nil)},
			Children{Total: 11, Done: 3, Running: 4, Queued: 4, Cancelled: 2, Failed: 1}},
		{"bad count is one run", []rest.V1TaskSummary{batch("x", rest.V1TaskStatusRUNNING, nil), batch("-3", rest.V1TaskStatusRUNNING, nil)},
			Children{Total: 2, Running: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Children
			for _, r := range tt.runs {
				c.addRun(r)
			}
			if c != tt.want {
				t.Errorf("counted %+v, want %+v", c, tt.want)
			}
		})
	}
}

// TestGathered reads a finished run's item counts from its own output, as
// a run's output or keyed by its one task, and nothing from other output.
func TestGathered(t *testing.T) {
	tests := []struct {
		output string
		want   Children
		ok     bool
	}{
		{`{"successful_files": 22, "failed_files": 2, "results": {}}`, Children{Total: 24, Done: 24, Succeeded: 22, Failed: 2}, true},
		{`{"process-files": {"successful_files": 3, "failed_files": 0}}`, Children{Total: 3, Done: 3, Succeeded: 3}, true},
		{`{"successful_files": 3}`, Children{}, false},
		{`{"a": {}, "b": {}}`, Children{}, false},
		{`null`, Children{}, false},
		{``, Children{}, false},
	}
	for _, tt := range tests {
		got, ok := Gathered(json.RawMessage(tt.output))
		if ok != tt.ok || got != tt.want {
			t.Errorf("Gathered(%s) = %+v, %v; want %+v, %v", tt.output, got, ok, tt.want, tt.ok)
		}
	}
}
