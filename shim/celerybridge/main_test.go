package celerybridge_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// runID makes this test binary's queue names unique on the shared broker.
var runID = fmt.Sprintf("%d", time.Now().UnixNano())

// fixture is one shared Celery worker and the queue it consumes.
type fixture struct {
	once    sync.Once
	worker  *testenv.CeleryWorker
	drop    func()
	err     error
	queue   string
	backend func(t testing.TB) (string, func(), error)
}

// redisDB is the Redis database of the redis:// fixture, used by no other test.
const redisDB = 11

var (
	rpcFixture = &fixture{queue: "cb-rpc-" + runID, backend: func(testing.TB) (string, func(), error) { return "rpc://", func() {}, nil }}
	dbFixture  = &fixture{queue: "cb-db-" + runID, backend: func(t testing.TB) (string, func(), error) {
		return testenv.CreateCeleryDatabase(context.Background(), testenv.PostgresURL(t))
	}}
	redisFixture = &fixture{queue: "cb-redis-" + runID, backend: func(t testing.TB) (string, func(), error) {
		backend, err := testenv.CeleryRedisBackend(context.Background(), testenv.RedisAddr(t), redisDB)
		return backend, func() {}, err
	}}
)

// start launches the fixture's worker once per test binary.
func (f *fixture) start(t *testing.T) *testenv.CeleryWorker {
	t.Helper()
	broker := testenv.AMQPURL(t)
	f.once.Do(func() {
		var backend string
		if backend, f.drop, f.err = f.backend(t); f.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		f.worker, f.err = testenv.LaunchCeleryWorker(ctx, testenv.WithCeleryBroker(broker), testenv.WithCeleryBackend(backend),
			testenv.WithCeleryQueues(f.queue), testenv.WithCeleryConcurrency(8))
	})
	if f.err != nil {
		t.Fatalf("start celery worker: %v", f.err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker log:\n%s", f.worker.Log())
		}
	})
	return f.worker
}

func (f *fixture) stop() {
	if f.worker != nil {
		_ = f.worker.Stop()
	}
	if f.drop != nil {
		f.drop()
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	rpcFixture.stop()
	dbFixture.stop()
	redisFixture.stop()
	os.Exit(code)
}

// dial opens a Client for the test and closes it in t.Cleanup.
func dial(t *testing.T, opts ...celerybridge.Option) *celerybridge.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := celerybridge.Dial(ctx, testenv.AMQPURL(t), opts...)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() {
		// A clean close takes well under a second; the bound leaves room
		// for a machine under load.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return c
}

func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
