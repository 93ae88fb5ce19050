package celerybridge

import (
	"context"
	"fmt"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"
)

// backend is a Celery result backend as the Client uses it.
type backend interface {
	// replyTo is the reply_to property for published tasks ("" if none).
	replyTo() string
	// attach runs on every new broker connection.
	attach(conn *amqp.Connection) error
	// lookup reports the task's current state, PENDING if unknown.
	lookup(ctx context.Context, id string) (Result, error)
	// lookupMany reports the states of many tasks in one round trip, in
	// the order of ids; PENDING for those it does not know.
	lookupMany(ctx context.Context, ids []string) ([]Result, error)
	// wait blocks until the task reaches a final state or ctx ends.
	wait(ctx context.Context, id string) (Result, error)
	// close releases the backend's resources.
	close(ctx context.Context, conn *amqp.Connection) error
}

// openBackend chooses a backend by URL scheme; nil for an empty URL. With
// a background connect a database or Redis backend opens in the background
// (lazyBackend); otherwise it must answer now.
func openBackend(ctx context.Context, url string, cfg *config) (backend, error) {
	scheme, _, _ := strings.Cut(url, "://")
	switch {
	case url == "":
		return nil, nil
	case scheme == "rpc":
		return newRPCBackend(cfg), nil
	case !remoteBackend(scheme):
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedBackend, scheme)
	case cfg.background:
		return newLazyBackend(url, cfg)
	}
	return dialBackend(ctx, url, cfg)
}

// remoteBackend reports whether scheme names a database or Redis backend.
func remoteBackend(scheme string) bool {
	return scheme == "db+postgresql" || strings.HasPrefix(scheme, "db+postgresql+") || scheme == "db+postgres" ||
		scheme == "redis" || scheme == "rediss"
}

// dialBackend opens the database or Redis backend url names and checks
// that it answers; the backend is nil with an error.
func dialBackend(ctx context.Context, url string, cfg *config) (backend, error) {
	if strings.HasPrefix(url, "db+") {
		db, err := newDBBackend(ctx, url, cfg)
		if err != nil {
			return nil, err
		}
		return db, nil
	}
	rb, err := newRedisBackend(ctx, url, cfg)
	if err != nil {
		return nil, err
	}
	return rb, nil
}

// waitError reports an error met after ctx ended as the end of the wait, in
// the same words for every backend, whichever step noticed it (a driver may
// see the deadline as a network timeout of its own).
func waitError(ctx context.Context, id string, err error) error {
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("wait for task %s: %w", id, ctx.Err())
	}
	return err
}
