package celerybridge

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	amqp "github.com/rabbitmq/amqp091-go"
)

// ErrBackendUnavailable means the result backend has not answered yet: it
// was down when the Client started and is being retried in the background.
var ErrBackendUnavailable = errors.New("celerybridge: result backend unavailable (connecting)")

// Retry bounds of a result backend opened in the background.
const (
	backendDialTimeout = 5 * time.Second
	backendRetryMax    = 10 * time.Second
)

// lazyBackend is a database or Redis result backend opened in the
// background (WithBackgroundConnect), retried until it answers, so a
// backend that is down at start-up does not stop the Client. Until it
// opens, lookups fail with ErrBackendUnavailable naming it and waits wait.
type lazyBackend struct {
	name   string // the URL without its password
	opened chan struct{}
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex // guards inner and err
	inner backend
	err   error
}

// newLazyBackend checks rawURL and starts opening it in the background.
func newLazyBackend(rawURL string, cfg *config) (*lazyBackend, error) {
	if err := checkBackendURL(rawURL); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &lazyBackend{name: redactedURL(rawURL), opened: make(chan struct{}), cancel: cancel, done: make(chan struct{}),
		err: errors.New("first attempt under way")}
	go b.open(ctx, rawURL, cfg)
	return b, nil
}

// checkBackendURL refuses a database or Redis URL that can never open, so
// a typo still fails Dial at once.
func checkBackendURL(rawURL string) error {
	if _, rest, _ := strings.Cut(rawURL, "://"); strings.HasPrefix(rawURL, "db+") {
		if _, err := pgxpool.ParseConfig("postgresql://" + rest); err != nil {
			return fmt.Errorf("result backend URL %s: %w", redactedURL(rawURL), err)
		}
		return nil
	}
	_, err := redisOptions(rawURL)
	return err
}

// open dials the backend until it answers or ctx ends, logging the first
// failure and the success.
func (b *lazyBackend) open(ctx context.Context, rawURL string, cfg *config) {
	defer close(b.done)
	delay := time.Second
	for attempt := 1; ; attempt++ {
		inner, err := dialOnce(ctx, rawURL, cfg)
		if ctx.Err() != nil {
			if inner != nil {
				_ = inner.close(context.Background(), nil)
			}
			return
		}
		b.set(inner, err)
		if err == nil {
			cfg.logger.Info("celerybridge: result backend connected", "backend", b.name, "attempts", attempt)
			return
		}
		if attempt == 1 {
			cfg.logger.Warn("celerybridge: result backend unreachable; connecting in the background",
				"backend", b.name, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, backendRetryMax)
	}
}

// dialOnce opens the backend within backendDialTimeout.
func dialOnce(ctx context.Context, rawURL string, cfg *config) (backend, error) {
	ctx, cancel := context.WithTimeout(ctx, backendDialTimeout)
	defer cancel()
	return dialBackend(ctx, rawURL, cfg)
}

// set records the outcome of one attempt.
func (b *lazyBackend) set(inner backend, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inner, b.err = inner, err
	if inner != nil {
		close(b.opened)
	}
}

// ready returns nil once the backend is open, else why it is not, naming it.
func (b *lazyBackend) ready() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inner != nil {
		return nil
	}
	return fmt.Errorf("%w: %s: %w", ErrBackendUnavailable, b.name, b.err)
}

// current returns the open backend, or the error ready reports.
func (b *lazyBackend) current() (backend, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inner, nil
}

func (b *lazyBackend) replyTo() string               { return "" }
func (b *lazyBackend) attach(*amqp.Connection) error { return nil }

// lookup fails at once while the backend is not open.
func (b *lazyBackend) lookup(ctx context.Context, id string) (Result, error) {
	inner, err := b.current()
	if err != nil {
		return Result{}, err
	}
	return inner.lookup(ctx, id)
}

// lookupMany fails at once while the backend is not open.
func (b *lazyBackend) lookupMany(ctx context.Context, ids []string) ([]Result, error) {
	inner, err := b.current()
	if err != nil {
		return nil, err
	}
	return inner.lookupMany(ctx, ids)
}

// wait waits for the backend to open, then for the task.
func (b *lazyBackend) wait(ctx context.Context, id string) (Result, error) {
	select {
	case <-b.opened:
	case <-ctx.Done():
		return Result{}, waitError(ctx, id, fmt.Errorf("%w (%w)", ctx.Err(), b.ready()))
	}
	inner, err := b.current()
	if err != nil {
		return Result{}, err
	}
	return inner.wait(ctx, id)
}

// close stops the retries and closes the backend if it opened.
func (b *lazyBackend) close(ctx context.Context, conn *amqp.Connection) error {
	b.cancel()
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inner == nil {
		return nil
	}
	return b.inner.close(ctx, conn)
}

// redactedURL renders a backend URL without its password.
func redactedURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// ResultsReady reports whether the result backend answers, for readiness
// probes: with WithBackgroundConnect a database or Redis backend that was
// down at start-up is retried until it opens, and until then this returns
// an error wrapping ErrBackendUnavailable that names it and the reason.
func (c *Client) ResultsReady(context.Context) error {
	if lb, ok := c.results.(*lazyBackend); ok {
		return lb.ready()
	}
	return nil
}

// record stores in the backend once it is open.
func (b *lazyBackend) record(ctx context.Context, r StoredResult, meta []byte) error {
	inner, err := b.current()
	if err != nil {
		return err
	}
	rec, ok := inner.(resultRecorder)
	if !ok {
		return fmt.Errorf("store result of %s: %s stores no results", r.TaskID, b.name)
	}
	return rec.record(ctx, r, meta)
}
