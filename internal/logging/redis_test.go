package logging

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/unstract/hatchet-worker/internal/testenv"
)

// TestRouteRedis checks go-redis's pool messages arrive in slog at debug
// level, tagged with their component.
func TestRouteRedis(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	RouteRedis()

	addr := testenv.FreeAddr(t) // a closed port: every dial fails
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1})
	defer c.Close()
	if err := c.Ping(t.Context()).Err(); err == nil {
		t.Fatal("ping of a closed port succeeded")
	}
	out := buf.String()
	if !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "component=go-redis") || !strings.Contains(out, "dial") {
		t.Errorf("slog output = %q, want a debug line from go-redis about the dial", out)
	}
}
