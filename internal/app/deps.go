package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unstract/hatchet-worker/helpers/documents"
	"github.com/unstract/hatchet-worker/helpers/extract"
	"github.com/unstract/hatchet-worker/helpers/llm"
	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/internal/pgdb"
	"github.com/unstract/hatchet-worker/platform"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
	"github.com/unstract/hatchet-worker/workflows"
)

// Dependencies are the connections and helpers the workflows call, opened
// the same way for the service and for `workflows test`.
type Dependencies struct {
	// Celery is the CeleryBridge client; nil when CELERY_ENABLED=false.
	Celery *celerybridge.Client
	// Platform is the platform database (schema created if missing).
	Platform *pgxpool.Pool
	// Documents opens the documents runs name; the shim checks paths with it.
	Documents *documents.Source
	// Workflows is what workflows.Registry takes.
	Workflows workflows.Deps
	// results is the platform's Redis of API results; nil when unset.
	results *platform.RedisResults
	log     *slog.Logger
}

// OpenDependencies opens the Celery broker (when enabled; bridge options are
// added to the client's), the platform database (created and migrated if
// missing), the text extractor and the LLM adapters. Close releases them.
func OpenDependencies(ctx context.Context, cfg config.Config, log *slog.Logger, bridge ...celerybridge.Option) (*Dependencies, error) {
	d := &Dependencies{log: log}
	if err := d.open(ctx, cfg, bridge); err != nil {
		d.Close(ctx)
		return nil, err
	}
	return d, nil
}

func (d *Dependencies) open(ctx context.Context, cfg config.Config, bridge []celerybridge.Option) error {
	var err error
	if cfg.Celery.Enabled {
		d.Celery, err = celerybridge.Dial(ctx, cfg.Celery.BrokerURL,
			append([]celerybridge.Option{celerybridge.WithResultBackend(cfg.Celery.ResultBackend),
				celerybridge.WithConnectionName(cfg.Worker.Name), celerybridge.WithLogger(d.log)}, bridge...)...)
		if err != nil {
			return fmt.Errorf("celery broker: %w", err)
		}
	}
	if err := pgdb.Ensure(ctx, cfg.Platform.DatabaseURL); err != nil {
		return fmt.Errorf("platform database: %w", err)
	}
	if d.Platform, err = pgxpool.New(ctx, cfg.Platform.DatabaseURL); err != nil {
		return fmt.Errorf("platform database: %w", err)
	}
	if err := workflows.EnsurePlatformSchema(ctx, d.Platform); err != nil {
		return err
	}
	ex, err := extract.New(cfg.Helpers.X2TextURL, cfg.Helpers.X2TextAPIKey, extract.WithLogger(d.log))
	if err != nil {
		return fmt.Errorf("text extractor: %w", err)
	}
	adapters, err := workflows.NewLLMAdapters(cfg.Helpers.Adapters,
		llm.WithTimeout(cfg.Helpers.LLMTimeout), llm.WithMaxRetries(cfg.Helpers.LLMMaxRetries), llm.WithLogger(d.log))
	if err != nil {
		return err
	}
	if d.Documents, err = NewDocumentSource(cfg.Documents); err != nil {
		return err
	}
	d.Workflows = workflows.Deps{Log: d.log, Platform: d.Platform, Extractor: ex, LLM: adapters, Documents: d.Documents}
	if d.Celery != nil {
		d.Workflows.Celery = d.Celery
	}
	return nil
}

// OpenPlatformReporter makes the workflows report executions to the
// platform's internal API (and API results to its Redis) as cfg says,
// telling observe of every report. With PLATFORM_INTERNAL_API_URL unset it
// does nothing: the platform is told nothing.
func (d *Dependencies) OpenPlatformReporter(ctx context.Context, cfg config.Platform, observe platform.Observer) error {
	if !cfg.Reports() {
		d.log.Info("PLATFORM_INTERNAL_API_URL is unset: the platform is not told what Hatchet executions did")
		return nil
	}
	client, err := platform.NewClient(cfg.InternalAPIURL, cfg.InternalAPIKey, platform.WithLogger(d.log))
	if err != nil {
		return err
	}
	opts := []platform.ReporterOption{platform.WithObserver(observe), platform.WithReporterLogger(d.log)}
	if cfg.RedisURL != "" {
		if d.results, err = platform.NewRedisResults(cfg.RedisURL, cfg.ResultTTL); err != nil {
			return err
		}
		if err := d.results.Ping(ctx); err != nil {
			d.log.Warn("platform redis unreachable; API results are retried as files finish", "error", err)
		}
		opts = append(opts, platform.WithResults(d.results))
	}
	d.Workflows.Reporter = platform.NewReporter(client, opts...)
	return nil
}

// Storage names, as errors and logs show them.
const (
	StorageExecution = "workflow-execution"
	StorageAPI       = "api"
)

// NewDocumentSource opens the document roots (each must exist) and the
// object storages cfg configures.
func NewDocumentSource(cfg config.Documents) (*documents.Source, error) {
	roots, err := documents.NewRoots(cfg.RootDirs()...)
	if err != nil {
		return nil, fmt.Errorf("DOCUMENTS_ROOTS: %w", err)
	}
	exec, err := objectStore(cfg.ExecutionStorage, cfg.ReadTimeout)
	if err != nil {
		return nil, fmt.Errorf("WORKFLOW_EXECUTION_FILE_STORAGE_CREDENTIALS: %w", err)
	}
	api, err := objectStore(cfg.APIStorage, cfg.ReadTimeout)
	if err != nil {
		return nil, fmt.Errorf("API_FILE_STORAGE_CREDENTIALS: %w", err)
	}
	return documents.NewSource(roots, cfg.MaxBytes,
		documents.Storage{Name: StorageExecution, Prefix: cfg.ExecutionPrefix, Store: exec},
		documents.Storage{Name: StorageAPI, Prefix: cfg.APIPrefix, Store: api})
}

// objectStore returns the store fs names, or nil when it names none.
func objectStore(fs config.FileStorage, timeout time.Duration) (*documents.ObjectStore, error) {
	if !fs.Configured() {
		return nil, nil
	}
	return documents.NewObjectStore(documents.Credentials{Provider: fs.Provider, EndpointURL: fs.EndpointURL,
		Key: fs.Key, Secret: fs.Secret, Region: fs.Region}, documents.WithReadTimeout(timeout))
}

// Close closes the broker connection and the platform database.
func (d *Dependencies) Close(ctx context.Context) {
	if d.Celery != nil {
		if err := d.Celery.Close(ctx); err != nil {
			d.log.Warn("close celery broker", "err", err)
		}
	}
	if d.Platform != nil {
		d.Platform.Close()
	}
	if d.results != nil {
		_ = d.results.Close()
	}
}
