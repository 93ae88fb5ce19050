package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"
)

// AMQPVHost creates a fresh virtual host on the test RabbitMQ broker (with
// rabbitmqctl, which needs the broker's host), grants the test URL's user
// every permission on it, deletes it in t.Cleanup and returns the test URL
// pointing at it. Queues there cannot meet another test's.
func AMQPVHost(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(AMQPURL(t))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	name := "hw-test-" + randomHex(6)
	if err := rabbitmqctl("add_vhost", name); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { _ = rabbitmqctl("delete_vhost", name) })
	if err := rabbitmqctl("set_permissions", "-p", name, u.User.Username(), ".*", ".*", ".*"); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String()
}

// RabbitMQCtl runs rabbitmqctl with args against the test broker and
// returns its standard output: TEST_RABBITMQCTL names the command when
// that broker is not the machine's own node (a wrapper that passes -n and
// the node's environment).
func RabbitMQCtl(ctx context.Context, args ...string) ([]byte, error) {
	ctl := os.Getenv("TEST_RABBITMQCTL")
	if ctl == "" {
		ctl = "rabbitmqctl"
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, ctl, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("rabbitmqctl %v: %w\n%s%s", args, err, out, stderr.Bytes())
	}
	return out, nil
}

// rabbitmqctl runs RabbitMQCtl with a minute's bound.
func rabbitmqctl(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := RabbitMQCtl(ctx, args...)
	return err
}
