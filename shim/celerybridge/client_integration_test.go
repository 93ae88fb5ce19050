//go:build integration

package celerybridge_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

func TestRoundTrip(t *testing.T) {
	forEachBackend(t, testRoundTrip)
}

func TestFailures(t *testing.T) {
	forEachBackend(t, testFailures)
}

func TestCountdownAndLookup(t *testing.T) {
	forEachBackend(t, testCountdownAndLookup)
}

func TestUnroutable(t *testing.T) {
	c := dial(t)
	_, err := c.Send(testContext(t, 10*time.Second), "echo", nil, nil, celerybridge.WithQueue("cb-missing-"+runID))
	if !errors.Is(err, celerybridge.ErrUnroutable) {
		t.Fatalf("err = %v, want ErrUnroutable", err)
	}
	if _, err := c.Wait(testContext(t, time.Second), "x"); !errors.Is(err, celerybridge.ErrNoBackend) {
		t.Errorf("wait without backend: %v", err)
	}
}

// TestUnroutableAmongRoutable sends routable and unroutable tasks at once on
// every publish channel and checks each Send learns its own fate.
func TestUnroutableAmongRoutable(t *testing.T) {
	queue := "cb-mixed-" + runID
	declareQueue(t, testenv.AMQPURL(t), queue)
	c := dial(t)
	ctx := testContext(t, 30*time.Second)
	var wg sync.WaitGroup
	for i := range 400 {
		wg.Go(func() {
			q, want := queue, error(nil)
			if i%3 == 0 {
				q, want = "cb-missing-"+runID, celerybridge.ErrUnroutable
			}
			if _, err := c.Send(ctx, "echo", []any{i}, nil, celerybridge.WithQueue(q)); !errors.Is(err, want) {
				t.Errorf("send %d to %s: err = %v, want %v", i, q, err, want)
			}
		})
	}
	wg.Wait()
}
