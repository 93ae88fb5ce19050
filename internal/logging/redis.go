package logging

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// RouteRedis sends go-redis's own log lines (connection pool retries, which
// its callers report as errors anyway) to slog.Default() at debug level
// instead of writing them straight to stderr. Call it once at start-up.
func RouteRedis() { redis.SetLogger(redisLog{}) }

// redisLog is go-redis's logger interface on top of slog.Default().
type redisLog struct{}

func (redisLog) Printf(ctx context.Context, format string, v ...any) {
	slog.Default().DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}
