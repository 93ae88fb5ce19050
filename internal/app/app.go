// Package app wires the service together: the HTTP listener (shim API and
// operations endpoints), the Hatchet engine connection, the worker and its
// workflows, the CeleryBridge client and the feature flags. It runs until
// its context ends, then shuts down in order: not ready, drain tasks, finish
// HTTP requests, close the broker, databases and engine.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/unstract/hatchet-worker/shim/store"

	hatchetbackend "github.com/unstract/hatchet-worker/shim/backend/hatchet"

	"golang.org/x/sync/errgroup"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/internal/engine"
	"github.com/unstract/hatchet-worker/internal/hatchetrun"
	"github.com/unstract/hatchet-worker/internal/ops"
	"github.com/unstract/hatchet-worker/internal/pgdb"
	"github.com/unstract/hatchet-worker/internal/worker"
	"github.com/unstract/hatchet-worker/platform"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/api"
	"github.com/unstract/hatchet-worker/shim/backend/celery"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
	"github.com/unstract/hatchet-worker/shim/console"
	"github.com/unstract/hatchet-worker/shim/route"
	"github.com/unstract/hatchet-worker/workflows"
)

// service holds what Run started, so shutdown can stop it in order.
type service struct {
	cfg    config.Config
	log    *slog.Logger
	ops    *ops.State
	mux    *http.ServeMux
	http   *http.Server
	flags  *featureflag.Flags
	bg     *errgroup.Group // background goroutines: HTTP, flag watcher, outcome tracking, pruning
	stopBg context.CancelFunc
	conn   *engine.Conn
	deps   *Dependencies
	store  *store.Postgres
	shim   *shim.Dispatcher // nil until the shim is mounted
	worker *worker.Worker
	phase  atomic.Int32 // phaseStarting, phaseRunning or phaseStopping

	frontDoor []*celerybridge.Consumer // one per FRONT_DOOR queue
}

// The phases of the service's life, in order; the readiness check
// "service" reports them.
const (
	phaseStarting int32 = iota
	phaseRunning
	phaseStopping
)

// Run runs the service until ctx ends and returns nil after a clean shutdown.
// The routes and the feature flags are checked before anything starts. When
// a background task (the HTTP listener) fails, the service shuts down in
// order and Run returns that failure.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger) (err error) {
	began := time.Now()
	s := &service{cfg: cfg, log: log, ops: ops.New(), mux: http.NewServeMux()}
	if err := s.loadRouting(ctx); err != nil {
		return err
	}
	bgCtx, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	s.bg, bgCtx = errgroup.WithContext(bgCtx)
	s.stopBg = stopBg
	s.ops.AddCheck("service", s.lifecycle)
	api.RegisterOps(s.mux, s.ops)
	if err := s.listen(); err != nil {
		stopBg()
		return err
	}
	defer func() { err = errors.Join(err, s.close()) }()
	if err := s.start(ctx, bgCtx); err != nil {
		if ctx.Err() != nil { // a signal during start-up: a clean stop
			s.phase.Store(phaseStopping)
			log.Info("stopped during start-up", "cause", context.Cause(ctx), "err", err)
			return nil
		}
		return err
	}
	s.phase.Store(phaseRunning)
	log.Info("service ready", "addr", s.http.Addr, "took", time.Since(began).Round(time.Millisecond))
	select {
	case <-ctx.Done():
		log.Info("shutting down", "cause", context.Cause(ctx))
	case <-bgCtx.Done():
		log.Error("a background task failed; shutting down")
	}
	return s.drain(ctx)
}

// loadRouting loads the feature flags, naming only workflows the shim
// routes, before anything starts; the watcher starts with the shim.
func (s *service) loadRouting(ctx context.Context) error {
	var err error
	s.flags, err = featureflag.New(ctx, s.cfg.Routing.Flags(), featureflag.WithLogger(s.log),
		featureflag.WithKnownWorkflows(workflows.RouteNames()...))
	if err != nil {
		return fmt.Errorf("feature flags: %w", err)
	}
	return nil
}

// lifecycle is the readiness check of the service's own phase: "starting"
// until everything started, "stopping" from the first signal on.
func (s *service) lifecycle(context.Context) error {
	switch s.phase.Load() {
	case phaseStarting:
		return errors.New("starting")
	case phaseStopping:
		return errors.New("stopping")
	}
	return nil
}

