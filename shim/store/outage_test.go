package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestOutageClassifiesErrors separates a database that is away from one
// that refused the statement.
func TestOutageClassifiesErrors(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P01"}, true},  // admin_shutdown: restart
		{&pgconn.PgError{Code: "57P03"}, true},  // cannot_connect_now: starting up
		{&pgconn.PgError{Code: "08006"}, true},  // connection_failure
		{&pgconn.PgError{Code: "53300"}, true},  // too_many_connections
		{&pgconn.PgError{Code: "23505"}, false}, // unique_violation
		{&pgconn.PgError{Code: "42703"}, false}, // undefined_column
		{&net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, true},
		{context.Canceled, false},
	}
	for _, tt := range tests {
		if got := outage(fmt.Errorf("wrapped: %w", tt.err)); got != tt.want {
			t.Errorf("outage(%v) = %t, want %t", tt.err, got, tt.want)
		}
	}
}
