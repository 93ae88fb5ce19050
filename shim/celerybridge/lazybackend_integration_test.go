//go:build integration

package celerybridge_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// TestBackgroundResultBackend starts clients whose database or Redis
// result backend is not there yet: without a background connect Dial
// fails; with one it returns, ResultsReady and Lookup name the backend's
// address, and once the backend appears the client opens it and reads
// results.
func TestBackgroundResultBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("needs RabbitMQ, PostgreSQL and Redis")
	}
	redisURL, err := testenv.CeleryRedisBackend(t.Context(), testenv.RedisAddr(t), 11)
	if err != nil {
		t.Fatal(err)
	}
	for name, backendURL := range map[string]string{"postgres": testenv.CeleryPostgresBackend(t), "redis": redisURL} {
		t.Run(name, func(t *testing.T) {
			late := testenv.Late(t, backendURL)
			opts := []celerybridge.Option{celerybridge.WithResultBackend(late.URL)}
			if _, err := celerybridge.Dial(testContext(t, 10*time.Second), testenv.AMQPURL(t), opts...); err == nil {
				t.Fatal("Dial without background connect succeeded with no result backend")
			}
			c, err := celerybridge.Dial(testContext(t, 10*time.Second), testenv.AMQPURL(t), append(opts, celerybridge.WithBackgroundConnect())...)
			if err != nil {
				t.Fatalf("Dial with background connect: %v", err)
			}
			t.Cleanup(func() { _ = c.Close(context.Background()) })
			checkUnavailable(t, c, late.Addr)

			late.Appear(t)
			deadline := time.Now().Add(15 * time.Second)
			for c.ResultsReady(t.Context()) != nil && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			if err := c.ResultsReady(t.Context()); err != nil {
				t.Fatalf("ResultsReady once the backend appeared: %v", err)
			}
			if r, err := c.Lookup(testContext(t, 5*time.Second), "no-such-task"); err != nil || r.State != celerybridge.StatePending {
				t.Fatalf("Lookup once the backend appeared = %+v, %v; want PENDING", r, err)
			}
		})
	}
}

// checkUnavailable checks that c's result backend, not yet open, is
// reported naming addr, by ResultsReady and by a Lookup, at once.
func checkUnavailable(t *testing.T, c *celerybridge.Client, addr string) {
	t.Helper()
	err := c.ResultsReady(t.Context())
	if !errors.Is(err, celerybridge.ErrBackendUnavailable) || !strings.Contains(err.Error(), addr) {
		// The first attempt may still be running: its error comes within
		// the dial timeout.
		time.Sleep(time.Second)
		err = c.ResultsReady(t.Context())
	}
	if !errors.Is(err, celerybridge.ErrBackendUnavailable) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("ResultsReady = %v, want ErrBackendUnavailable naming %s", err, addr)
	}
	if _, err := c.Lookup(testContext(t, 5*time.Second), "no-such-task"); !errors.Is(err, celerybridge.ErrBackendUnavailable) {
		t.Fatalf("Lookup = %v, want ErrBackendUnavailable", err)
	}
	t.Logf("before the backend appeared: %v", err)
}
