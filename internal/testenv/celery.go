package testenv

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// CeleryPython is the interpreter that has Debian's Python Celery installed.
const CeleryPython = "/usr/bin/python3"

// celeryReadyTimeout bounds how long a worker may take to report "ready".
const celeryReadyTimeout = 60 * time.Second

// CeleryWorker is a running Python Celery worker serving the fixture app in
// shim/celerybridge/testdata (tasks echo, fail, retry_once, async_execute_bin
// as a chord of …process_file_batch and …process_batch_callback,
// send_webhook_notification).
type CeleryWorker struct {
	// NodeName is the worker's unique node name (celery@…).
	NodeName string
	// BrokerURL is the broker the worker consumes from.
	BrokerURL string
	// ResultBackend is the worker's CELERY_RESULT_BACKEND.
	ResultBackend string
	// Queues are the queues the worker consumes.
	Queues []string
	// WebhookLog is the file send_webhook_notification appends a JSON line to.
	WebhookLog string
	// RunLog is the file async_execute_bin appends a line to each time it
	// runs: its task id and whether the broker redelivered the message.
	RunLog string

	cmd  *exec.Cmd
	logs *Buffer
	done chan struct{}
	// ownQueues are the queues Stop deletes: those named by
	// WithCeleryQueues, which tests make unique.
	ownQueues []string
}

// celeryConfig collects the CeleryOption values.
type celeryConfig struct {
	broker      string
	backend     string
	queues      []string
	concurrency int
	env         []string
	ownQueues   bool // queues set by WithCeleryQueues
}

// CeleryOption configures StartCeleryWorker and LaunchCeleryWorker.
type CeleryOption func(*celeryConfig)

// WithCeleryBroker sets the broker URL (default: AMQPURL).
func WithCeleryBroker(u string) CeleryOption { return func(c *celeryConfig) { c.broker = u } }

// WithCeleryBackend sets the result backend URL (default "rpc://"), passed to
// the worker unchanged; see CeleryPostgresBackend for a db+postgresql://
// backend in a fresh database and CeleryRedisBackend for a redis:// one.
func WithCeleryBackend(u string) CeleryOption { return func(c *celeryConfig) { c.backend = u } }

// WithCeleryQueues sets the queues the worker consumes (default "celery");
// Stop deletes them.
func WithCeleryQueues(q ...string) CeleryOption {
	return func(c *celeryConfig) { c.queues, c.ownQueues = q, true }
}

// WithCeleryConcurrency sets the worker's thread count (default 4).
func WithCeleryConcurrency(n int) CeleryOption { return func(c *celeryConfig) { c.concurrency = n } }

// WithCeleryEnv adds KEY=VALUE entries to the worker's environment.
func WithCeleryEnv(kv ...string) CeleryOption {
	return func(c *celeryConfig) { c.env = append(c.env, kv...) }
}

// StartCeleryWorker starts a fixture worker for the test, waits until it is
// ready, logs its output if the test fails and stops it in t.Cleanup.
func StartCeleryWorker(t testing.TB, opts ...CeleryOption) *CeleryWorker {
	t.Helper()
	opts = append([]CeleryOption{WithCeleryBroker(AMQPURL(t))}, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), celeryReadyTimeout)
	defer cancel()
	w, err := LaunchCeleryWorker(ctx, opts...)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := w.Stop(); err != nil {
			t.Errorf("testenv: stop celery worker: %v", err)
		}
		if t.Failed() {
			t.Logf("celery worker %s log:\n%s", w.NodeName, w.Log())
		}
	})
	return w
}

