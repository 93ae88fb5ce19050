package celerybridge_test

import (
	"context"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// forwardMessages and forwardPrefetch size BenchmarkForwardRatio: each
// side moves forwardMessages task messages, at most forwardPrefetch
// unacknowledged at once.
const (
	forwardMessages = 5000
	forwardPrefetch = 256
)

// BenchmarkForwardRatio moves the same task messages from a queue to its
// twin twice per iteration: through a Consumer whose handler calls
// Client.Forward, and through raw amqp091-go (consume, publish, wait for
// the confirm, ack), both with the same prefetch. It reports both rates
// and forward/raw.
func BenchmarkForwardRatio(b *testing.B) {
	url := testenv.AMQPVHost(b)
	queue, twin := "cb-bench-forward-"+runID, "cb-bench-forward-"+runID+".legacy"
	conn, err := amqp.Dial(url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	admin := benchChannel(b, conn, queue, twin)
	msg := amqp.Publishing{ContentType: "application/json", ContentEncoding: "utf-8", DeliveryMode: amqp.Persistent,
		Headers: amqp.Table{"task": "echo", "id": "x", "lang": "py"}, Body: []byte(`[["x"], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]`)}
	var fwd, raw time.Duration
	b.ResetTimer()
	for range b.N {
		fill(b, admin, queue, msg)
		fwd += moved(b, admin, twin, func() func() { return startForwarder(b, url, queue, twin) })
		fill(b, admin, queue, msg)
		raw += moved(b, admin, twin, func() func() { return startRawForwarder(b, conn, queue, twin) })
	}
	n := float64(b.N * forwardMessages)
	b.ReportMetric(n/fwd.Seconds(), "forward-msg/s")
	b.ReportMetric(n/raw.Seconds(), "raw-msg/s")
	b.ReportMetric(raw.Seconds()/fwd.Seconds(), "forward/raw")
}

// benchChannel declares queue and twin and returns a channel in confirm
// mode for filling them.
func benchChannel(b *testing.B, conn *amqp.Connection, queue, twin string) *amqp.Channel {
	b.Helper()
	ch, err := conn.Channel()
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{queue, twin} {
		if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := ch.Confirm(false); err != nil {
		b.Fatal(err)
	}
	return ch
}

// fill publishes forwardMessages copies of msg to queue, confirmed.
func fill(b *testing.B, ch *amqp.Channel, queue string, msg amqp.Publishing) {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	var pending []*amqp.DeferredConfirmation
	for range forwardMessages {
		c, err := ch.PublishWithDeferredConfirmWithContext(context.Background(), "", queue, false, false, msg)
		if err != nil {
			b.Fatal(err)
		}
		pending = append(pending, c)
	}
	for _, c := range pending {
		if ok, err := c.WaitContext(context.Background()); !ok || err != nil {
			b.Fatalf("fill: confirm %v %v", ok, err)
		}
	}
}

// moved starts a forwarder, returns the time until twin holds every
// message, then stops the forwarder and empties twin.
func moved(b *testing.B, ch *amqp.Channel, twin string, start func() func()) time.Duration {
	b.Helper()
	began := time.Now()
	stop := start()
	for {
		q, err := ch.QueueDeclarePassive(twin, true, false, false, false, nil)
		if err != nil {
			b.Fatal(err)
		}
		if q.Messages >= forwardMessages {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	took := time.Since(began)
	b.StopTimer()
	defer b.StartTimer()
	stop()
	if _, err := ch.QueuePurge(twin, false); err != nil {
		b.Fatal(err)
	}
	return took
}

// startForwarder runs a Consumer of queue forwarding with Client.Forward.
func startForwarder(b *testing.B, url, queue, twin string) func() {
	client, err := celerybridge.Dial(context.Background(), url, celerybridge.WithResultBackend(""))
	if err != nil {
		b.Fatal(err)
	}
	c, err := celerybridge.NewConsumer(context.Background(), url, queue, forwardPrefetch, func(ctx context.Context, d amqp.Delivery) error {
		return client.Forward(ctx, d, twin)
	})
	if err != nil {
		b.Fatal(err)
	}
	return func() {
		_ = c.Close(context.Background())
		_ = client.Close(context.Background())
	}
}

// startRawForwarder consumes queue on one channel and republishes each
// message to twin on another in confirm mode, acking once confirmed.
func startRawForwarder(b *testing.B, conn *amqp.Connection, queue, twin string) func() {
	in, err := conn.Channel()
	if err != nil {
		b.Fatal(err)
	}
	out, err := conn.Channel()
	if err != nil {
		b.Fatal(err)
	}
	if err := out.Confirm(false); err != nil {
		b.Fatal(err)
	}
	if err := in.Qos(forwardPrefetch, 0, false); err != nil {
		b.Fatal(err)
	}
	deliveries, err := in.Consume(queue, "raw", false, false, false, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		for d := range deliveries {
			c, err := out.PublishWithDeferredConfirmWithContext(context.Background(), "", twin, false, false, amqp.Publishing{
				Headers: d.Headers, ContentType: d.ContentType, ContentEncoding: d.ContentEncoding, DeliveryMode: d.DeliveryMode, Body: d.Body})
			if err != nil {
				return
			}
			go func() {
				if ok, _ := c.WaitContext(context.Background()); ok {
					_ = d.Ack(false)
				}
			}()
		}
	}()
	return func() {
		_ = in.Cancel("raw", false)
		_ = in.Close()
		_ = out.Close()
	}
}
