//go:build integration

package testenv_test

import (
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/unstract/hatchet-worker/internal/testenv"
)

// TestRabbitNodeKeepsMessagesAcrossRestart publishes a persistent message
// to a durable queue of a node of the test's own, restarts the node and
// reads the message back.
func TestRabbitNodeKeepsMessagesAcrossRestart(t *testing.T) {
	n := testenv.StartRabbitNode(t)
	publish := func() {
		conn, err := amqp.Dial(n.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close() }()
		ch, _ := conn.Channel()
		if _, err := ch.QueueDeclare("kept", true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		if err := ch.Confirm(false); err != nil {
			t.Fatal(err)
		}
		c, err := ch.PublishWithDeferredConfirm("", "kept", false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte("m")})
		if err != nil || !c.Wait() {
			t.Fatalf("publish: %v", err)
		}
	}
	publish()
	began := time.Now()
	n.Restart(t)
	t.Logf("restart took %v", time.Since(began))
	conn, err := amqp.Dial(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	ch, _ := conn.Channel()
	d, ok, err := ch.Get("kept", true)
	if err != nil || !ok || string(d.Body) != "m" {
		t.Fatalf("after the restart: %q, %v, %v", d.Body, ok, err)
	}
}
