package frontdoor

import (
	"context"
	"encoding/json"
	"errors"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/unstract/hatchet-worker/shim"
)

// Outcomes of one revoked task id (the outcome label of revokes).
const (
	revokeCancelled = "cancelled" // its Hatchet run was cancelled
	revokeEnded     = "ended"     // its run had already ended
	revokeFailed    = "failed"    // the cancel failed; logged
)

// HandleControl takes one Celery remote-control broadcast (the
// celery.pidbox exchange, which app.control.revoke and `celery control
// revoke` publish to): a revoke of a task the front door ran on Hatchet
// cancels its run, which then ends as REVOKED for its caller. Other
// commands, and revokes of tasks on Celery, whose workers take the same
// broadcast, are Celery's. Unlike Celery's revoke without terminate, the
// cancel stops a run already under way. An error (Hatchet or the store
// unreachable) leaves the broadcast to be delivered again.
func (d *Door) HandleControl(ctx context.Context, m amqp.Delivery) error {
	if d.results == nil {
		return nil
	}
	for _, id := range revokedTasks(m.Body) {
		if err := d.revoke(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// revokedTasks returns the task ids a revoke broadcast names (one id or a
// list), none for any other body.
func revokedTasks(body []byte) []string {
	var cmd struct {
		Method    string `json:"method"`
		Arguments struct {
			TaskID json.RawMessage `json:"task_id"`
		} `json:"arguments"`
	}
	if json.Unmarshal(body, &cmd) != nil || cmd.Method != "revoke" {
		return nil
	}
	var one string
	if json.Unmarshal(cmd.Arguments.TaskID, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(cmd.Arguments.TaskID, &many)
	return many
}

// revoke cancels the run of task id, if the front door ran it on Hatchet.
func (d *Door) revoke(ctx context.Context, id string) error {
	execID, ok, err := d.results.ExecutionOf(ctx, id)
	if err != nil || !ok {
		return err
	}
	_, err = d.dispatch.Cancel(ctx, execID)
	outcome := revokeCancelled
	switch {
	case errors.Is(err, shim.ErrUnavailable):
		return err
	case errors.Is(err, shim.ErrNotCancellable):
		outcome = revokeEnded
	case err != nil:
		outcome = revokeFailed
		d.log.WarnContext(ctx, "front door: revoke", "task_id", id, "execution_id", execID, "err", err)
	}
	d.metrics.revokes.WithLabelValues(outcome).Inc()
	d.log.InfoContext(ctx, "front door: task revoked", "task_id", id, "execution_id", execID, "outcome", outcome)
	return nil
}
