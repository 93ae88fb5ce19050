// Package filewatch calls a reload function whenever a configuration file
// may have changed: on a notification for its directory, so rename-over
// replacements and editors are seen, and on a poll in case a notification
// is missed or unavailable.
package filewatch

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// settle is how long Watch waits after a change notification before
// reloading, so a burst of events from one save becomes one reload.
const settle = 100 * time.Millisecond

// Watch calls reload once at the start (catching changes made before the
// watch), after each burst of change notifications in path's directory,
// and every poll, until ctx ends. what names the file in its log lines.
func Watch(ctx context.Context, path string, poll time.Duration, log *slog.Logger, what string, reload func(context.Context)) {
	events, stop := notify(ctx, path, poll, log, what)
	defer stop()
	reload(ctx)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	var due <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-events:
			due = time.After(settle)
		case <-due:
			due = nil
			reload(ctx)
		case <-tick.C:
			reload(ctx)
		}
	}
}

// notify starts an fsnotify watch on path's directory and returns a
// channel that receives on any change there. If the watch cannot start it
// logs why and returns a nil channel, leaving polling alone.
func notify(ctx context.Context, path string, poll time.Duration, log *slog.Logger, what string) (<-chan struct{}, func()) {
	w, err := fsnotify.NewWatcher()
	if err == nil {
		err = w.Add(filepath.Dir(path))
		if err != nil {
			_ = w.Close()
		}
	}
	if err != nil {
		log.WarnContext(ctx, what+": file notifications unavailable; polling only", "file", path, "poll", poll, "error", err)
		return nil, func() {}
	}
	out := make(chan struct{}, 1)
	go forward(ctx, w, out, log, what, path)
	return out, func() { _ = w.Close() }
}

// forward turns watcher events into wake-ups on out and logs watcher
// errors, until the watcher closes.
func forward(ctx context.Context, w *fsnotify.Watcher, out chan<- struct{}, log *slog.Logger, what, path string) {
	for {
		select {
		case _, ok := <-w.Events:
			if !ok {
				return
			}
			select {
			case out <- struct{}{}:
			default:
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			log.WarnContext(ctx, what+": file watch error", "file", path, "error", err)
		}
	}
}
