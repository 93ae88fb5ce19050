// Package app wires the service together: the HTTP listener (shim API and
// operations endpoints), the Hatchet engine connection, the worker and its
// workflows, the CeleryBridge client and the feature flags. It runs until
// its context ends, then shuts down in order: not ready, drain tasks, finish
// HTTP requests, close the broker, databases and engine.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/internal/engine"
	"github.com/unstract/hatchet-worker/internal/ops"
	"github.com/unstract/hatchet-worker/internal/pgdb"
	"github.com/unstract/hatchet-worker/internal/worker"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
	"github.com/unstract/hatchet-worker/workflows"
)

// service holds what Run started, so shutdown can stop it in order.
type service struct {
	cfg     config.Config
	log     *slog.Logger
	ops     *ops.Server
	mux     *http.ServeMux
	http    *http.Server
	httpErr <-chan error
	conn    *engine.Conn
	deps    *Dependencies
	store   *shim.Store
	worker  *worker.Worker
	started atomic.Bool
}

// Run runs the service until ctx ends and returns nil after a clean shutdown.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	began := time.Now()
	s := &service{cfg: cfg, log: log, ops: ops.New(), mux: http.NewServeMux()}
	s.ops.AddCheck("startup", s.startup)
	s.ops.Register(s.mux)
	if err := s.listen(); err != nil {
		return err
	}
	defer s.close()
	if err := s.start(ctx); err != nil {
		return err
	}
	s.started.Store(true)
	log.Info("service ready", "addr", s.http.Addr, "took", time.Since(began).Round(time.Millisecond))
	select {
	case <-ctx.Done():
		log.Info("shutting down", "cause", context.Cause(ctx))
	case err := <-s.httpErr:
		return fmt.Errorf("http listener: %w", err)
	}
	return s.drain(ctx)
}

func (s *service) startup(context.Context) error {
	if !s.started.Load() {
		return errors.New("starting")
	}
	return nil
}

// start connects everything and starts the worker and the shim.
func (s *service) start(ctx context.Context) error {
	var err error
	if s.conn, err = engine.Connect(ctx, s.cfg, s.log); err != nil {
		return err
	}
	s.ops.AddCheck("engine", s.conn.Ready)
	if err := s.openDependencies(ctx); err != nil {
		return err
	}
	defs := workflows.Registry(s.deps.Workflows)
	if err := s.startWorker(defs); err != nil {
		return err
	}
	return s.startShim(ctx, defs)
}

// openDependencies opens what the workflows call and the shim's store.
func (s *service) openDependencies(ctx context.Context) error {
	var err error
	// A broker outage at start-up must not stop the Hatchet side: the bridge
	// connects in the background and /readyz reports the broker meanwhile.
	bridge := []celerybridge.Option{celerybridge.WithMetrics(celerybridge.NewMetrics(s.ops.Registry)),
		celerybridge.WithBackgroundConnect()}
	if s.deps, err = OpenDependencies(ctx, s.cfg, s.log, bridge...); err != nil {
		return err
	}
	if s.deps.Celery != nil {
		s.ops.AddCheck("broker", s.deps.Celery.Ready)
	}
	if s.conn.Embedded == nil { // the embedded engine created it already
		if err := pgdb.Ensure(ctx, s.cfg.Embedded.DatabaseURL); err != nil {
			return fmt.Errorf("execution store: %w", err)
		}
	}
	s.store, err = shim.OpenStore(ctx, s.cfg.Embedded.DatabaseURL)
	return err
}

func (s *service) startWorker(defs []workflows.Definition) error {
	wfs, err := workflows.BuildAll(s.conn.Client, defs)
	if err != nil {
		return err
	}
	s.worker, err = worker.Start(s.conn.Client, s.cfg.Worker.Name, s.cfg.Worker.Slots, wfs, s.log,
		worker.WithMetrics(worker.NewMetrics(s.ops.Registry)))
	if err != nil {
		return err
	}
	s.ops.AddCheck("worker", s.worker.Ready)
	return nil
}

