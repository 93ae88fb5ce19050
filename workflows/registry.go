package workflows

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unstract/hatchet-worker/helpers/extract"
)

// Deps are the services the workflows use, supplied by the process wiring.
type Deps struct {
	// Log receives the worker-side log of every task.
	Log *slog.Logger
	// Extractor turns documents into text (local or the x2text service).
	Extractor extract.Extractor
	// Documents opens the documents runs name, refusing paths outside
	// DOCUMENTS_ROOTS and the storage prefixes.
	Documents DocumentSource
	// LLM resolves the language model a document run uses.
	LLM LLMAdapters
	// Celery calls legacy Celery tasks; nil when no broker is configured.
	Celery Celery
	// Platform is the platform database user onboarding writes to.
	Platform *pgxpool.Pool
	// Reporter tells the platform what each workflow execution did; nil
	// reports nothing.
	Reporter Reporter
	// Runs tells workflow-execution whether the engine holds the batch runs
	// it spawned, so it can spawn again one the engine never created (see
	// unbornWatch); nil watches nothing.
	Runs RunRecords
	// UnbornAfter is how long a batch run may be missing from the engine's
	// records before it is spawned again; 0 is DefaultUnbornAfter.
	UnbornAfter time.Duration
}

// Registry returns every workflow the worker registers.
func Registry(deps Deps) []Definition {
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	return []Definition{
		DocumentProcessing(deps),
		WorkflowExecution(deps),
		FileBatch(deps),
		ConnectorValidation(deps),
		CeleryBridge(deps),
		UserOnboarding(deps),
	}
}
