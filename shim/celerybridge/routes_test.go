package celerybridge_test

import (
	"testing"

	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

func TestRoutesQueue(t *testing.T) {
	routes := celerybridge.Routes{
		{Pattern: "workflow_manager.*", Queue: "file_processing"},
		{Pattern: "workflow_manager.workflow_v2.file_execution_tasks.process_batch_callback", Queue: "file_processing_callback"},
		{Pattern: "logs_*", Queue: "celery_log_task_queue"},
		{Pattern: "logs_consumer", Queue: "first-exact"},
	}
	tests := []struct{ task, want string }{
		{"workflow_manager.workflow_v2.file_execution_tasks.process_file_batch", "file_processing"},
		{"workflow_manager.workflow_v2.file_execution_tasks.process_batch_callback", "file_processing_callback"},
		{"logs_consumer", "first-exact"},
		{"logs_other", "celery_log_task_queue"},
		{"async_execute_bin", "celery"},
	}
	for _, tc := range tests {
		if got := routes.Queue(tc.task, celerybridge.DefaultQueue); got != tc.want {
			t.Errorf("Queue(%q) = %q, want %q", tc.task, got, tc.want)
		}
	}
}
