//go:build !hatchet_external

package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"

	hatchetengine "github.com/hatchet-dev/hatchet/cmd/hatchet-engine/engine"
	"github.com/hatchet-dev/hatchet/cmd/hatchet-migrate/migrate"
	"github.com/hatchet-dev/hatchet/pkg/cleanup"
	"github.com/hatchet-dev/hatchet/pkg/config/loader"
	"github.com/hatchet-dev/hatchet/pkg/config/loader/loaderutils"
	"github.com/hatchet-dev/hatchet/pkg/config/server"

	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/internal/pgdb"
)

// readyTimeout bounds how long Start waits for the engine to answer.
const readyTimeout = 90 * time.Second

// Embedded is a Hatchet engine (gRPC engine services and REST API) running in
// this process. Only one can run per process: Hatchet configures itself
// through process-wide environment variables.
type Embedded struct {
	// Token is a tenant API token for this engine.
	Token string
	// GRPCAddr is the engine's gRPC address (host:port, loopback).
	GRPCAddr string
	// APIURL is the engine's REST API base URL (loopback).
	APIURL string
	// TokenFile is where Token was written.
	TokenFile string

	server     *server.ServerConfig
	cancel     context.CancelFunc
	interrupt  chan any
	engineErr  chan error
	apiErr     chan error
	janitorErr chan error
	owner      *ownership
	log        *slog.Logger
	logs       *engineLog
}