// startShim loads the flags and mounts the shim API.
func (s *service) startShim(ctx context.Context, defs []workflows.Definition) error {
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name
	}
	routes := withChecks(shim.PlatformRoutes(), map[string]func(json.RawMessage) error{
		workflows.DocumentProcessingName: workflows.DocumentPathCheck(s.deps.Documents),
	})
	catalog, err := shim.NewCatalog(routes, names)
	if err != nil {
		return err
	}
	flags, err := featureflag.New(ctx, featureflag.Config{
		UseTaskAbstraction: s.cfg.Routing.UseTaskAbstraction, Percentage: s.cfg.Routing.Percentage,
		AllowRequestOverride: s.cfg.Routing.AllowRequestOverride, File: s.cfg.Routing.FlagsFile,
	}, featureflag.WithLogger(s.log), featureflag.WithKnownWorkflows(catalog.Names()...))
	if err != nil {
		return fmt.Errorf("feature flags: %w", err)
	}
	go func() { _ = flags.Watch(ctx) }()
	backends := map[string]shim.Backend{shim.BackendHatchet: shim.NewHatchet(s.conn.Client, s.conn.Ready,
		shim.WithLostAfter(s.cfg.Shim.LostAfter))}
	if s.deps.Celery != nil {
		backends[shim.BackendCelery] = shim.NewCelery(s.deps.Celery)
	}
	tokens := s.cfg.Shim.Tokens()
	srv := shim.NewServer(catalog, s.store, backends, decider(flags, s.cfg.Routing.Backend),
		shim.WithTokens(tokens...), shim.WithMaxBody(s.cfg.Shim.MaxBodyBytes),
		shim.WithFallback(s.cfg.Routing.Fallback), shim.WithLogger(s.log), shim.WithMetrics(s.ops.Registry),
		shim.WithFlags(func() any { return flagsView(flags, s.cfg.Routing.Backend) }))
	srv.Register(s.mux)
	s.ops.AddCheck("shim", srv.Ready)
	if r := s.cfg.Shim.Retention; r > 0 {
		go s.pruneExecutions(ctx, r)
	}
	if len(tokens) == 0 {
		s.log.Warn("shim API runs WITHOUT authentication (SHIM_INSECURE_DEV=true); never do this in production")
	}
	return nil
}

// withChecks attaches input checks, which need the service's configuration,
// to the routes they belong to.
func withChecks(routes []shim.Route, checks map[string]func(json.RawMessage) error) []shim.Route {
	for i, r := range routes {
		if c, ok := checks[r.Name]; ok {
			routes[i].Check = c
		}
	}
	return routes
}

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

// decider adapts the feature flags to the shim; TASK_QUEUE_BACKEND=celery
// pins every request to Celery.
func decider(flags *featureflag.Flags, backend string) shim.DecideFunc {
	return func(workflow, org, key string, override *bool) shim.Decision {
		if backend == config.BackendCelery {
			return shim.Decision{Backend: shim.BackendCelery, Reason: "backend-pinned"}
		}
		d := flags.Decide(featureflag.Request{Workflow: workflow, Org: org, Key: key, Override: override})
		return shim.Decision{Backend: string(d.Backend), Reason: string(d.Reason)}
	}
}

// flagsView is GET /api/v2/flags: the effective flags and their source.
func flagsView(flags *featureflag.Flags, backend string) any {
	return map[string]any{"task_queue_backend": backend, "flags": flags.Snapshot()}
}

func (s *service) listen() error {
	ln, err := net.Listen("tcp", s.cfg.Service.Addr)
	if err != nil {
		return fmt.Errorf("listen on SERVICE_ADDR %s: %w", s.cfg.Service.Addr, err)
	}
	s.http = &http.Server{Addr: ln.Addr().String(), Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	s.httpErr = errc
	s.log.Info("http listening", "addr", s.http.Addr)
	return nil
}

// drain stops taking tasks and waits for the running ones.
func (s *service) drain(ctx context.Context) error {
	s.started.Store(false) // /readyz fails from here on
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Service.ShutdownTimeout)
	defer cancel()
	return s.worker.Drain(drainCtx)
}

// close releases everything in dependency order: HTTP first (in-flight shim
// requests still need the broker and engine), the engine last.
func (s *service) close() {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Service.ShutdownTimeout)
	defer cancel()
	s.step("http", func() error { return s.http.Shutdown(ctx) })
	if s.deps != nil {
		s.deps.Close(ctx)
	}
	if s.store != nil {
		s.store.Close()
	}
	if s.conn != nil {
		s.step("engine", func() error { return s.conn.Close(ctx) })
	}
}

func (s *service) step(name string, f func() error) {
	if err := f(); err != nil {
		s.log.Warn("shutdown: "+name, "err", err)
	}
}
