package featureflag

import (
	"context"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// settle is how long Watch waits after a change notification before
// reloading, so a burst of events from one save becomes one reload.
const settle = 100 * time.Millisecond

// Watch reloads the flags file whenever its content changes, until ctx ends;
// it then returns nil. It watches the file's directory, so rename-over
// replacements and editors are seen, and re-reads the file every poll
// interval in case a notification is missed or unavailable. A file that
// fails to load is logged once per distinct content and the last good rules
// stay. Without a file Watch returns nil at once.
func (f *Flags) Watch(ctx context.Context) error {
	if f.cfg.File == "" {
		return nil
	}
	events, stop := f.notify(ctx)
	defer stop()
	f.check(ctx) // catch changes made before the watch started
	tick := time.NewTicker(f.poll)
	defer tick.Stop()
	var due <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-events:
			due = time.After(settle)
		case <-due:
			due = nil
			f.check(ctx)
		case <-tick.C:
			f.check(ctx)
		}
	}
}

// check reloads the file if it changed and logs a rejected reload.
func (f *Flags) check(ctx context.Context) {
	tried, err := f.reloadIfChanged(ctx)
	if tried && err != nil {
		f.log.ErrorContext(ctx, "feature flags reload rejected; keeping the last good flags",
			"file", f.cfg.File, "error", err)
	}
}

// notify starts an fsnotify watch on the file's directory and returns a
// channel that receives on any change there. If the watch cannot start it
// logs why and returns a nil channel, leaving polling alone.
func (f *Flags) notify(ctx context.Context) (<-chan struct{}, func()) {
	w, err := fsnotify.NewWatcher()
	if err == nil {
		err = w.Add(filepath.Dir(f.cfg.File))
		if err != nil {
			_ = w.Close()
		}
	}
	if err != nil {
		f.log.WarnContext(ctx, "feature flags: file notifications unavailable; polling only",
			"file", f.cfg.File, "poll", f.poll, "error", err)
		return nil, func() {}
	}
	out := make(chan struct{}, 1)
	go f.forward(ctx, w, out)
	return out, func() { _ = w.Close() }
}

// forward turns watcher events into wake-ups on out and logs watcher errors,
// until the watcher closes.
func (f *Flags) forward(ctx context.Context, w *fsnotify.Watcher, out chan<- struct{}) {
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
			f.log.WarnContext(ctx, "feature flags: file watch error", "file", f.cfg.File, "error", err)
		}
	}
}
