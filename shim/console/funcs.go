package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"time"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"pct":     pct,
	"secs":    secs,
	"ts":      ts,
	"raw":     raw,
	"rawf":    rawf,
	"errline": errline,
	"add":     func(a, b int) int { return a + b },
	"ptr":     func(f float64) *float64 { return &f },
}

// pct renders a rate as a percentage, "–" when absent.
func pct(r *float64) string {
	if r == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f %%", *r*100)
}

// secs renders seconds for a reader, "–" when absent.
func secs(s *float64) string {
	if s == nil {
		return "–"
	}
	return (time.Duration(*s * float64(time.Second))).Round(time.Millisecond).String()
}

// ts renders a time in UTC.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") }

// raw renders an optional number for a data attribute, "" when absent.
func raw(f *float64) string {
	if f == nil {
		return ""
	}
	return rawf(*f)
}

// rawf renders a number exactly, for a data attribute.
func rawf(f float64) string { return fmt.Sprint(f) }

// errline is the first line of an error message.
func errline(s string) string {
	line, _, _ := bytes.Cut([]byte(s), []byte("\n"))
	if len(line) > 120 {
		return string(line[:120]) + "…"
	}
	return string(line)
}

// indentJSON indents raw JSON for display; "" for none.
func indentJSON(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// mustJSON marshals v, which cannot fail for the values it is given.
func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
