package jsonerr

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDescribe checks each kind of decoding error is described without the
// input's text.
func TestDescribe(t *testing.T) {
	tests := []struct{ input, want string }{
		{`{"key": sk-secret}`, "syntax error at byte 9"},
		{`{"a": "sk-secret"}`, `field "a" must be int`},
		{``, "empty input"},
		{`{"a": `, "unexpected end of input"},
	}
	for _, tt := range tests {
		var v struct {
			A int `json:"a"`
		}
		err := json.NewDecoder(strings.NewReader(tt.input)).Decode(&v)
		if got := Describe(err); got != tt.want || strings.Contains(got, "sk-secret") {
			t.Errorf("Describe(%q) = %q, want %q", tt.input, got, tt.want)
		}
	}
}
