package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestZerologIsRoutedIntoSlog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	zl := Zerolog(log, "hatchet-sdk", zerolog.InfoLevel)
	zl.Debug().Msg("dropped below min level")
	zl.Warn().Str("worker", "w1").Int("slots", 4).Msg("slow heartbeat")
	zl.Error().Msg("listener failed")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), buf.String())
	}
	tests := []struct {
		line  string
		level string
		msg   string
		attrs map[string]any
	}{
		{lines[0], "WARN", "slow heartbeat", map[string]any{"worker": "w1", "slots": 4.0, "component": "hatchet-sdk"}},
		{lines[1], "ERROR", "listener failed", map[string]any{"component": "hatchet-sdk"}},
	}
	for _, tt := range tests {
		var rec map[string]any
		if err := json.Unmarshal([]byte(tt.line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["level"] != tt.level || rec["msg"] != tt.msg {
			t.Errorf("record %v, want %s %q", rec, tt.level, tt.msg)
		}
		for k, v := range tt.attrs {
			if rec[k] != v {
				t.Errorf("%s = %v, want %v", k, rec[k], v)
			}
		}
	}
}

func TestNewFormats(t *testing.T) {
	tests := []struct {
		format, level string
		json          bool
		debugShown    bool
	}{
		{"json", "debug", true, true},
		{"json", "info", true, false},
		{"text", "debug", false, true},
		{"text", "nonsense", false, false}, // unknown levels mean info
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		log := New(&buf, tt.level, tt.format)
		log.Debug("dbg")
		log.Info("hello", "k", "v")
		out := buf.String()
		if got := json.Valid([]byte(strings.Split(strings.TrimSpace(out), "\n")[0])); got != tt.json {
			t.Errorf("%s/%s: JSON = %v, want %v: %q", tt.format, tt.level, got, tt.json, out)
		}
		if strings.Contains(out, "dbg") != tt.debugShown {
			t.Errorf("%s/%s: debug shown = %v", tt.format, tt.level, !tt.debugShown)
		}
		if strings.Contains(out, "\x1b[") {
			t.Errorf("colour codes written to a non-terminal: %q", out)
		}
	}
}

// TestZerologLines re-emits each line read at its level, drops the
// engine's own timestamp, demotes the lines quiet picks, and keeps a line
// that is not JSON.
func TestZerologLines(t *testing.T) {
	in := strings.Join([]string{
		`{"level":"error","error":"context canceled","time":"2026-01-01T00:00:00Z","message":"listener stopped"}`,
		`{"level":"warn","error":"boom","message":"real trouble"}`,
		`not json`,
	}, "\n") + "\n"
	var out bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	quiet := func(e map[string]any) bool { return e["error"] == "context canceled" }
	ZerologLines(strings.NewReader(in), log, "engine", quiet)

	var got []map[string]any
	for line := range strings.Lines(out.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON record: %q", line)
		}
		got = append(got, rec)
	}
	want := []struct{ level, msg string }{{"DEBUG", "listener stopped"}, {"WARN", "real trouble"}, {"INFO", "not json"}}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d:\n%s", len(got), len(want), out.String())
	}
	for i, w := range want {
		if got[i]["level"] != w.level || got[i]["msg"] != w.msg || got[i]["component"] != "engine" {
			t.Errorf("record %d = %v, want level %s msg %q component engine", i, got[i], w.level, w.msg)
		}
	}
	if ts, ok := got[0]["time"].(string); !ok || strings.HasPrefix(ts, "2026-01-01") {
		t.Errorf("record time = %v, want the record's own, not the engine's", got[0]["time"])
	}
}
