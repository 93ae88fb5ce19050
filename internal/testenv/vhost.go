package testenv

import (
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

// rabbitmqctl runs rabbitmqctl against the test broker: TEST_RABBITMQCTL
// names the command when that broker is not the machine's own node (a
// wrapper that passes -n and the node's environment).
func rabbitmqctl(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ctl := os.Getenv("TEST_RABBITMQCTL")
	if ctl == "" {
		ctl = "rabbitmqctl"
	}
	out, err := exec.CommandContext(ctx, ctl, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("rabbitmqctl %v: %w\n%s", args, err, out)
	}
	return nil
}
