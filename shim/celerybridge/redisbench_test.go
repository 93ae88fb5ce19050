package celerybridge_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// redisBenchDB is the Redis database of BenchmarkRedisWaits.
const redisBenchDB = 12

// BenchmarkRedisWaits runs rounds of 1,000 concurrent redis:// Waits: once
// all listen, each task's result is stored and published as Celery does. It
// reports the Redis connections the Client held at the peak and the latency
// from a result's publication to its Wait returning.
func BenchmarkRedisWaits(b *testing.B) {
	const waits = 1000
	name := "cb-bench-waits-" + runID
	addr := testenv.RedisAddr(b)
	c, err := celerybridge.Dial(context.Background(), testenv.AMQPURL(b), celerybridge.WithResultBackend(
		fmt.Sprintf("redis://%s/%d?client_name=%s", addr, redisBenchDB, name)), celerybridge.WithPollInterval(time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close(context.Background()) })
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: redisBenchDB})
	b.Cleanup(func() { _ = rdb.Close() })
	var latencies []time.Duration
	conns := 0
	b.ResetTimer()
	for range max(1, b.N/waits) {
		round := waitRound(b, c, rdb, name, waits)
		latencies = append(latencies, round.latencies...)
		conns = max(conns, round.conns)
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(conns), "conns")
	b.ReportMetric(ms(latencies[len(latencies)/2]), "p50-ms")
	b.ReportMetric(ms(latencies[len(latencies)*99/100]), "p99-ms")
}

// roundResult is what one round of concurrent waits measured.
type roundResult struct {
	conns     int
	latencies []time.Duration
}

func waitRound(b *testing.B, c *celerybridge.Client, rdb *redis.Client, name string, n int) roundResult {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prefix := "celery-task-meta-" + uuid.NewString()[:8]
	ids := make([]string, n)
	returned := make([]time.Time, n)
	var wg sync.WaitGroup
	for i := range ids {
		ids[i] = prefix[len("celery-task-meta-"):] + "-" + uuid.NewString()
		wg.Go(func() {
			if _, err := c.Wait(ctx, ids[i]); err != nil {
				b.Error(err)
			}
			returned[i] = time.Now()
		})
	}
	awaitChannels(b, ctx, rdb, prefix+"*", n)
	res := roundResult{conns: namedClients(b, ctx, rdb, name)}
	published := publishResults(b, ctx, rdb, ids)
	wg.Wait()
	for i := range ids {
		res.latencies = append(res.latencies, returned[i].Sub(published[i]))
	}
	return res
}

// awaitChannels returns once n channels matching pattern have subscribers.
func awaitChannels(b *testing.B, ctx context.Context, rdb *redis.Client, pattern string, n int) {
	for {
		chans, err := rdb.PubSubChannels(ctx, pattern).Result()
		if err != nil {
			b.Fatalf("pubsub channels: %v", err)
		}
		if len(chans) >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// namedClients counts the server's connections named name.
func namedClients(b *testing.B, ctx context.Context, rdb *redis.Client, name string) int {
	list, err := rdb.ClientList(ctx).Result()
	if err != nil {
		b.Fatalf("client list: %v", err)
	}
	return strings.Count(list, " name="+name+" ")
}

// publishResults stores and publishes a SUCCESS result for each id, as a
// Celery worker does, and returns when each was published.
func publishResults(b *testing.B, ctx context.Context, rdb *redis.Client, ids []string) []time.Time {
	at := make([]time.Time, len(ids))
	for i, id := range ids {
		v := fmt.Sprintf(`{"status": "SUCCESS", "result": %d, "traceback": null, "children": [], "task_id": %q}`, i, id)
		at[i] = time.Now()
		if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "celery-task-meta-"+id, v, time.Minute)
			p.Publish(ctx, "celery-task-meta-"+id, v)
			return nil
		}); err != nil {
			b.Fatalf("store result: %v", err)
		}
	}
	return at
}

func ms(d time.Duration) float64 { return d.Seconds() * 1e3 }
