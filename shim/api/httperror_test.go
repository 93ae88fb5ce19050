package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/unstract/hatchet-worker/shim"
)

// TestOutageAnswers503 checks that a store or backend outage reaches the
// client as a 503 (the store marks its outages ErrStoreUnavailable:
// shim.TestOutageClassifiesErrors) with the JSON error body, and only an unexpected error as
// a 500.
func TestOutageAnswers503(t *testing.T) {
	restart := &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"store restarting", fmt.Errorf("%w: claim execution: %w", shim.ErrStoreUnavailable, restart), http.StatusServiceUnavailable},
		{"store unreachable", fmt.Errorf("%w: read execution: %w", shim.ErrStoreUnavailable, &net.OpError{Op: "dial", Err: errors.New("connection refused")}), http.StatusServiceUnavailable},
		{"backend down", fmt.Errorf("%w: engine", shim.ErrUnavailable), http.StatusServiceUnavailable},
		{"refused statement", fmt.Errorf("claim execution: %w", &pgconn.PgError{Code: "42P01"}), http.StatusInternalServerError},
		{"api error", apiError(http.StatusConflict, CodeInProgress, "busy"), http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeError(rec, toAPIError(tt.err))
			var body struct {
				Error APIError `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code == "" || body.Error.Message == "" {
				t.Fatalf("body %q is not the JSON error body (%v)", rec.Body, err)
			}
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d (body %s)", rec.Code, tt.want, rec.Body)
			}
		})
	}
}
