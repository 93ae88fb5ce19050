package workflows

import (
	"fmt"
	"log/slog"
	"strings"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
)

// progress writes one line to the run's log in the Hatchet dashboard and the
// same event, with the run id, to the service log.
func progress(ctx hatchet.Context, log *slog.Logger, msg string, attrs ...any) {
	runLog(ctx, log, slog.LevelInfo, msg, attrs...)
}

// runLog writes msg at level to the run's log and the service log, as
// progress does.
func runLog(ctx hatchet.Context, log *slog.Logger, level slog.Level, msg string, attrs ...any) {
	var b strings.Builder
	b.WriteString(msg)
	for i := 0; i+1 < len(attrs); i += 2 {
		fmt.Fprintf(&b, " %v=%v", attrs[i], attrs[i+1])
	}
	ctx.Log(b.String())
	log.Log(ctx, level, msg, append([]any{"run_id", ctx.WorkflowRunId(), "task", ctx.StepName()}, attrs...)...)
}