// start connects everything and starts the worker and the shim; its
// background goroutines run on bgCtx. The broker and result backend
// connect in the background; an external engine is waited for (see
// awaitEngine). It returns early when ctx ends.
func (s *service) start(ctx, bgCtx context.Context) error {
	if err := s.openDependencies(ctx); err != nil {
		return err
	}
	if err := s.awaitEngine(ctx); err != nil {
		return err
	}
	var err error
	if s.conn, err = engine.Connect(ctx, s.cfg, s.log); err != nil {
		return err
	}
	s.ops.AddCheck("engine", s.conn.Ready)
	if err := s.openStore(ctx); err != nil {
		return err
	}
	if err := s.deps.OpenPlatformReporter(ctx, s.cfg.Platform, s.notePlatformReport); err != nil {
		return err
	}
	s.deps.Workflows.Runs = hatchetrun.Records{Client: s.conn.Client}
	defs := workflows.Registry(s.deps.Workflows)
	if err := s.startWorker(bgCtx, defs); err != nil {
		return err
	}
	return s.startShim(ctx, bgCtx, defs)
}

// openDependencies opens what the workflows call.
func (s *service) openDependencies(ctx context.Context) error {
	var err error
	// A broker or result backend outage at start-up must not stop the
	// Hatchet side: the bridge connects both in the background and /readyz
	// reports them meanwhile.
	bridge := []celerybridge.Option{celerybridge.WithMetrics(celerybridge.NewMetrics(s.ops.Registry)),
		celerybridge.WithBackgroundConnect()}
	if s.deps, err = OpenDependencies(ctx, s.cfg, s.log, bridge...); err != nil {
		return err
	}
	if s.deps.Celery != nil {
		s.ops.AddCheck("broker", s.deps.Celery.Ready)
		s.ops.AddCheck("result_backend", s.deps.Celery.ResultsReady)
	}
	return nil
}

// openStore opens the shim's execution store, in the engine's database.
func (s *service) openStore(ctx context.Context) error {
	if s.conn.Embedded == nil { // the embedded engine created it already
		if err := pgdb.Ensure(ctx, s.cfg.Embedded.DatabaseURL); err != nil {
			return fmt.Errorf("execution store: %w", err)
		}
	}
	var err error
	s.store, err = store.Open(ctx, s.cfg.Embedded.DatabaseURL)
	return err
}

// notePlatformReport records a report to the platform in the execution's
// record, where its status and the console read it.
func (s *service) notePlatformReport(ev platform.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.store.NotePlatformReport(ctx, ev.Execution.Key, ev.Final, ev.Err, ev.Retrying); err != nil {
		s.log.Warn("record platform report", "execution_id", ev.Execution.Key, "error", err)
	}
}

// engineRetryMax bounds the wait between probes of an unreachable engine.
const engineRetryMax = 10 * time.Second