// LaunchCeleryWorker starts a fixture worker and waits until it is ready or
// ctx ends. The caller must Stop it; use it where no testing.TB exists (TestMain).
func LaunchCeleryWorker(ctx context.Context, opts ...CeleryOption) (*CeleryWorker, error) {
	cfg := celeryConfig{broker: DefaultAMQPURL, backend: "rpc://", queues: []string{"celery"}, concurrency: 4}
	for _, o := range opts {
		o(&cfg)
	}
	dir, err := CeleryAppDir()
	if err != nil {
		return nil, err
	}
	w := &CeleryWorker{
		NodeName:      "fixture-" + randomHex(6) + "@localhost",
		BrokerURL:     cfg.broker,
		ResultBackend: cfg.backend,
		Queues:        cfg.queues,
		WebhookLog:    filepath.Join(os.TempDir(), "celery-webhook-"+randomHex(6)+".jsonl"),
		RunLog:        filepath.Join(os.TempDir(), "celery-runs-"+randomHex(6)+".log"),
		logs:          &Buffer{},
		done:          make(chan struct{}),
	}
	if cfg.ownQueues {
		w.ownQueues = cfg.queues
	}
	if err := w.start(ctx, dir, cfg); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *CeleryWorker) start(ctx context.Context, dir string, cfg celeryConfig) error {
	w.cmd = exec.Command(CeleryPython, "-m", "celery", "-A", "fixture_app", "worker",
		"--loglevel=INFO", "--pool=threads", "--concurrency="+strconv.Itoa(cfg.concurrency),
		"--without-gossip", "--without-mingle", "--without-heartbeat",
		"-n", w.NodeName, "-Q", strings.Join(cfg.queues, ","))
	w.cmd.Dir = dir
	w.cmd.Env = append(os.Environ(), "CELERY_BROKER_URL="+cfg.broker,
		"CELERY_RESULT_BACKEND="+cfg.backend, "FIXTURE_WEBHOOK_LOG="+w.WebhookLog,
		"FIXTURE_RUN_LOG="+w.RunLog, "PYTHONUNBUFFERED=1")
	w.cmd.Env = append(w.cmd.Env, cfg.env...)
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	w.cmd.Stdout, w.cmd.Stderr = pw, pw
	if err := w.cmd.Start(); err != nil {
		return fmt.Errorf("start celery worker: %w", err)
	}
	ready := make(chan struct{})
	go w.scan(pr, ready)
	go func() { _ = w.cmd.Wait(); _ = pw.Close(); close(w.done) }()
	select {
	case <-ready:
		return nil
	case <-w.done:
		return fmt.Errorf("celery worker exited before ready:\n%s", w.Log())
	case <-ctx.Done():
		_ = w.Stop()
		return fmt.Errorf("celery worker not ready: %w\n%s", ctx.Err(), w.Log())
	}
}

// scan copies the worker's output into the log and closes ready at "ready.".
func (w *CeleryWorker) scan(r io.Reader, ready chan struct{}) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64*1024), 4*1024*1024)
	signalled := false
	for s.Scan() {
		line := s.Text()
		w.logs.WriteString(line + "\n")
		if !signalled && strings.Contains(line, " ready.") {
			signalled = true
			close(ready)
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// PID is the worker's process id (its threads share the process).
func (w *CeleryWorker) PID() int { return w.cmd.Process.Pid }

// Log returns what the worker has written so far.
func (w *CeleryWorker) Log() string { return w.logs.String() }

// Stop ends the worker with SIGTERM (warm shutdown), then SIGKILL after
// 10 s, and deletes the queues named by WithCeleryQueues.
func (w *CeleryWorker) Stop() error {
	if w.cmd == nil || w.cmd.Process == nil {
		return nil
	}
	_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
		<-w.done
	}
	_ = os.Remove(w.WebhookLog)
	_ = os.Remove(w.RunLog)
	return DeleteQueues(w.BrokerURL, w.ownQueues...)
}

// CeleryAppDir returns the directory of the fixture Celery app
// (shim/celerybridge/testdata), found from this source file's location.
func CeleryAppDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("testenv: cannot locate source file")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "shim", "celerybridge", "testdata")
	if _, err := os.Stat(filepath.Join(dir, "fixture_app.py")); err != nil {
		return "", fmt.Errorf("testenv: celery fixture app: %w", err)
	}
	return filepath.Clean(dir), nil
}

