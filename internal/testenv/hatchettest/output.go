package hatchettest

import (
	"encoding/json"
	"fmt"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"

	"github.com/unstract/hatchet-worker/internal/hatchetrun"
)

// TaskOutput decodes into out the output of the completed task called name
// in the run d describes, and reports whether the run has one.
func TaskOutput(d *rest.V1WorkflowRunDetails, name string, out any) (bool, error) {
	for _, task := range d.Tasks {
		if hatchetrun.TaskName(task) != name || task.Status != rest.V1TaskStatusCOMPLETED {
			continue
		}
		raw, err := json.Marshal(task.Output)
		if err != nil {
			return true, fmt.Errorf("encode %s output: %w", name, err)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return true, fmt.Errorf("decode %s output: %w", name, err)
		}
		return true, nil
	}
	return false, nil
}
