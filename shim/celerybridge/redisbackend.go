package celerybridge

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"
)

// redisBackend reads Celery's Redis result backend: each result is the JSON
// meta dict stored under celery-task-meta-<id> and published on the channel
// of the same name when it is stored.
type redisBackend struct {
	client *redis.Client
	hub    *redisHub
	poll   time.Duration
}

// redisKeyPrefix is Celery's task_keyprefix: a task's result key and channel
// are the prefix followed by the task id.
const redisKeyPrefix = "celery-task-meta-"

// newRedisBackend connects to the Redis database a redis:// or rediss:// URL names.
func newRedisBackend(ctx context.Context, rawURL string, cfg *config) (*redisBackend, error) {
	opts, err := redisOptions(rawURL)
	if err != nil {
		return nil, err
	}
	opts.ContextTimeoutEnabled = true
	client := redis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("reach result redis %s db %d: %w", opts.Addr, opts.DB, err)
	}
	return &redisBackend{client: client, hub: newRedisHub(client), poll: cfg.pollInterval}, nil
}

// redisOptions reads a result backend URL as Celery does: go-redis's URL
// syntax plus Celery's ssl_cert_reqs, which Celery requires on rediss:// URLs
// (required, optional or none, also spelled CERT_REQUIRED…). Python treats
// optional as required on the client side, so only none changes anything: it
// skips certificate verification. Errors never show the password.
func redisOptions(rawURL string) (*redis.Options, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's *url.Error quotes the whole URL; keep only the reason.
		return nil, fmt.Errorf("parse redis result backend URL: %w", errors.Unwrap(err))
	}
	q := u.Query()
	certReqs := q.Get("ssl_cert_reqs")
	q.Del("ssl_cert_reqs")
	u.RawQuery = q.Encode()
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("parse redis result backend URL %s: %w", u.Redacted(), err)
	}
	switch strings.TrimPrefix(strings.ToLower(certReqs), "cert_") {
	case "", "required", "optional":
	case "none":
		if opts.TLSConfig != nil {
			opts.TLSConfig.InsecureSkipVerify = true
		}
	default:
		return nil, fmt.Errorf("redis result backend URL %s: ssl_cert_reqs=%q: want required, optional or none",
			u.Redacted(), certReqs)
	}
	return opts, nil
}

func (b *redisBackend) replyTo() string               { return "" }
func (b *redisBackend) attach(*amqp.Connection) error { return nil }

func (b *redisBackend) lookup(ctx context.Context, id string) (Result, error) {
	raw, err := b.client.Get(ctx, redisKeyPrefix+id).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return pendingResult(id), nil
	case err != nil:
		return Result{}, fmt.Errorf("read result of %s: %w", id, err)
	}
	r, err := parseReply(raw)
	if err != nil {
		return Result{}, fmt.Errorf("decode result of %s: %w", id, err)
	}
	return r, nil
}

// lookupMany reads all keys with one MGET.
func (b *redisBackend) lookupMany(ctx context.Context, ids []string) ([]Result, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = redisKeyPrefix + id
	}
	vals, err := b.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("read results of %d tasks: %w", len(ids), err)
	}
	out := make([]Result, len(ids))
	for i, v := range vals {
		out[i] = pendingResult(ids[i])
		raw, ok := v.(string)
		if !ok {
			continue
		}
		if out[i], err = parseReply([]byte(raw)); err != nil {
			return nil, fmt.Errorf("decode result of %s: %w", ids[i], err)
		}
	}
	return out, nil
}

func (b *redisBackend) wait(ctx context.Context, id string) (Result, error) {
	r, err := b.await(ctx, id)
	return r, waitError(ctx, id, err)
}

// await subscribes to the task's channel before reading its key, so a result
// stored between the two is not missed, then takes the first final result
// published. Pub/sub delivers at most once, so the key is also re-read every
// poll interval; that read also reports a published value that is unreadable.
func (b *redisBackend) await(ctx context.Context, id string) (Result, error) {
	w, err := b.hub.join(ctx, redisKeyPrefix+id)
	if err != nil {
		return Result{}, fmt.Errorf("wait for result of %s: %w", id, err)
	}
	defer b.hub.leave(w)
	t := time.NewTicker(b.poll)
	defer t.Stop()
	r, err := b.lookup(ctx, id)
	for err == nil && !r.State.Final() {
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case r = <-w.results:
		case <-t.C:
			r, err = b.lookup(ctx, id)
		}
	}
	return r, err
}

func (b *redisBackend) close(context.Context, *amqp.Connection) error {
	hubErr := b.hub.close()
	if err := b.client.Close(); err != nil {
		return errors.Join(hubErr, fmt.Errorf("close result redis: %w", err))
	}
	return hubErr
}

// resultExpires is how long a stored result lives: Celery's default
// result_expires.
const resultExpires = 24 * time.Hour

// record stores meta under the task's key and publishes it on the key's
// channel, as Celery's Redis backend does, for a caller waiting now and
// one that asks later.
func (b *redisBackend) record(ctx context.Context, r StoredResult, meta []byte) error {
	key := redisKeyPrefix + r.TaskID
	_, err := b.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, key, meta, resultExpires)
		p.Publish(ctx, key, meta)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store result of %s in redis: %w", r.TaskID, err)
	}
	return nil
}