// StartEmbedded prepares the database (create, migrate, seed, keys), starts the
// engine and its API, and returns once both answer. Stop releases them. Every
// listener it opens is on 127.0.0.1, and no user can log in to its API: the
// token is the way in (see prepareTenant).
func StartEmbedded(ctx context.Context, cfg config.Embedded, log *slog.Logger) (*Embedded, error) {
	started := time.Now()
	if err := pgdb.Ensure(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	k, err := prepareKeys(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	l, err := listen(cfg.GRPCPort, cfg.APIPort)
	if err != nil {
		return nil, err
	}
	cf, tenant, err := prepare(ctx, cfg, k, l, log)
	if err != nil {
		return nil, errors.Join(err, l.api.Close())
	}
	owner, err := takeDatabase(ctx, cfg.DatabaseURL, cfg.MsgQueue == config.MsgQueuePostgres, log)
	if err != nil {
		return nil, errors.Join(err, l.api.Close())
	}
	e, err := launch(cf, cfg, l, log)
	if err != nil {
		return nil, errors.Join(err, l.api.Close(), closeOwner(ctx, owner))
	}
	e.owner = keepOwner(cfg.DatabaseURL, owner, log)
	token, err := ensureToken(ctx, cf, cfg.DatabaseURL, k.Token, tenant, e)
	if err != nil {
		e.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	e.Token = token
	e.TokenFile = cfg.TokenFile
	if err := writeTokenFile(cfg.TokenFile, token); err != nil {
		e.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := e.waitReady(ctx); err != nil {
		e.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	log.Info("embedded engine ready", "grpc", e.GRPCAddr, "api", e.APIURL, "msgqueue", cfg.MsgQueue,
		"token_file", e.TokenFile, "tenant", tenant, "took", time.Since(started).Round(time.Millisecond))
	return e, nil
}

// listeners are where the engine will listen: the gRPC port, checked free on
// loopback (Hatchet's gRPC server binds it itself), and the API's loopback
// listener, opened here and handed to the API server.
type listeners struct {
	grpc int
	api  net.Listener
}

func (l listeners) apiPort() int { return l.api.Addr().(*net.TCPAddr).Port }

func listen(grpcPort, apiPort int) (listeners, error) {
	grpc, err := freePort(grpcPort, "HATCHET_EMBEDDED_GRPC_PORT")
	if err != nil {
		return listeners{}, err
	}
	api, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(apiPort)))
	if err != nil {
		return listeners{}, fmt.Errorf("HATCHET_EMBEDDED_API_PORT %d is not free: %w", apiPort, err)
	}
	return listeners{grpc: grpc, api: api}, nil
}

// freePort checks that port is free on loopback (Hatchet's gRPC server fails
// late on a busy port) or, for 0, picks a free one.
func freePort(port int, name string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("%s %d is not free: %w", name, port, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// prepare sets the environment Hatchet's loader reads, migrates the database
// and seeds (or repairs) the default tenant. It returns the loader and the
// tenant's id.
func prepare(ctx context.Context, cfg config.Embedded, k keys, l listeners, log *slog.Logger) (*loader.ConfigLoader, string, error) {
	if err := configureEnv(cfg, k, l); err != nil {
		return nil, "", err
	}
	if err := migrateDatabase(ctx, cfg.DatabaseURL, log); err != nil {
		return nil, "", err
	}
	cf := loader.NewConfigLoader("")
	tenant, err := prepareTenant(ctx, cf, log)
	if err != nil {
		return nil, "", err
	}
	return cf, tenant, nil
}

// configureEnv sets the variables Hatchet's configuration loader reads.
// Variables the operator set already (SERVER_*) are left as they are, except
// the ones this service owns: database, message queue, keys, ports and
// listeners. Hatchet's health server is off: it listens on every interface,
// with no setting to narrow it, so Ready asks the engine in process instead.
func configureEnv(cfg config.Embedded, k keys, l listeners) error {
	owned := map[string]string{
		"DATABASE_URL":                         cfg.DatabaseURL,
		"SERVER_GRPC_PORT":                     strconv.Itoa(l.grpc),
		"SERVER_GRPC_BIND_ADDRESS":             "127.0.0.1",
		"SERVER_GRPC_BROADCAST_ADDRESS":        net.JoinHostPort("127.0.0.1", strconv.Itoa(l.grpc)),
		"SERVER_GRPC_INSECURE":                 "true",
		"SERVER_PORT":                          strconv.Itoa(l.apiPort()),
		"SERVER_URL":                           "http://" + l.api.Addr().String(),
		"SERVER_HEALTHCHECK":                   "false",
		"SERVER_ENCRYPTION_MASTER_KEYSET":      k.MasterKeyset,
		"SERVER_ENCRYPTION_JWT_PRIVATE_KEYSET": k.JWTPrivate,
		"SERVER_ENCRYPTION_JWT_PUBLIC_KEYSET":  k.JWTPublic,
		"SERVER_AUTH_COOKIE_SECRETS":           k.CookieSecrets,
		"SERVER_MSGQUEUE_KIND":                 cfg.MsgQueue,
		// JSON, which routeLog re-emits through the service's logger.
		"SERVER_LOGGER_FORMAT":                      "json",
		"DATABASE_LOGGER_FORMAT":                    "json",
		"SERVER_ADDITIONAL_LOGGERS_QUEUE_FORMAT":    "json",
		"SERVER_ADDITIONAL_LOGGERS_PGXSTATS_FORMAT": "json",
	}
	if cfg.MsgQueue == config.MsgQueueRabbitMQ {
		owned["SERVER_MSGQUEUE_RABBITMQ_URL"] = cfg.MsgQueueURL
	}
	defaults := map[string]string{
		// One process's engine and API share the server with the platform:
		// keep each of their pools small (Hatchet's default is 50).
		"DATABASE_MAX_CONNS": "10",
		// Concurrency limits (per organisation) run on Hatchet's SQL path,
		// which reads the slots from the database on every pass. Its
		// in-memory index (Hatchet's default since v0.97) is built once and
		// then fed from a Postgres outbox (pgoutbox): when the server stops
		// during the commit that consumes a batch of outbox messages, the
		// commit may have happened while the client sees an error; the index
		// then undoes the batch, the messages are gone, and the slots they
		// announced are never seen again, so their runs stay queued forever
		// (TestPostgresRestartUnderBurst).
		"SERVER_CONCURRENCY_IN_MEMORY_INDEX_ENABLED": "false",
		// The SQL path polls each strategy at random between these (Hatchet's
		// default 0.5–5 s, at most 20 passes a second): a batch of a workflow
		// execution waited 220–410 ms for its slot with the defaults, 75 ms
		// with these (BenchmarkWorkflowExecution200), for 28 more database
		// transactions a second when idle (20–100 ms: no faster, 90 more).
		"SCHEDULER_CONCURRENCY_POLLING_MIN_INTERVAL": "50ms",
		"SCHEDULER_CONCURRENCY_POLLING_MAX_INTERVAL": "250ms",
		"SCHEDULER_CONCURRENCY_RATE_LIMIT":           "1000",
		// Off unless SERVER_PROMETHEUS_ENABLED=true; then on loopback unless
		// the operator names another address (Hatchet's default is ":9090").
		"SERVER_PROMETHEUS_ADDRESS": "127.0.0.1:9090",
		// Nobody signs up: the token is the way in.
		"SERVER_ALLOW_SIGNUP":                      "false",
		"SERVER_ALLOW_CREATE_TENANT":               "false",
		"SERVER_AUTH_COOKIE_DOMAIN":                "localhost",
		"SERVER_AUTH_COOKIE_INSECURE":              "true",
		"SERVER_SECURITY_CHECK_ENABLED":            "false",
		"SERVER_LOGGER_LEVEL":                      cfg.EngineLog,
		"DATABASE_LOGGER_LEVEL":                    cfg.EngineLog,
		"SERVER_ADDITIONAL_LOGGERS_QUEUE_LEVEL":    cfg.EngineLog,
		"SERVER_ADDITIONAL_LOGGERS_PGXSTATS_LEVEL": cfg.EngineLog,
	}
	for k, v := range owned {
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	for k, v := range defaults {
		if _, ok := os.LookupEnv(k); ok {
			continue
		}
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	return nil
}

// migrateDatabase brings Hatchet's schema up to date, logging one line
// instead of goose's one line per migration. Hatchet's migrator also prints
// its schema checks straight to standard output; those lines go to the log
// at debug level.
func migrateDatabase(ctx context.Context, dbURL string, log *slog.Logger) error {
	began := time.Now()
	goose.SetLogger(goose.NopLogger())
	err := stdoutToLog(log, func() error { return migrate.RunMigrations(ctx, migrate.WithDatabaseURL(dbURL)) })
	if err != nil {
		return fmt.Errorf("migrate hatchet database %s: %w", safeDB(dbURL), err)
	}
	log.Info("embedded engine: database migrated", "database", safeDB(dbURL), "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// stdoutToLog runs fn with the process's standard output sent, line by line,
// to log at debug level. Only start-up calls it, before the service or a
// command writes anything to standard output itself.
func stdoutToLog(log *slog.Logger, fn func() error) error {
	r, w, err := os.Pipe()
	if err != nil {
		return fn()
	}
	saved := os.Stdout
	os.Stdout = w
	done := make(chan struct{})
	go func() {
		defer close(done)
		lines := bufio.NewScanner(r)
		for lines.Scan() {
			log.Debug("embedded engine: migrator", "output", lines.Text())
		}
		_, _ = io.Copy(io.Discard, r) // a line beyond the scanner's limit
	}()
	defer func() {
		os.Stdout = saved
		_ = w.Close()
		<-done
		_ = r.Close()
	}()
	return fn()
}

func prepareKeys(ctx context.Context, dbURL string) (keys, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return keys{}, fmt.Errorf("connect to hatchet database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return loadOrCreateKeys(ctx, conn)
}

// launch starts the engine services, the API and the janitor (runJanitor),
// in goroutines that Stop ends.
func launch(cf *loader.ConfigLoader, cfg config.Embedded, l listeners, log *slog.Logger) (*Embedded, error) {
	logs, err := routeLog(log)
	if err != nil {
		return nil, err
	}
	cleanupServer, sc, err := cf.CreateServerFromConfig(Version)
	if err != nil {
		logs.close()
		return nil, fmt.Errorf("load hatchet engine config: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Embedded{
		GRPCAddr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(l.grpc)),
		APIURL:     "http://" + l.api.Addr().String(),
		server:     sc,
		cancel:     cancel,
		interrupt:  make(chan any),
		engineErr:  make(chan error, 1),
		apiErr:     make(chan error, 1),
		janitorErr: make(chan error, 1),
		log:        log,
		logs:       logs,
	}
	go func() { e.engineErr <- runEngine(ctx, sc, cleanupServer) }()
	go func() { e.apiErr <- serveAPI(cf, l.api, e.interrupt) }()
	go func() { e.janitorErr <- runJanitor(ctx, cfg.DatabaseURL, cfg.MsgQueue == config.MsgQueuePostgres, log) }()
	return e, nil
}

// runEngine runs Hatchet's engine services until ctx ends, as Hatchet's
// engine.Run does, but on a server configuration this process keeps, so
// Ready can ask the engine's own queue and database how they are.
func runEngine(ctx context.Context, sc *server.ServerConfig, cleanupServer func() error) error {
	c := cleanup.New(sc.Logger)
	err := hatchetengine.RunWithConfig(ctx, sc, &c)
	withoutStep(&c, partitionerSleep)
	c.Add(cleanupServer, "server")
	c.Add(sc.Disconnect, "database")
	if err != nil {
		return errors.Join(fmt.Errorf("run hatchet engine: %w", err), c.Run())
	}
	return c.Run()
}

// partitionerSleep names the teardown step of Hatchet's partitioner
// (internal/services/partition) that sleeps its heartbeat timeout, 5 s,
// after stopping its heartbeat jobs, so one still in flight ends before the
// partitions are deleted. Those jobs run on the engine's context, which
// has ended when teardown starts, so here the sleep only added 5 s to
// every stop of the service.
const partitionerSleep = "partitioner heartbeat timeout"

// withoutStep drops the teardown steps called name from c.
func withoutStep(c *cleanup.Cleanup, name string) {
	c.Fns = slices.DeleteFunc(c.Fns, func(f cleanup.CleanupFn) bool { return f.Name == name })
}

// ensureToken returns the stored token when it still names this engine's
// addresses, or mints and stores a new one.
func ensureToken(ctx context.Context, cf *loader.ConfigLoader, dbURL, stored, tenant string, e *Embedded) (string, error) {
	if stored != "" {
		if conf, err := loaderutils.GetConfFromJWT(stored); err == nil &&
			conf.GrpcBroadcastAddress == e.GRPCAddr && conf.ServerURL == e.APIURL {
			return stored, nil
		}
	}
	token, err := mintToken(ctx, cf, tenant)
	if err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "", fmt.Errorf("connect to hatchet database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return token, storeToken(ctx, conn, token)
}

func mintToken(ctx context.Context, cf *loader.ConfigLoader, tenant string) (string, error) {
	tenantID, err := uuid.Parse(tenant)
	if err != nil {
		return "", fmt.Errorf("default tenant id %q: %w", tenant, err)
	}
	cleanup, sc, err := cf.CreateServerFromConfig(Version)
	if err != nil {
		return "", fmt.Errorf("load hatchet server config: %w", err)
	}
	defer func() {
		_ = cleanup()
		_ = sc.Disconnect()
	}()
	expires := time.Now().AddDate(10, 0, 0)
	tok, err := sc.Auth.JWTManager.GenerateTenantToken(ctx, tenantID, "hatchet-worker-embedded", false, &expires)
	if err != nil {
		return "", fmt.Errorf("generate api token: %w", err)
	}
	return tok.Token, nil
}

func writeTokenFile(path, token string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("token file directory: %w", err)
	}
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return fmt.Errorf("write token file: %w", err)
	}
	return nil
}

func (e *Embedded) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		err := e.Ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("embedded engine not ready after %s: %w", readyTimeout, err)
		case err := <-e.engineErr:
			return fmt.Errorf("embedded engine stopped: %w", err)
		case err := <-e.apiErr:
			return fmt.Errorf("embedded API stopped: %w", err)
		case <-tick.C:
		}
	}
}

// Ready reports whether the engine and its REST API answer.
func (e *Embedded) Ready(ctx context.Context) error {
	if err := e.engineHealthy(ctx); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	if err := httpOK(ctx, e.APIURL+"/api/ready"); err != nil {
		return fmt.Errorf("api: %w", err)
	}
	return nil
}

// engineHealthy asks what Hatchet's health server would (its message queue
// and its database), in process, and whether the gRPC port accepts.
func (e *Embedded) engineHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if !e.server.MessageQueueV1.IsReady() {
		return errors.New("message queue not ready")
	}
	if !e.server.V1.Health().IsHealthy(ctx) {
		return errors.New("database not healthy")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.GRPCAddr)
	if err != nil {
		return fmt.Errorf("grpc: %w", err)
	}
	return conn.Close()
}

func httpOK(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}

// Stop shuts the engine and API down, waiting for the engine until ctx ends.
func (e *Embedded) Stop(ctx context.Context) error {
	e.logs.stopping.Store(true)
	defer e.logs.close()
	e.cancel()
	close(e.interrupt)
	var errs []error
	waits := map[string]chan error{"engine": e.engineErr, "api": e.apiErr, "janitor": e.janitorErr}
	for name, ch := range waits {
		select {
		case err := <-ch:
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("%s: %w", name, ctx.Err()))
		}
	}
	if e.owner != nil {
		e.owner.release()
	}
	return errors.Join(errs...)
}

// safeDB renders a database URL without its password, for logs.
func safeDB(raw string) string {
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return "(unparseable)"
	}
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// WorkerReleased reports whether the engine's scheduler has let go of the
// worker: it holds a lease on each worker it assigns tasks to, renewed
// every 5 s, and gives it up once the worker is paused or gone.
func (e *Embedded) WorkerReleased(ctx context.Context, workerID string) (bool, error) {
	var held bool
	err := e.server.Pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM "Lease" WHERE "kind" = 'WORKER' AND "resourceId" = $1)`, workerID).Scan(&held)
	if err != nil {
		return false, fmt.Errorf("read the scheduler's worker lease: %w", err)
	}
	return !held, nil
}
