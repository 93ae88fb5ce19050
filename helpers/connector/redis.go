package connector

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// checkRedis authenticates with PING and returns INFO's redis_version. A
// user whose ACL forbids INFO still passes, with no version.
func checkRedis(ctx context.Context, s Settings) (string, error) {
	opts, err := redisOptions(s)
	if err != nil {
		return "", err
	}
	client := redis.NewClient(opts)
	defer func() { _ = client.Close() }()

	if err := client.Ping(ctx).Err(); err != nil {
		return "", redisError(err)
	}
	info, err := client.Info(ctx, "server").Result()
	if redis.IsPermissionError(err) {
		return "", nil
	}
	if err != nil {
		return "", redisError(err)
	}
	return infoField(info, "redis_version"), nil
}

// redisOptions builds a one-connection, no-retry client configuration
// bounded by the check's timeout.
func redisOptions(s Settings) (*redis.Options, error) {
	opts, err := redisBaseOptions(s)
	if err != nil {
		return nil, err
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = s.timeout(), s.timeout(), s.timeout()
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries = -1
	opts.DialerRetries = 1
	opts.PoolSize = 1
	opts.DisableIdentity = true
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return opts, nil
}

// redisBaseOptions reads the connection target and credentials.
func redisBaseOptions(s Settings) (*redis.Options, error) {
	if s.URL != "" {
		opts, err := redis.ParseURL(s.URL)
		if err != nil {
			return nil, fmt.Errorf("redis settings: %w", err)
		}
		return opts, nil
	}
	opts := &redis.Options{Addr: s.addr(), Username: s.User, Password: s.Password}
	if s.Database != "" {
		opts.DB, _ = strconv.Atoi(s.Database) // checked by normalized
	}
	if s.TLS {
		opts.TLSConfig = &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	}
	return opts, nil
}

// infoField returns the value of key in an INFO reply.
func infoField(info, key string) string {
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// redisError marks credential refusals (NOAUTH, WRONGPASS) with errAuth.
func redisError(err error) error {
	if redis.IsAuthError(err) {
		return fmt.Errorf("%w: %w", errAuth, err)
	}
	return err
}
