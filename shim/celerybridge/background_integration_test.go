//go:build integration

package celerybridge_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// TestBackgroundConnect dials a broker address where nothing listens yet:
// Dial returns, the client is not ready and a Send waits; once a proxy to
// the real broker appears there, the client connects and a call succeeds.
func TestBackgroundConnect(t *testing.T) {
	rpcFixture.start(t)
	broker, err := url.Parse(testenv.AMQPURL(t))
	if err != nil {
		t.Fatal(err)
	}
	late := *broker
	late.Host = testenv.FreeAddr(t) // nothing listens there yet
	opts := []celerybridge.Option{celerybridge.WithResultBackend("rpc://"), celerybridge.WithDefaultQueue(rpcFixture.queue),
		celerybridge.WithReconnectBackoff(50*time.Millisecond, 200*time.Millisecond)}

	if _, err := celerybridge.Dial(testContext(t, 10*time.Second), late.String(), opts...); err == nil {
		t.Fatal("Dial without background connect succeeded with no broker")
	}
	c, err := celerybridge.Dial(testContext(t, 10*time.Second), late.String(), append(opts, celerybridge.WithBackgroundConnect())...)
	if err != nil {
		t.Fatalf("Dial with background connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	if err := c.Ready(t.Context()); !errors.Is(err, celerybridge.ErrDisconnected) {
		t.Fatalf("Ready before any broker = %v, want ErrDisconnected", err)
	}
	if _, err := c.Send(testContext(t, 300*time.Millisecond), "echo", []any{1}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send before any broker = %v, want it to wait until its deadline", err)
	}

	testenv.Forward(t, late.Host, broker.Host)
	r, err := c.Call(testContext(t, 30*time.Second), "echo", []any{"late"}, nil)
	if err != nil {
		t.Fatalf("call once the broker appeared: %v", err)
	}
	assertSameJSON(t, r.Value, `{"args": ["late"], "kwargs": {}}`)
	if err := c.Ready(t.Context()); err != nil {
		t.Errorf("Ready after connecting = %v", err)
	}
}

// TestBackgroundConnectRefusedLogin checks a refused login still fails Dial
// at once: retrying cannot fix it.
func TestBackgroundConnectRefusedLogin(t *testing.T) {
	u, err := url.Parse(testenv.AMQPURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("guest", "not-the-password")
	_, err = celerybridge.Dial(testContext(t, 10*time.Second), u.String(), celerybridge.WithBackgroundConnect())
	if err == nil {
		t.Fatal("Dial with a wrong password succeeded")
	}
}
