package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RabbitMQBinDir holds Debian's RabbitMQ server programs.
const RabbitMQBinDir = "/usr/lib/rabbitmq/bin"

// RabbitNode is a throwaway RabbitMQ node owned by one test: its own name,
// port, data and logs, so a test can restart it without disturbing the
// machine's shared broker. Its queues and persistent messages survive a
// restart, as a real broker's do. No plugins; user guest/guest.
type RabbitNode struct {
	name, dir, addr, dist string
	cmd                   *exec.Cmd
	exited                chan struct{}
}

// StartRabbitNode starts a node on a free loopback port and removes it in
// t.Cleanup. It skips the test with -short.
func StartRabbitNode(t testing.TB) *RabbitNode {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a throwaway RabbitMQ node; skipped with -short")
	}
	if _, err := os.Stat(filepath.Join(RabbitMQBinDir, "rabbitmq-server")); err != nil {
		t.Fatalf("testenv: RabbitMQ server programs not found in %s (run scripts/setup.sh): %v", RabbitMQBinDir, err)
	}
	n := &RabbitNode{name: "hw-test-" + randomHex(6) + "@localhost", dir: t.TempDir(), addr: FreeAddr(t), dist: FreeAddr(t)}
	if err := os.WriteFile(filepath.Join(n.dir, "enabled_plugins"), []byte("[].\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.stop(); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	if err := n.start(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return n
}

// URL is the node's AMQP URL.
func (n *RabbitNode) URL() string { return "amqp://guest:guest@" + n.addr + "/" }

// Restart stops the node cleanly and starts it again on its data.
func (n *RabbitNode) Restart(t testing.TB) {
	t.Helper()
	if err := n.stop(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if err := n.start(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
}

// env is the node's environment: every file of it under its directory.
func (n *RabbitNode) env() []string {
	_, port, _ := net.SplitHostPort(n.addr)
	_, dist, _ := net.SplitHostPort(n.dist)
	return append(os.Environ(), "HOME="+n.dir, "RABBITMQ_NODENAME="+n.name, "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT="+port, "RABBITMQ_DIST_PORT="+dist, "RABBITMQ_MNESIA_BASE="+filepath.Join(n.dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(n.dir, "log"), "RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(n.dir, "enabled_plugins"),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(n.dir, "rabbitmq"), "RABBITMQ_PID_FILE="+filepath.Join(n.dir, "pid"))
}

// start runs the server and waits until it takes connections.
func (n *RabbitNode) start() error {
	n.cmd = exec.Command(filepath.Join(RabbitMQBinDir, "rabbitmq-server"))
	n.cmd.Env, n.cmd.Dir = n.env(), n.dir
	out, err := os.OpenFile(filepath.Join(n.dir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer func() { _ = out.Close() }()
	n.cmd.Stdout, n.cmd.Stderr = out, out
	if err := n.cmd.Start(); err != nil {
		return fmt.Errorf("start rabbitmq node %s: %w", n.name, err)
	}
	n.exited = make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(n.exited) }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// await_startup says when the node is ready, once it can be reached.
	for {
		err := n.ctl(ctx, "await_startup")
		if err == nil {
			return nil
		}
		select {
		case <-n.exited:
			return fmt.Errorf("rabbitmq node %s exited at start: %w\n%s", n.name, err, n.log())
		case <-ctx.Done():
			return fmt.Errorf("rabbitmq node %s did not start: %w\n%s", n.name, err, n.log())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stop stops the node and waits for its process to exit.
func (n *RabbitNode) stop() error {
	if n.cmd == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.ctl(ctx, "stop"); err != nil {
		_ = n.cmd.Process.Kill()
	}
	select {
	case <-n.exited:
	case <-ctx.Done():
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
	n.cmd = nil
	return nil
}

// ctl runs rabbitmqctl against the node.
func (n *RabbitNode) ctl(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(RabbitMQBinDir, "rabbitmqctl"), append([]string{"-n", n.name}, args...)...)
	cmd.Env = n.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("rabbitmqctl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

func (n *RabbitNode) log() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "server.log"))
	return string(b)
}
