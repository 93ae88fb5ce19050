package workflows_test

import (
	"log/slog"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/workflows"
)

// TestTasksWaitOutABacklog builds every registered workflow and checks that
// each task, the on-failure task included, may wait BacklogWait to be
// scheduled: with Hatchet's default of 5 minutes, work accepted before an
// engine outage longer than that was cancelled once the engine returned.
func TestTasksWaitOutABacklog(t *testing.T) {
	t.Setenv("HATCHET_CLIENT_TOKEN", testenv.FakeHatchetToken("127.0.0.1:1"))
	t.Setenv("HATCHET_CLIENT_TLS_STRATEGY", "none")
	client, err := hatchet.NewClient() // connects lazily: no engine needed
	if err != nil {
		t.Fatal(err)
	}
	wfs, err := workflows.BuildAll(client, workflows.Registry(workflows.Deps{Log: slog.Default()}))
	if err != nil {
		t.Fatal(err)
	}
	for _, wf := range wfs {
		req, _, _, _ := wf.Dump()
		tasks := req.GetTasks()
		if req.GetOnFailureTask() != nil {
			tasks = append(tasks, req.GetOnFailureTask())
		}
		for _, task := range tasks {
			got, err := time.ParseDuration(task.GetScheduleTimeout())
			if err != nil || got != workflows.BacklogWait {
				t.Errorf("%s/%s may wait %q to be scheduled, want %v", req.GetName(), task.GetReadableId(), task.GetScheduleTimeout(), workflows.BacklogWait)
			}
		}
	}
}
