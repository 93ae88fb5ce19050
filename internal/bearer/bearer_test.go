package bearer

import (
	"net/http/httptest"
	"testing"
)

// TestAuthorized checks the header forms, rotation and the open case.
func TestAuthorized(t *testing.T) {
	tests := []struct {
		name   string
		tokens []string
		header string
		want   bool
	}{
		{"open", nil, "", true},
		{"only empty tokens is open", []string{"", ""}, "", true},
		{"right token", []string{"s3cret"}, "Bearer s3cret", true},
		{"second of a rotation", []string{"old", "new"}, "Bearer new", true},
		{"wrong token", []string{"s3cret"}, "Bearer nope", false},
		{"missing header", []string{"s3cret"}, "", false},
		{"no scheme", []string{"s3cret"}, "s3cret", false},
		{"other scheme", []string{"s3cret"}, "Basic s3cret", false},
		{"prefix of the token", []string{"s3cret"}, "Bearer s3c", false},
		{"empty bearer", []string{"s3cret"}, "Bearer ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			if got := New(tt.tokens...).Authorized(r); got != tt.want {
				t.Errorf("Authorized(%q) with %q = %v, want %v", tt.header, tt.tokens, got, tt.want)
			}
		})
	}
}

// TestValid checks a login token: with none accepted nothing is valid.
func TestValid(t *testing.T) {
	if New().Valid("") || New().Valid("x") {
		t.Error("a token was valid with none accepted")
	}
	if !New("a", "b").Valid("b") || New("a", "b").Valid("ab") {
		t.Error("Valid did not tell b from ab among a, b")
	}
}
