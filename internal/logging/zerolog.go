package logging

import (
	"context"
	"encoding/json"
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

// bridge is an io.Writer receiving zerolog's JSON events.
type bridge struct {
	log *slog.Logger
}

func (b *bridge) Write(p []byte) (int, error) {
	var event map[string]any
	if err := json.Unmarshal(p, &event); err != nil {
		b.log.Info(string(p))
		return len(p), nil
	}
	msg, _ := event[zerolog.MessageFieldName].(string)
	level := slogLevel(event[zerolog.LevelFieldName])
	delete(event, zerolog.MessageFieldName)
	delete(event, zerolog.LevelFieldName)
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
