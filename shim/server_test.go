package shim

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestTokens checks bearer authentication with one token, with two during a
// rotation, and with none (development).
func TestTokens(t *testing.T) {
	tests := []struct {
		name     string
		accepted []string
		sent     string // "" sends no Authorization header
		want     int
	}{
		{"the token", []string{"s3cret"}, "s3cret", http.StatusOK},
		{"wrong token", []string{"s3cret"}, "nope", http.StatusUnauthorized},
		{"prefix of the token", []string{"s3cret"}, "s3c", http.StatusUnauthorized},
		{"no header", []string{"s3cret"}, "", http.StatusUnauthorized},
		{"new token during rotation", []string{"new", "old"}, "new", http.StatusOK},
		{"old token during rotation", []string{"new", "old"}, "old", http.StatusOK},
		{"neither during rotation", []string{"new", "old"}, "other", http.StatusUnauthorized},
		{"empty tokens are ignored", []string{"", "only"}, "", http.StatusUnauthorized},
		{"no tokens: open (dev)", nil, "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			NewServer(Catalog{}, nil, nil, nil, WithTokens(tt.accepted...)).Register(mux)
			req := httptest.NewRequest(http.MethodGet, "/api/v2/flags", nil)
			if tt.sent != "" {
				req.Header.Set("Authorization", "Bearer "+tt.sent)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d (body %s)", rec.Code, tt.want, rec.Body)
			}
		})
	}
}
