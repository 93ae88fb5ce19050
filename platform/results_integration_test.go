//go:build integration

package platform_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/platform"
)

func TestRedisResults(t *testing.T) {
	addr := testenv.RedisAddr(t)
	s, err := platform.NewRedisResults("redis://"+addr+"/0", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	key := platform.APIResultsKey("wf-test", "exec-"+t.Name()+time.Now().Format("150405.000000"))
	raw := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { raw.Del(ctx, key); _ = raw.Close() })
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if has, err := s.Has(ctx, key, "fe-1"); err != nil || has {
		t.Fatalf("empty list: has %v, %v", has, err)
	}
	for _, id := range []string{"fe-1", "fe-2"} {
		if err := s.Push(ctx, key, []byte(`{"file":"a","file_execution_id":"`+id+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if has, err := s.Has(ctx, key, "fe-2"); err != nil || !has {
		t.Errorf("pushed entry: has %v, %v", has, err)
	}
	if n := raw.LLen(ctx, key).Val(); n != 2 {
		t.Errorf("list holds %d entries, want 2", n)
	}
	if ttl := raw.TTL(ctx, key).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("TTL %v, want 1h", ttl)
	}
}
