//go:build !hatchet_external

package engine

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestLoopbackOnly checks the API's second guard: it answers loopback
// clients and refuses every other, whatever headers they send.
func TestLoopbackOnly(t *testing.T) {
	tests := []struct {
		remote string
		allow  bool
	}{
		{"127.0.0.1:40000", true},
		{"127.8.9.10:40000", true},
		{"[::1]:40000", true},
		{"192.0.2.7:40000", false},
		{"[2001:db8::1]:40000", false},
		{"[::ffff:192.0.2.7]:40000", false},
		{"not an address", false},
	}
	e := echo.New()
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/users/current", nil)
		req.RemoteAddr = tt.remote
		req.Header.Set("X-Forwarded-For", "127.0.0.1")
		err := loopbackOnly(nil)(e.NewContext(req, httptest.NewRecorder()))
		if allowed := err == nil; allowed != tt.allow || (err != nil && !errors.Is(err, errNotLoopback)) {
			t.Errorf("remote %s: err %v, want allowed=%v", tt.remote, err, tt.allow)
		}
	}
}

// TestEchoOf checks that the API server's Echo is found from its group, the
// seam that puts the API on a loopback listener.
func TestEchoOf(t *testing.T) {
	e := echo.New()
	got, err := echoOf(e.Group("/api"))
	if err != nil || got != e {
		t.Fatalf("echoOf = %p, %v; want %p", got, err, e)
	}
}
