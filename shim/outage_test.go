package shim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

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

// TestUnsubmittedBecomesUnknown checks that a claim without a run is queued
// while a request may still be submitting it, and unknown after the bound.
func TestUnsubmittedBecomesUnknown(t *testing.T) {
	h := NewHatchet(nil, nil, WithLostAfter(time.Minute))
	fresh := h.unsubmitted(Status{CreatedAt: time.Now().Add(-30 * time.Second)})
	if fresh.State != StateQueued || fresh.Error != nil {
		t.Errorf("30 s old claim = %+v, want queued", fresh)
	}
	old := h.unsubmitted(Status{CreatedAt: time.Now().Add(-2 * time.Minute)})
	if old.State != StateUnknown || old.Error == nil || old.Error.Type != UnknownNotSubmitted || !final(old.State) {
		t.Errorf("2 min old claim = %+v, want unknown (%s)", old, UnknownNotSubmitted)
	}
}

// TestJoinOutputs checks the result read from the engine's records: the
// task's output for one task, outputs by task for several.
func TestJoinOutputs(t *testing.T) {
	one := joinOutputs(map[string]json.RawMessage{"validate-connection": json.RawMessage(`{"ok":true}`)})
	if string(one) != `{"ok":true}` {
		t.Errorf("one task: %s", one)
	}
	two := joinOutputs(map[string]json.RawMessage{"a": json.RawMessage(`1`), "b": json.RawMessage(`2`)})
	if string(two) != `{"a":1,"b":2}` {
		t.Errorf("two tasks: %s", two)
	}
}
