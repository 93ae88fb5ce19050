package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultResultTTL is how long API results are kept, the platform's
// EXECUTION_RESULT_TTL_SECONDS default.
const DefaultResultTTL = 24 * time.Hour

// RedisResults keeps API deployment results in the platform's Redis, as
// its CacheService.rpush_with_expire does: RPUSH, then EXPIRE.
type RedisResults struct {
	client *redis.Client
	ttl    time.Duration
}

// NewRedisResults returns a ResultStore on the Redis at rawURL
// (redis://… or rediss://…) whose lists expire after ttl (DefaultResultTTL
// when 0). Close it when done.
func NewRedisResults(rawURL string, ttl time.Duration) (*RedisResults, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("platform redis URL: %w", err)
	}
	if ttl <= 0 {
		ttl = DefaultResultTTL
	}
	return &RedisResults{client: redis.NewClient(opts), ttl: ttl}, nil
}

// Has reports whether the list at key holds a result of fileExecutionID.
func (s *RedisResults) Has(ctx context.Context, key, fileExecutionID string) (bool, error) {
	entries, err := s.client.LRange(ctx, key, 0, -1).Result()
	if err != nil {
		return false, fmt.Errorf("read %s: %w", key, err)
	}
	for _, e := range entries {
		var r struct {
			FileExecutionID string `json:"file_execution_id"`
		}
		if json.Unmarshal([]byte(e), &r) == nil && r.FileExecutionID == fileExecutionID {
			return true, nil
		}
	}
	return false, nil
}

// Push appends entry to the list at key and sets the list's TTL, in one
// transaction.
func (s *RedisResults) Push(ctx context.Context, key string, entry []byte) error {
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, key, entry)
		p.Expire(ctx, key, s.ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("push to %s: %w", key, err)
	}
	return nil
}

// Ping checks that the Redis answers.
func (s *RedisResults) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("platform redis: %w", err)
	}
	return nil
}

// Close closes the connection pool.
func (s *RedisResults) Close() error { return s.client.Close() }
