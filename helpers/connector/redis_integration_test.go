//go:build integration

package connector

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/unstract/hatchet-worker/internal/testenv"
)

// redisUser creates an ACL user with a password on the test server for the
// duration of t and returns settings that log in as it. When noInfo is set
// the user may not run INFO.
func redisUser(t *testing.T, noInfo bool) Settings {
	t.Helper()
	addr := testenv.RedisAddr(t)
	admin := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = admin.Close() })

	user := fmt.Sprintf("connector_check_%d_%t", os.Getpid(), noInfo)
	rules := []any{"ACL", "SETUSER", user, "reset", "on", ">" + secret, "+ping", "+hello", "+auth", "+info"}
	if noInfo {
		rules = rules[:len(rules)-1]
	}
	ctx := context.Background()
	if err := admin.Do(ctx, rules...).Err(); err != nil {
		t.Fatalf("create redis user: %v", err)
	}
	t.Cleanup(func() { _ = admin.Do(ctx, "ACL", "DELUSER", user).Err() })

	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	return Settings{Type: TypeRedis, Host: host, Port: port, User: user, Password: secret}
}

func TestValidateRedis(t *testing.T) {
	user := redisUser(t, false)
	noInfo := redisUser(t, true)
	wrong := user
	wrong.Password = secret + "-wrong"
	defaultUser := Settings{Type: TypeRedis, Host: user.Host, Port: user.Port, Database: "1"}
	passwordless := defaultUser
	passwordless.Password = secret
	asURL := Settings{Type: TypeRedis, URL: (&url.URL{Scheme: "redis",
		User: url.UserPassword(user.User, secret), Host: user.addr(), Path: "/0"}).String()}
	wrongURL := Settings{Type: TypeRedis, URL: (&url.URL{Scheme: "redis",
		User: url.UserPassword(user.User, wrong.Password), Host: user.addr()}).String()}

	tests := []check{
		{"acl user", user, ""},
		{"default user without password", defaultUser, ""},
		{"url", asURL, ""},
		{"wrong password", wrong, "authentication failed: WRONGPASS"},
		{"wrong password in url", wrongURL, "authentication failed: WRONGPASS"},
		{"nopass default user takes any password", passwordless, ""},
	}
	runChecks(t, tests)

	t.Run("user without INFO", func(t *testing.T) {
		res := mustValidate(t, noInfo)
		if !res.OK || res.ServerVersion != "" {
			t.Errorf("want ok without version, got %+v", res)
		}
	})
}
