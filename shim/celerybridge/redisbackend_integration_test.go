//go:build integration

package celerybridge_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// TestRedisWaitPubSubAndPoll checks each way a redis:// Wait learns of a
// result on its own: a Celery result published while Wait listens, published
// messages that are never stored, and a stored value that is never published
// (as when pub/sub drops the message).
func TestRedisWaitPubSubAndPoll(t *testing.T) {
	w := redisFixture.start(t)
	ctx := testContext(t, 30*time.Second)
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t), DB: redisDB})
	t.Cleanup(func() { _ = rdb.Close() })

	c := dial(t, celerybridge.WithResultBackend(w.ResultBackend), celerybridge.WithDefaultQueue(redisFixture.queue),
		celerybridge.WithPollInterval(time.Hour))
	r, err := c.Call(ctx, "echo", []any{"published"}, nil, celerybridge.WithCountdown(time.Second))
	if err != nil {
		t.Fatalf("call with pub/sub only: %v", err)
	}
	assertSameJSON(t, r.Value, `{"args": ["published"], "kwargs": {}}`)

	tests := []struct {
		name  string
		poll  time.Duration
		store func(key, final string) error
	}{
		{"published only", time.Hour, func(key, final string) error {
			for _, m := range []string{"not json", `{"task_id": "x", "status": "RETRY", "result": null}`, final} {
				if err := rdb.Publish(ctx, key, m).Err(); err != nil {
					return err
				}
			}
			return nil
		}},
		{"stored only", 50 * time.Millisecond, func(key, final string) error {
			return rdb.Set(ctx, key, final, time.Minute).Err()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, celerybridge.WithResultBackend(w.ResultBackend), celerybridge.WithPollInterval(tc.poll))
			id := uuid.NewString()
			final := fmt.Sprintf(`{"status": "SUCCESS", "result": {"n": 18446744073709551617, "s": "日本"}, "traceback": null,
				"children": [], "date_done": "2026-05-01T10:00:00.123456", "task_id": %q}`, id)
			type outcome struct {
				r   celerybridge.Result
				err error
			}
			done := make(chan outcome, 1)
			go func() { r, err := c.Wait(ctx, id); done <- outcome{r, err} }()
			awaitSubscriber(t, ctx, rdb, "celery-task-meta-"+id)
			if err := tc.store("celery-task-meta-"+id, final); err != nil {
				t.Fatal(err)
			}
			got := <-done
			if got.err != nil || got.r.State != celerybridge.StateSuccess || got.r.TaskID != id ||
				!got.r.DateDone.Equal(time.Date(2026, 5, 1, 10, 0, 0, 123456000, time.UTC)) {
				t.Fatalf("wait = %+v, %v", got.r, got.err)
			}
			assertSameJSON(t, got.r.Value, `{"n": 18446744073709551617, "s": "日本"}`)
		})
	}
}

// TestRedisWaitsShareOneSubscription runs several Waits per task at once:
// they share one subscriber, a Wait that gives up leaves the others
// listening, and every remaining Wait gets its task's result.
func TestRedisWaitsShareOneSubscription(t *testing.T) {
	w := redisFixture.start(t)
	ctx := testContext(t, 30*time.Second)
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t), DB: redisDB})
	t.Cleanup(func() { _ = rdb.Close() })
	c := dial(t, celerybridge.WithResultBackend(w.ResultBackend), celerybridge.WithPollInterval(time.Hour))
	ids := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	quitter, quit := context.WithCancel(ctx)
	go func() { _, _ = c.Wait(quitter, ids[0]) }()
	var wg sync.WaitGroup
	for _, id := range append(ids, ids...) {
		wg.Go(func() {
			r, err := c.Wait(ctx, id)
			if err != nil || r.TaskID != id || r.State != celerybridge.StateSuccess {
				t.Errorf("wait %s = %+v, %v", id, r, err)
			}
		})
	}
	for _, id := range ids {
		awaitSubscriber(t, ctx, rdb, "celery-task-meta-"+id)
	}
	quit()
	for _, id := range ids {
		key := "celery-task-meta-" + id
		if n, err := rdb.PubSubNumSub(ctx, key).Result(); err != nil || n[key] != 1 {
			t.Errorf("subscribers of %s = %v, %v; want 1 shared", key, n[key], err)
		}
		v := fmt.Sprintf(`{"status": "SUCCESS", "result": 1, "task_id": %q}`, id)
		if err := rdb.Set(ctx, key, v, time.Minute).Err(); err != nil { // for a Wait that joins late
			t.Fatal(err)
		}
		if err := rdb.Publish(ctx, key, v).Err(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}

// TestRedisTLS connects to a TLS-only Redis server with a self-signed
// certificate: Celery's rediss:// URLs must carry ssl_cert_reqs, and only
// none may skip verification.
func TestRedisTLS(t *testing.T) {
	addr := startTLSRedis(t)
	tests := []struct {
		name, query string
		wantErr     string
	}{
		{"none", "?ssl_cert_reqs=none", ""},
		{"CERT_NONE", "?ssl_cert_reqs=CERT_NONE", ""},
		{"required", "?ssl_cert_reqs=required", "certificate"},
		{"CERT_OPTIONAL", "?ssl_cert_reqs=CERT_OPTIONAL", "certificate"},
		{"absent", "", "certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t, 10*time.Second)
			c, err := celerybridge.Dial(ctx, testenv.AMQPURL(t), celerybridge.WithResultBackend("rediss://"+addr+"/0"+tc.query))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("dial = %v, want an error about the %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer func() { _ = c.Close(ctx) }()
			if r, err := c.Lookup(ctx, "never-sent"); err != nil || r.State != celerybridge.StatePending {
				t.Errorf("lookup over TLS = %+v, %v", r, err)
			}
		})
	}
}
