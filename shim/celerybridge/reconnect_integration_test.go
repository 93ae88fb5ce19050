//go:build integration

package celerybridge_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// TestBurstSurvivesConnectionClose publishes 1,000 tasks from many
// goroutines while the broker closes the Client's connection, and checks that
// every task's result arrives.
func TestBurstSurvivesConnectionClose(t *testing.T) {
	if _, err := exec.LookPath("rabbitmqctl"); err != nil {
		t.Skip("rabbitmqctl not installed: cannot close connections broker-side")
	}
	rpcFixture.start(t)
	name := "celerybridge-burst-" + runID
	m := celerybridge.NewMetrics(prometheus.NewRegistry())
	c := dial(t, celerybridge.WithResultBackend("rpc://"), celerybridge.WithDefaultQueue(rpcFixture.queue),
		celerybridge.WithConnectionName(name), celerybridge.WithReconnectBackoff(50*time.Millisecond, time.Second),
		celerybridge.WithMetrics(m))
	ctx := testContext(t, 150*time.Second)
	const total, workers = 1000, 50
	var sent atomic.Int64
	ids := make([]string, total)
	errs := make(chan error, total)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < total; i += workers {
				id, err := c.Send(ctx, "echo", []any{i}, nil)
				if err != nil {
					errs <- fmt.Errorf("send %d: %w", i, err)
					return
				}
				ids[i] = id
				sent.Add(1)
			}
		})
	}
	closed := closeWhen(t, ctx, name, func() bool { return sent.Load() >= 200 })
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := <-closed; n == 0 {
		t.Fatal("the broker closed no connection during the burst")
	}
	for i, id := range ids {
		r, err := c.Wait(ctx, id)
		if err != nil {
			t.Fatalf("task %d (%s): %v", i, id, err)
		}
		assertSameJSON(t, r.Value, fmt.Sprintf(`{"args": [%d], "kwargs": {}}`, i))
	}
	if got := testutil.ToFloat64(m.Sends.WithLabelValues("echo", "confirmed")); got != total {
		t.Errorf("sends{echo,confirmed} = %v, want %d", got, total)
	}
	// The Client reconnects in the background; a close that came after the
	// last result is counted a moment later.
	for deadline := time.Now().Add(10 * time.Second); testutil.ToFloat64(m.Reconnects) < 1 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := testutil.ToFloat64(m.Reconnects); got < 1 {
		t.Errorf("reconnects = %v, want at least 1 after the broker closed the connection", got)
	}
	if got := testutil.CollectAndCount(m.WaitDuration); got != 1 {
		t.Errorf("%d wait outcome series, want 1 (SUCCESS)", got)
	}
}

// closeWhen closes, broker-side, every connection named name once cond
// holds; it reports how many it closed.
func closeWhen(t *testing.T, ctx context.Context, name string, cond func() bool) <-chan int {
	t.Helper()
	out := make(chan int, 1)
	go func() {
		for !cond() && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		out <- closeConnections(ctx, t, name)
	}()
	return out
}

func closeConnections(ctx context.Context, t *testing.T, name string) int {
	raw, err := testenv.RabbitMQCtl(ctx, "list_connections", "pid", "client_properties", "-q", "--no-table-headers")
	if err != nil {
		t.Errorf("list connections: %v", err)
		return 0
	}
	n := 0
	for line := range strings.Lines(string(raw)) {
		pid, props, _ := strings.Cut(line, "\t")
		if !strings.Contains(props, `"`+name+`"`) {
			continue
		}
		if _, err := testenv.RabbitMQCtl(ctx, "close_connection", pid, "test: burst"); err != nil {
			t.Errorf("close %s: %v", pid, err)
			continue
		}
		n++
	}
	return n
}
