// Package logging builds the service's slog logger and routes the zerolog
// output of the Hatchet SDK into it, so the service writes one readable log.
package logging

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/lmittmann/tint"
)

// New returns a logger writing to w at the given level ("debug", "info",
// "warn", "error"). Format "json" writes JSON lines; "text" writes tint's
// human format, in colour when w is a terminal.
func New(w io.Writer, level, format string) *slog.Logger {
	lvl := ParseLevel(level)
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl}))
	}
	return slog.New(tint.NewTextHandler(w, &tint.Options{
		Level:      lvl,
		TimeFormat: time.TimeOnly,
		NoColor:    !IsTerminal(w),
	}))
}

// ParseLevel maps a level name to its slog level; unknown names give info.
func ParseLevel(name string) slog.Level {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(name)); err != nil {
		return slog.LevelInfo
	}
	return lvl
}

// IsTerminal reports whether w is a terminal, where colour is welcome.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
