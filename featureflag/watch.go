package featureflag

import (
	"context"

	"github.com/unstract/hatchet-worker/internal/filewatch"
)

// Watch reloads the flags file whenever its content changes, until ctx ends;
// it then returns nil. It watches the file's directory, so rename-over
// replacements and editors are seen, and re-reads the file every poll
// interval in case a notification is missed or unavailable. A file that
// fails to load is logged once per distinct content and the last good rules
// stay. Without a file Watch returns nil at once.
func (f *Flags) Watch(ctx context.Context) error {
	if f.cfg.File != "" {
		filewatch.Watch(ctx, f.cfg.File, f.poll, f.log, "feature flags", f.check)
	}
	return nil
}

// check reloads the file if it changed and logs a rejected reload.
func (f *Flags) check(ctx context.Context) {
	tried, err := f.reloadIfChanged(ctx)
	if tried && err != nil {
		f.log.ErrorContext(ctx, "feature flags reload rejected; keeping the last good flags",
			"file", f.cfg.File, "error", err)
	}
}
