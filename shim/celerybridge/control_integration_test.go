//go:build integration

package celerybridge_test

import (
	"errors"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// TestRevoke revokes a task waiting for its countdown: the real worker
// discards it and reports REVOKED instead of running it.
func TestRevoke(t *testing.T) {
	rpcFixture.start(t)
	c := dial(t, celerybridge.WithResultBackend("rpc://"), celerybridge.WithDefaultQueue(rpcFixture.queue))
	ctx := testContext(t, 30*time.Second)
	id, err := c.Send(ctx, "echo", []any{"never"}, nil, celerybridge.WithCountdown(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Revoke(ctx, id); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	r, err := c.Wait(ctx, id)
	if !errors.Is(err, celerybridge.ErrRevoked) || r.State != celerybridge.StateRevoked {
		t.Fatalf("after revoke: %+v, %v; want REVOKED", r, err)
	}
	if err := c.Revoke(ctx, "not-an-id"); err == nil {
		t.Error("revoke of a malformed id must fail")
	}
}
