package logging

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"

	"github.com/rs/zerolog"
)

// Zerolog returns a zerolog logger whose events are re-emitted on l, for
// libraries (the Hatchet SDK) that only accept zerolog. Events below min are
// dropped before they are formatted.
func Zerolog(l *slog.Logger, component string, min zerolog.Level) *zerolog.Logger {
	zl := zerolog.New(&bridge{log: l.With("component", component)}).Level(min)
	return &zl
}

// ZerologLines re-emits on l, with component, each line of zerolog JSON
// read from r until it ends (a library's own logger writing to a pipe). A
// line for which quiet reports true is emitted at debug level; a line that
// is not JSON at info.
func ZerologLines(r io.Reader, l *slog.Logger, component string, quiet func(event map[string]any) bool) {
	b := &bridge{log: l.With("component", component), quiet: quiet}
	lines := bufio.NewScanner(r)
	lines.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for lines.Scan() {
		_, _ = b.Write(lines.Bytes())
	}
	_, _ = io.Copy(io.Discard, r) // a line beyond the scanner's limit
}

// bridge is an io.Writer receiving zerolog's JSON events.
type bridge struct {
	log   *slog.Logger
	quiet func(event map[string]any) bool // nil: none is
}

func (b *bridge) Write(p []byte) (int, error) {
	var event map[string]any
	if err := json.Unmarshal(p, &event); err != nil {
		b.log.Info(string(p))
		return len(p), nil
	}
	msg, _ := event[zerolog.MessageFieldName].(string)
	level := slogLevel(event[zerolog.LevelFieldName])
	if b.quiet != nil && b.quiet(event) {
		level = slog.LevelDebug
	}
	delete(event, zerolog.MessageFieldName)
	delete(event, zerolog.LevelFieldName)
	delete(event, zerolog.TimestampFieldName) // the record has its own
	attrs := make([]slog.Attr, 0, len(event))
	for k, v := range event {
		attrs = append(attrs, slog.Any(k, v))
	}
	b.log.LogAttrs(context.Background(), level, msg, attrs...)
	return len(p), nil
}

func slogLevel(v any) slog.Level {
	s, _ := v.(string)
	switch s {
	case "debug", "trace":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error", "fatal", "panic":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
