//go:build integration

package celerybridge_test

import (
	"context"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// forwarder consumes queue on the broker at url and forwards every message
// to twin, as the front door does for the legacy side; both close at the
// end of the test.
func forwarder(t *testing.T, url, queue, twin string) {
	t.Helper()
	ctx := testContext(t, 30*time.Second)
	client, err := celerybridge.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close(context.Background()) })
	if err := client.DeclareQueue(ctx, twin); err != nil {
		t.Fatal(err)
	}
	c, err := celerybridge.NewConsumer(ctx, url, queue, 16, func(ctx context.Context, d amqp.Delivery) error {
		return client.Forward(ctx, d, twin)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(context.Background()); err != nil {
			t.Errorf("close consumer: %v", err)
		}
	})
}

// TestForwardedRoundTrip puts a forwarder between Python's send_task and
// the Celery worker, which consumes the twin queue: Python's own
// AsyncResult.get() still gets each result (rpc://, by reply_to and
// correlation_id, which the forward keeps).
func TestForwardedRoundTrip(t *testing.T) {
	vhost := testenv.AMQPVHost(t)
	queue := "cb-front-" + runID
	w := testenv.StartCeleryWorker(t, testenv.WithCeleryBroker(vhost), testenv.WithCeleryQueues(queue+".legacy"))
	forwarder(t, vhost, queue, queue+".legacy")
	py := startPythonRoundTripsOn(t, w.BrokerURL, queue) // its first round trip went through the forwarder
	if took := py.run(t, 20); took <= 0 {
		t.Errorf("20 round trips took %v", took)
	}
}

// TestForwardKeepsTheMessage forwards a message no worker could read, with
// headers and properties of every kind: the twin queue gets the same body,
// headers and properties.
func TestForwardKeepsTheMessage(t *testing.T) {
	vhost := testenv.AMQPVHost(t)
	queue := "cb-front-bytes-" + runID
	forwarder(t, vhost, queue, queue+".legacy")
	conn, err := amqp.Dial(vhost)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	sent := amqp.Publishing{
		Headers:     amqp.Table{"task": "unknown.task", "id": "id-1", "eta": "2026-12-02T15:00:00+00:00", "n": int32(3), "none": nil},
		ContentType: "application/x-python-serialize", ContentEncoding: "binary", DeliveryMode: amqp.Persistent, Priority: 3,
		CorrelationId: "id-1", ReplyTo: "somewhere", Expiration: "600000", MessageId: "m-1", Type: "t", AppId: "a",
		Timestamp: time.Unix(1764687600, 0), Body: []byte{0x80, 0x05, 0x95, 0xff, 0x00, '[', '{'},
	}
	if err := ch.PublishWithContext(t.Context(), "", queue, false, false, sent); err != nil {
		t.Fatal(err)
	}
	got, want := testenv.TakeMessage(t, ch, queue+".legacy", 20*time.Second), sent
	same := testenv.SameMessage(got, want)
	if !same {
		t.Errorf("forwarded\n got %+v\nwant %+v", got, want)
	}
}
