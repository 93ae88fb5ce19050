package jsonnum

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCheckExact(t *testing.T) {
	tests := []struct {
		name, doc string
		wantPath  string // "" when the document is exact
	}{
		{"small numbers", `{"a": 1, "b": [2.5, -3, 0], "c": {"d": 1e3}}`, ""},
		{"2^53 itself", `{"n": 9007199254740992}`, ""},
		{"-2^53", `{"n": -9007199254740992}`, ""},
		{"2^53 + 1", `{"n": 9007199254740993}`, "$.n"},
		{"nested in args", `{"task": "t", "args": ["x", {"id": 12345678901234567890}]}`, "$.args[1].id"},
		{"negative big", `[-12345678901234567890123]`, "$[0]"},
		{"whole float beyond 2^53", `{"f": 1e19}`, "$.f"},
		{"re-marshalled float64", `{"f": 12345678901234567000}`, "$.f"},
		{"fraction stays", `{"f": 0.30000000000000004, "g": 1.5e300}`, "$.g"},
		{"beyond float64 range", `{"f": 1e400}`, "$.f"},
		{"first in key order", `{"b": 9007199254740993, "a": 9007199254740994}`, "$.a"},
		{"strings are not numbers", `{"id": "12345678901234567890"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckExact([]byte(tt.doc))
			var ie *InexactError
			switch {
			case tt.wantPath == "" && err != nil:
				t.Fatalf("CheckExact(%s) = %v, want nil", tt.doc, err)
			case tt.wantPath != "" && !errors.As(err, &ie):
				t.Fatalf("CheckExact(%s) = %v, want *InexactError", tt.doc, err)
			case tt.wantPath != "" && ie.Path != tt.wantPath:
				t.Fatalf("path = %s, want %s", ie.Path, tt.wantPath)
			}
		})
	}
}

func TestCheckExactRejectsBadJSON(t *testing.T) {
	var ie *InexactError
	if err := CheckExact([]byte(`{"a": `)); err == nil || errors.As(err, &ie) {
		t.Fatalf("CheckExact(bad json) = %v, want a decoding error", err)
	}
}

// BenchmarkCheckExact measures the check on a 1 MiB input, the shim's
// default body limit.
func BenchmarkCheckExact(b *testing.B) {
	doc := []byte(`{"rows": [` + strings.Repeat(`{"id": 123456789, "name": "row", "score": 0.5},`, 22000) + `{}]}`)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if err := CheckExact(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCheckValue checks a document decoded with UseNumber gives the same
// verdict and path as its raw text.
func TestCheckValue(t *testing.T) {
	doc := `{"args": [1, {"id": 12345678901234567890}]}`
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var fromValue, fromRaw *InexactError
	if !errors.As(CheckValue(v), &fromValue) || !errors.As(CheckExact([]byte(doc)), &fromRaw) || *fromValue != *fromRaw {
		t.Fatalf("CheckValue = %v, CheckExact = %v; want the same *InexactError", fromValue, fromRaw)
	}
	if err := CheckValue([]any{json.Number("9007199254740992"), "x"}); err != nil {
		t.Errorf("CheckValue(exact) = %v", err)
	}
}
