//go:build integration

package workflows_test

import (
	"os"
	"testing"

	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
)

// TestMain runs the tests on a shared engine without optimistic scheduling,
// and drops its database after them. Every trigger then goes through the
// engine's message queue, the path an engine takes under load (more than
// five triggers at once) or before it has loaded its tenant after a
// restart: the path that leaves a spawned child unborn (see
// TestWorkflowExecutionUnbornBatch). Optimistic scheduling would create
// such a child under its recorded id instead.
func TestMain(m *testing.M) {
	if err := os.Setenv("SERVER_OPTIMISTIC_SCHEDULING_ENABLED", "false"); err != nil {
		panic(err)
	}
	os.Exit(hatchettest.Main(m))
}
