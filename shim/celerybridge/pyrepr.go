package celerybridge

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// reprMaxLen is Celery's default argsrepr/kwargsrepr size limit.
const reprMaxLen = 1024

// pyRepr renders a JSON-like Go value as Python's repr would, cut to Celery's
// limit the way its saferepr ends a long repr ("...").
func pyRepr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	s := b.String()
	if len(s) > reprMaxLen {
		return s[:reprMaxLen] + "..."
	}
	return s
}

func writeRepr(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		b.WriteString(map[bool]string{true: "True", false: "False"}[x])
	case string:
		b.WriteString(pyQuote(x))
	case json.Number:
		b.WriteString(x.String())
	case float64:
		b.WriteString(pyFloat(x))
	case float32:
		b.WriteString(pyFloat(float64(x)))
	case []any:
		writeSeq(b, x)
	case map[string]any:
		writeMap(b, x)
	case json.RawMessage:
		writeRepr(b, decodeNumbers(x))
	default:
		writeOther(b, v)
	}
}

func writeSeq(b *strings.Builder, xs []any) {
	b.WriteByte('[')
	for i, x := range xs {
		if i > 0 {
			b.WriteString(", ")
		}
		writeRepr(b, x)
	}
	b.WriteByte(']')
}

func writeMap(b *strings.Builder, m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the order encoding/json writes the body in
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyQuote(k))
		b.WriteString(": ")
		writeRepr(b, m[k])
	}
	b.WriteByte('}')
}

// writeOther renders any other value through its JSON form.
func writeOther(b *strings.Builder, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintf(b, "%v", v)
		return
	}
	switch decoded := decodeNumbers(raw).(type) {
	case string, json.Number, bool, nil, []any, map[string]any:
		writeRepr(b, decoded)
	default:
		fmt.Fprintf(b, "%v", v)
	}
}

// decodeNumbers decodes JSON keeping numbers as json.Number; nil on error.
func decodeNumbers(raw []byte) any {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	return v
}

func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".en") {
		s += ".0"
	}
	return s
}

// pyQuote quotes s as Python's str.__repr__ does.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\' || r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r > 0x7f && !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