// awaitEngine waits until an external engine answers (engine.Probe), so an
// unreachable one does not stop the service: meanwhile the log says once
// why, naming its address, and the engine readiness check reports the
// latest reason. It returns when ctx ends, and at once for the embedded
// engine or a token that names no engine.
func (s *service) awaitEngine(ctx context.Context) error {
	if !s.cfg.Hatchet.External() {
		return nil
	}
	var last atomic.Pointer[error]
	s.ops.AddCheck("engine", func(context.Context) error {
		if err := last.Load(); err != nil {
			return *err
		}
		return errors.New("connecting")
	})
	for attempt, delay := 1, time.Second; ; attempt, delay = attempt+1, min(2*delay, engineRetryMax) {
		err := engine.Probe(ctx, s.cfg.Hatchet)
		switch {
		case err == nil:
			if attempt > 1 {
				s.log.Info("hatchet engine reachable", "attempts", attempt)
			}
			return nil
		case !errors.Is(err, engine.ErrUnreachable) || ctx.Err() != nil:
			return err
		case attempt == 1:
			s.log.Warn("hatchet engine unreachable; retrying until it answers", "err", err)
		}
		last.Store(&err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// startWorker runs the worker and the watch over the engine connection on
// bgCtx: the worker registers, and re-registers after an engine outage,
// in the background; the "worker" readiness check says whether it is.
func (s *service) startWorker(bgCtx context.Context, defs []workflows.Definition) error {
	wfs, err := workflows.BuildAll(s.conn.Client, defs)
	if err != nil {
		return err
	}
	opts := []worker.Option{worker.WithMetrics(worker.NewMetrics(s.ops.Registry))}
	if s.conn.Embedded != nil {
		opts = append(opts, worker.WithReleased(s.conn.Embedded.WorkerReleased))
	}
	s.worker, err = worker.New(s.conn.Client, s.cfg.Worker.Name, s.cfg.Worker.Slots, wfs, s.log, opts...)
	if err != nil {
		return err
	}
	s.ops.AddCheck("worker", s.worker.Ready)
	s.bg.Go(func() error { return s.worker.Run(bgCtx) })
	s.bg.Go(func() error { return s.conn.KeepFresh(bgCtx) })
	return nil
}

// startShim mounts the shim API and the console over the routes the
// workflows declare, and starts the flag watcher, outcome tracking, the
// pruning of old records and the front door, on bgCtx.
func (s *service) startShim(ctx, bgCtx context.Context, defs []workflows.Definition) error {
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name
	}
	routes := workflows.Routes(defs)
	catalog, err := route.NewCatalog(routes, names)
	if err != nil {
		return err
	}
	s.bg.Go(func() error { return ignoreCancel(s.flags.Watch(bgCtx)) })
	backends := map[featureflag.Backend]shim.Backend{featureflag.BackendHatchet: hatchetbackend.New(s.conn.Client, s.conn.Ready,
		hatchetbackend.WithLostAfter(s.cfg.Shim.LostAfter), hatchetbackend.WithConnected(s.conn.Connected), hatchetbackend.WithDashboard(s.cfg.Shim.DashboardURL, s.conn.TenantID),
		hatchetbackend.WithResultTasks(catalog.ResultTasks()), hatchetbackend.WithProgress(catalog.Spawning()...))}
	if s.deps.Celery != nil {
		backends[featureflag.BackendCelery] = celery.New(s.deps.Celery)
	}
	routing := []featureflag.RouterOption{featureflag.WithFallback(s.cfg.Routing.Fallback)}
	if s.cfg.Routing.Backend == featureflag.BackendCelery {
		routing = append(routing, featureflag.WithPin(featureflag.BackendCelery))
	}
	router := featureflag.NewRouter(s.flags, routing...)
	d := shim.NewDispatcher(catalog, router, s.store, backends, shim.WithHistory(s.store), shim.WithPlatformReports(s.store),
		shim.WithLogger(s.log), shim.WithMetrics(s.ops.Registry))
	s.shim = d
	tokens := s.cfg.Shim.Tokens()
	srv := api.NewServer(d, api.WithTokens(tokens...), api.WithMaxBody(s.cfg.Shim.MaxBodyBytes),
		api.WithLogger(s.log), api.WithMetrics(s.ops.Registry),
		api.WithFlags(s.flags, s.cfg.Routing.Backend))
	srv.Register(s.mux)
	s.ops.AddCheck("shim", srv.Ready)
	if err := s.mountConsole(d, tokens); err != nil {
		return err
	}
	s.track(bgCtx, d)
	if err := s.startFrontDoor(ctx, bgCtx, d, routes); err != nil {
		return err
	}
	if r := s.cfg.Shim.Retention; r > 0 {
		s.bg.Go(func() error { s.pruneExecutions(bgCtx, r); return nil })
	}
	if len(tokens) == 0 {
		s.log.Warn("shim API runs WITHOUT authentication (SHIM_INSECURE_DEV=true); never do this in production")
	}
	return nil
}

// mountConsole serves the migration console over d at /console.
func (s *service) mountConsole(d *shim.Dispatcher, tokens []string) error {
	proxies, _ := s.cfg.Shim.Proxies() // checked by config.Load
	con, err := console.New(d, console.WithTokens(tokens...), console.WithLogger(s.log), console.WithSessions(s.store),
		console.WithTrustedProxies(proxies...), console.WithFlags(func() console.FlagState {
			return console.FlagState{Backend: s.cfg.Routing.Backend, Snapshot: s.flags.Snapshot()}
		}))
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	con.Register(s.mux)
	return nil
}

// track starts outcome tracking on bgCtx, led by one replica of those
// sharing the store, and hands it the rpc:// results as they arrive.
func (s *service) track(bgCtx context.Context, d *shim.Dispatcher) {
	leader := s.store.Leader("outcome-tracking", leadRetryIntervals*s.cfg.Shim.TrackInterval)
	tracker := shim.NewTracker(d, s.store, shim.WithTrackInterval(s.cfg.Shim.TrackInterval), shim.WithTrackBatch(s.cfg.Shim.TrackBatch),
		shim.WithLeader(leader))
	if s.deps.Celery != nil {
		s.deps.Celery.OnResult(celery.Observed(tracker.Observe))
	}
	s.bg.Go(func() error {
		defer leader.Close()
		return tracker.Run(bgCtx)
	})
}

// leadRetryIntervals is how many tracking intervals a replica lets pass
// before it waits for the lead again after a wait failed (the database
// restarting).
// Replicas that do not lead wait in the database, so they take over at
// their next pass once the leader is gone.
const leadRetryIntervals = 3

// pruneInterval is how often execution records past retention are deleted.
const pruneInterval = time.Hour

// pruneExecutions deletes execution records older than retention, now and
// every pruneInterval, until ctx ends. Replicas may all do it: the delete is
// idempotent.
func (s *service) pruneExecutions(ctx context.Context, retention time.Duration) {
	t := time.NewTicker(pruneInterval)
	defer t.Stop()
	for {
		n, err := s.store.Prune(ctx, time.Now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("prune execution records", "err", err)
		case n > 0:
			s.log.Info("execution records pruned", "deleted", n, "retention", retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *service) listen() error {
	ln, err := net.Listen("tcp", s.cfg.Service.Addr)
	if err != nil {
		return fmt.Errorf("listen on SERVICE_ADDR %s: %w", s.cfg.Service.Addr, err)
	}
	s.http = &http.Server{Addr: ln.Addr().String(), Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	s.bg.Go(func() error {
		if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http listener: %w", err)
		}
		return nil
	})
	s.log.Info("http listening", "addr", s.http.Addr)
	return nil
}

// drain stops taking messages and tasks and waits for those taken.
func (s *service) drain(ctx context.Context) error {
	s.phase.Store(phaseStopping) // /readyz fails from here on
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Service.ShutdownTimeout)
	defer cancel()
	return errors.Join(s.closeFrontDoor(drainCtx), s.worker.Drain(drainCtx))
}

// stopStep bounds each step of close, so one that hangs cannot hold the
// others (or the process) forever.
const stopStep = 10 * time.Second

// close releases everything in dependency order: HTTP first (in-flight shim
// requests still need the broker and engine) and the shim's record writes
// that outlast their requests, then the background
// goroutines (the flag watcher and the pruning, which use the store), then
// the broker, the databases and the engine last. Each step has its own
// deadline. It returns the failure of a background task, if any.
func (s *service) close() error {
	_ = s.step("front door", s.closeFrontDoor) // logged; already closed after a drain
	_ = s.step("http", s.http.Shutdown)        // logged
	if s.shim != nil {
		_ = s.step("shim's record writes", func(context.Context) error { s.shim.Wait(); return nil })
	}
	s.stopBg()
	bgErr := s.step("background tasks", func(context.Context) error { return s.bg.Wait() })
	if s.deps != nil {
		_ = s.step("dependencies", func(ctx context.Context) error { s.deps.Close(ctx); return nil })
	}
	if s.store != nil {
		_ = s.step("execution store", func(context.Context) error { s.store.Close(); return nil })
	}
	if s.conn != nil {
		_ = s.step("engine", s.conn.Close) // logged
	}
	return bgErr
}

// step runs one stop under a deadline of stopStep (at most
// SHUTDOWN_TIMEOUT), logs its failure and returns it; a stop that ignores
// its context is left behind once the deadline passes.
func (s *service) step(name string, stop func(context.Context) error) error {
	timeout := min(stopStep, s.cfg.Service.ShutdownTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	began := time.Now()
	go func() { done <- stop(ctx) }()
	select {
	case err := <-done:
		s.log.Debug("shutdown: "+name, "took", time.Since(began).Round(time.Millisecond))
		if err != nil {
			s.log.Warn("shutdown: "+name, "err", err)
		}
		return err
	case <-ctx.Done():
		s.log.Warn("shutdown: "+name+" did not finish in time; going on", "timeout", timeout)
		return nil
	}
}

// ignoreCancel treats a context's end as a clean stop.
func ignoreCancel(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