// CeleryPostgresBackend creates a fresh database on the test PostgreSQL
// server, drops it in t.Cleanup and returns it as a Celery result backend URL
// (db+postgresql://…). Celery creates celery_taskmeta on first use.
func CeleryPostgresBackend(t testing.TB) string {
	t.Helper()
	backend, drop, err := CreateCeleryDatabase(context.Background(), PostgresURL(t))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(drop)
	return backend
}

// CreateCeleryDatabase creates a fresh database on the server at adminURL and
// returns it as a db+postgresql:// result backend URL with a function that
// drops it.
func CreateCeleryDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	name := "celery_" + randomHex(6)
	raw, err := FreshDatabase(ctx, adminURL, name)
	if err != nil {
		return "", nil, err
	}
	drop := func() { _ = DropDatabase(context.Background(), adminURL, name) }
	u, err := url.Parse(raw)
	if err != nil {
		return "", nil, fmt.Errorf("parse %s: %w", raw, err)
	}
	backend := &url.URL{Scheme: "db+postgresql", User: u.User, Host: u.Host, Path: u.Path}
	return backend.String(), drop, nil
}

// CeleryRedisBackend empties database db of the Redis server at addr (FLUSHDB)
// and returns it as a Celery result backend URL, redis://addr/db. Celery
// stores results there under celery-task-meta-<id>, expiring after a day.
func CeleryRedisBackend(ctx context.Context, addr string, db int) (string, error) {
	client := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	defer func() { _ = client.Close() }()
	if err := client.FlushDB(ctx).Err(); err != nil {
		return "", fmt.Errorf("flush redis %s db %d: %w", addr, db, err)
	}
	return fmt.Sprintf("redis://%s/%d", addr, db), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// WebhookCalls returns the lines send_webhook_notification has appended to
// WebhookLog, one JSON object per call; none before the first call.
func (w *CeleryWorker) WebhookCalls(t testing.TB) []string {
	t.Helper()
	return lines(t, w.WebhookLog)
}

// TaskRuns counts the runs of one task.
type TaskRuns struct {
	// Runs is how many times it ran; Redelivered, how many of those took a
	// message the broker delivered again (its acknowledgement lost).
	Runs, Redelivered int
}

// Runs counts the runs of async_execute_bin by task id (RunLog).
func (w *CeleryWorker) Runs(t testing.TB) map[string]TaskRuns {
	t.Helper()
	runs := map[string]TaskRuns{}
	for _, line := range lines(t, w.RunLog) {
		id, flag, _ := strings.Cut(line, " ")
		r := runs[id]
		r.Runs++
		if flag == "redelivered" {
			r.Redelivered++
		}
		runs[id] = r
	}
	return runs
}

// lines returns the lines of the file at path; none before it exists.
func lines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []string
	for s := bufio.NewScanner(f); s.Scan(); {
		out = append(out, s.Text())
	}
	return out
}

// ResultBackend is a Celery result backend a test opens fresh.
type ResultBackend struct {
	// Name is its kind: rpc, db or redis.
	Name string
	// Open returns its URL, as CELERY_RESULT_BACKEND names it.
	Open func(t testing.TB) string
}

// ResultBackends are the three result backends a Celery caller of the
// platform may read: rpc://, a fresh database (CeleryPostgresBackend) and
// Redis database redisDB, emptied (CeleryRedisBackend).
func ResultBackends(redisDB int) []ResultBackend {
	return []ResultBackend{
		{"rpc", func(testing.TB) string { return "rpc://" }},
		{"db", CeleryPostgresBackend},
		{"redis", func(t testing.TB) string {
			u, err := CeleryRedisBackend(context.Background(), RedisAddr(t), redisDB)
			if err != nil {
				t.Fatalf("testenv: %v", err)
			}
			return u
		}},
	}
}
