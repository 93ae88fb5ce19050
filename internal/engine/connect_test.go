package engine

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/unstract/hatchet-worker/internal/config"
)

// TestNewClientRejectsBadTokens checks that tokens the SDK would panic on
// come back as errors wrapping ErrBadToken.
func TestNewClientRejectsBadTokens(t *testing.T) {
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"not a jwt", "not-a-jwt"},
		{"jwt without claims", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"},
		{"garbage segments", "a.b.c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(config.Hatchet{Token: tt.token, TLSStrategy: "tls"}, slog.Default())
			if !errors.Is(err, ErrBadToken) || c != nil {
				t.Errorf("NewClient(%q) = %v, %v; want ErrBadToken", tt.token, c, err)
			}
		})
	}
}
