package worker

import (
	"context"
	"time"
)

// Hand-over timing. The engine's scheduler re-reads its workers every
// leaseInterval; until then it goes on assigning tasks to a paused or
// stopped worker. releasedPoll is how often a drain asks whether it has
// let go, and inTransit how long a task the scheduler assigned just before
// may take to arrive.
const (
	leaseInterval = 6 * time.Second
	releasedPoll  = 100 * time.Millisecond
	inTransit     = 500 * time.Millisecond
	pauseTimeout  = 5 * time.Second
)

// WithoutHandOver stops the worker at once on Drain, for a worker no
// other run can be assigned to (its runs require its own unique label).
func WithoutHandOver() Option { return withPause(nil) }

// withPause sets how the worker is paused at the engine.
func withPause(pause func(ctx context.Context, workerID string) error) Option {
	return func(w *Worker) { w.pause = pause }
}

// handOver pauses the worker at the engine and keeps it listening until
// the engine's scheduler has let go of it. A task assigned before then
// still reaches this worker and runs here: were the worker gone, the
// engine could not send it and would retry it, counting the retry in the
// task's RetryCount and backing off up to 5 s. An engine that cannot be
// reached has nothing to assign, so the worker stops at once.
func (w *Worker) handOver(ctx context.Context, id string) {
	if w.pause == nil || id == "" {
		return
	}
	began := time.Now()
	pctx, cancel := context.WithTimeout(ctx, pauseTimeout)
	err := w.pause(pctx, id)
	cancel()
	if err != nil {
		w.log.Warn("could not pause the worker at the engine; tasks it assigns meanwhile are retried", "worker", w.name, "err", err)
		return
	}
	w.untilReleased(ctx, id)
	w.log.Info("worker handed over", "worker", w.name, "took", time.Since(began).Round(time.Millisecond))
}

// untilReleased returns once the scheduler has let go of the worker (asked
// of released), after leaseInterval when it cannot be asked, or when ctx
// ends.
func (w *Worker) untilReleased(ctx context.Context, id string) {
	deadline := time.NewTimer(leaseInterval)
	defer deadline.Stop()
	var poll <-chan time.Time
	if w.released != nil {
		t := time.NewTicker(releasedPoll)
		defer t.Stop()
		poll = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-poll:
			if ok, err := w.released(ctx, id); err == nil && ok {
				sleep(ctx, inTransit)
				return
			}
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
