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
	var b strings.Builder
	b.WriteString(msg)
	for i := 0; i+1 < len(attrs); i += 2 {
		fmt.Fprintf(&b, " %v=%v", attrs[i], attrs[i+1])
	}
	ctx.Log(b.String())
	log.InfoContext(ctx, msg, append([]any{"run_id", ctx.WorkflowRunId(), "task", ctx.StepName()}, attrs...)...)
}
