package celerybridge_test

import (
	"context"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// BenchmarkPublishConfirmed measures confirmed publishes from parallel
// goroutines to a queue nobody consumes.
func BenchmarkPublishConfirmed(b *testing.B) {
	url := testenv.AMQPURL(b)
	queue := "cb-bench-publish-" + runID
	conn := declareBenchQueue(b, url, queue)
	defer conn()
	c, err := celerybridge.Dial(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(context.Background())
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Send(context.Background(), "echo", []any{"x"}, nil, celerybridge.WithQueue(queue)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRoundTrip measures Send+Wait latency of one task at a time
// against the fixture worker with the rpc:// backend.
func BenchmarkRoundTrip(b *testing.B) {
	w := testenv.StartCeleryWorker(b, testenv.WithCeleryQueues("cb-bench-rt-"+runID))
	c, err := celerybridge.Dial(context.Background(), w.BrokerURL, celerybridge.WithResultBackend("rpc://"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(context.Background())
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Call(context.Background(), "echo", []any{"x"}, nil, celerybridge.WithQueue(w.Queues[0])); err != nil {
			b.Fatal(err)
		}
	}
}

func declareBenchQueue(b *testing.B, url, queue string) func() {
	b.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		b.Fatal(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		b.Fatal(err)
	}
	return func() {
		_, _ = ch.QueueDelete(queue, false, false, false)
		_ = conn.Close()
	}
}
