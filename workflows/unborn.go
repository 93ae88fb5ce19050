package workflows

import (
	"context"
	"fmt"
	"time"
)

// A batch run can be unborn: the engine hands out its id but never creates
// it. The engine (v0.105.0) records a spawned child's id, as an event keyed
// by the parent task and the child's key, in one transaction, and creates
// the child in another. When it is killed between the two, every later
// spawn of that key gets the same id, for a run that never exists, and a
// wait for it lasts until the parent's timeout (4 hours).
//
// unbornWatch asks the engine's own records about each batch run until
// they hold it. A run they have been missing for after is spawned again
// under a key named after it ("batch:N:after:<id>"): a retried parent then
// finds that replacement instead of spawning yet another. The wait for the
// first run goes on, so a run that turns up after all still counts;
// whichever of a batch's runs ends first gives its outcome.

// RunRecords tells whether the engine holds a run.
type RunRecords interface {
	// Exists reports whether the engine's own records hold run runID.
	Exists(ctx context.Context, runID string) (bool, error)
}

// DefaultUnbornAfter is how long a batch run may be missing from the
// engine's records before it is spawned again. The engine creates a run
// within milliseconds of handing out its id, or, when it queues the
// creation, once its controllers read the message.
const DefaultUnbornAfter = 2 * time.Minute

// recordsTimeout bounds one question to the engine's records.
const recordsTimeout = 10 * time.Second

// unbornWatch watches a fan-out's batch runs (see above). A nil watch, or
// one without records, watches nothing.
type unbornWatch struct {
	records RunRecords
	after   time.Duration
	// respawn spawns batch again under key.
	respawn func(batch int, key string) (runHandle, error)
	// warn tells the run's log and the service log.
	warn   func(msg string, attrs ...any)
	runs   []watchedRun
	ticker *time.Ticker
}

// watchedRun is the latest run of one batch, as the watch knows it.
type watchedRun struct {
	id string
	// missingSince is the first of an unbroken series of answers that the
	// records lack the run; zero before one.
	missingSince time.Time
	found        bool
}

// batchKey is batch i's spawn key: a retry of the parent gets the run its
// first attempt spawned.
func batchKey(i int) string { return fmt.Sprintf("batch:%d", i) }

// watching reports whether w watches anything.
func (w *unbornWatch) watching() bool { return w != nil && w.records != nil && w.after > 0 }

// begin starts watching the batches' runs.
func (w *unbornWatch) begin(batches []batchRun) {
	if !w.watching() {
		return
	}
	w.runs = make([]watchedRun, len(batches))
	for i, b := range batches {
		w.runs[i] = watchedRun{id: b.run.RunId()}
	}
	w.ticker = time.NewTicker(w.after / 4)
}

// tick fires when the runs are due to be checked; never for a watch that
// watches nothing.
func (w *unbornWatch) tick() <-chan time.Time {
	if !w.watching() || w.ticker == nil {
		return nil
	}
	return w.ticker.C
}

// stop ends the watch.
func (w *unbornWatch) stop() {
	if w.watching() && w.ticker != nil {
		w.ticker.Stop()
	}
}

// check asks the records about each batch run not yet found nor gathered,
// and returns the runs it spawned in place of unborn ones, by batch. An
// unanswered question counts as neither found nor missing.
func (w *unbornWatch) check(ctx context.Context, gathered []bool) (map[int]runHandle, error) {
	again := map[int]runHandle{}
	for i := range w.runs {
		r := &w.runs[i]
		if r.found || gathered[i] {
			continue
		}
		found, err := w.exists(ctx, r.id)
		switch {
		case err != nil:
			r.missingSince = time.Time{}
		case found:
			r.found = true
		case r.missingSince.IsZero():
			r.missingSince = time.Now()
		case time.Since(r.missingSince) >= w.after:
			run, err := w.replace(i, r)
			if err != nil {
				return nil, err
			}
			again[i] = run
		}
	}
	return again, nil
}

// exists asks the records about one run.
func (w *unbornWatch) exists(ctx context.Context, runID string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, recordsTimeout)
	defer cancel()
	return w.records.Exists(ctx, runID)
}

// replace spawns batch i again in place of its unborn run r, and watches
// the new run instead.
func (w *unbornWatch) replace(i int, r *watchedRun) (runHandle, error) {
	run, err := w.respawn(i, batchKey(i)+":after:"+r.id)
	if err != nil {
		return nil, fmt.Errorf("spawn batch %d again in place of run %s, which the engine never created: %w", i, r.id, err)
	}
	w.warn("batch run never created; spawned it again", "batch", i, "unborn_run_id", r.id,
		"missing_for", time.Since(r.missingSince).Round(time.Second), "batch_run_id", run.RunId())
	*r = watchedRun{id: run.RunId()}
	return run, nil
}
