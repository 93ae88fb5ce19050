package workflows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/helpers/chunk"
	"github.com/unstract/hatchet-worker/helpers/documents"
	"github.com/unstract/hatchet-worker/helpers/extract"
	"github.com/unstract/hatchet-worker/helpers/llm"
	"github.com/unstract/hatchet-worker/shim/route"
)

// DocumentProcessingName is the Hatchet name of the document DAG.
const DocumentProcessingName = "document-processing-v2"

// DocumentInput is the input of document-processing-v2.
type DocumentInput struct {
	DocumentPath string `json:"document_path"`
	DocumentSettings
	OrganizationID string `json:"organization_id,omitempty"`
	ExecutionID    string `json:"execution_id,omitempty"`
}

// DocumentSettings are how a document is processed: its prompts, the LLM
// that answers them and the chunking of its text.
type DocumentSettings struct {
	Outputs []PromptOutput `json:"outputs"`
	// LLM names a server inline, without a key or a bound: run input shows
	// in the dashboard, so servers that need a key are configured in
	// LLM_ADAPTERS and named by LLMAdapterID.
	LLM          *llm.Adapter `json:"llm,omitempty"`
	LLMAdapterID string       `json:"llm_adapter_id,omitempty"`
	ChunkSize    int          `json:"chunk_size"`
	ChunkOverlap int          `json:"chunk_overlap"`
}

// Check refuses settings no document could be processed with, naming the
// field at fault.
func (s DocumentSettings) Check(adapters LLMAdapters) error {
	switch {
	case len(s.Outputs) == 0:
		return errors.New("outputs must name at least one prompt")
	case s.LLM != nil && s.LLM.APIKey != "":
		return errors.New("llm.api_key is not accepted in run input (it would show in the dashboard); configure an adapter in LLM_ADAPTERS and send llm_adapter_id")
	case s.LLM != nil && s.LLM.MaxConcurrency != 0:
		return errors.New("llm.max_concurrency is not accepted in run input; configure an adapter in LLM_ADAPTERS")
	}
	for i, o := range s.Outputs {
		if o.Name == "" || o.Prompt == "" {
			return fmt.Errorf("outputs[%d] needs a name and a prompt", i)
		}
	}
	if _, err := chunk.New(max(s.ChunkSize, 1), s.ChunkOverlap); s.ChunkSize != 0 && err != nil {
		return fmt.Errorf("chunk settings: %w", err)
	}
	if _, err := adapters.Client(s.LLM, s.LLMAdapterID); err != nil {
		return err
	}
	return nil
}

// PromptOutput is one named prompt run over every chunk.
type PromptOutput struct {
	Name   string `json:"name"`
	Prompt string `json:"prompt"`
}

// ExtractOutput is extract-text's output. It describes the text rather
// than carrying it: task outputs show in the dashboard and travel through
// the engine's database, so the steps after it read the document again and
// check the text against SHA256.
type ExtractOutput struct {
	// Document is where the document was read: a local path or
	// s3://bucket/key.
	Document string `json:"document"`
	// Bytes is the document's size.
	Bytes int64 `json:"bytes"`
	// SHA256 is the hex digest of the extracted text.
	SHA256 string `json:"sha256"`
	// Characters is the text's length in runes.
	Characters int    `json:"characters"`
	Pages      int    `json:"pages"`
	Method     string `json:"method"`
}

// ChunkOutput is chunk-text's output: where each chunk lies in the text,
// not its content.
type ChunkOutput struct {
	Chunks []ChunkSpan `json:"chunks"`
}

// ChunkSpan locates one chunk in the extracted text, in runes.
type ChunkSpan struct {
	Index int `json:"index"`
	Start int `json:"start"`
	End   int `json:"end"`
}

// PromptResult is one prompt's answer for one chunk.
type PromptResult struct {
	Response   string `json:"response"`
	TokensUsed int    `json:"tokens_used"`
}

// DocumentOutput is process-llm's output, the workflow's result.
type DocumentOutput struct {
	ProcessedResults map[string][]PromptResult `json:"processed_results"`
}

// ErrDocumentChanged reports a document whose text differs between the
// steps of one run: it was replaced while the run went on.
var ErrDocumentChanged = errors.New("document changed during the run")

// DocumentSource checks and opens the documents runs name
// (*documents.Source).
type DocumentSource interface {
	// Check refuses a document_path that must not be read, without reading.
	Check(documentPath string) error
	// Open checks documentPath again and opens the document.
	Open(ctx context.Context, documentPath string) (*documents.Document, error)
}

// refuseAll is the DocumentSource of a worker configured without one.
type refuseAll struct{}

// Check refuses every path as a source without roots or storages does.
func (refuseAll) Check(string) error { return documents.ErrNoRoots }

// Open refuses every path.
func (refuseAll) Open(context.Context, string) (*documents.Document, error) {
	return nil, documents.ErrNoRoots
}

// documentHints name the setting behind each refusal, for the operator.
var documentHints = []struct {
	err  error
	hint string
}{
	{documents.ErrNoRoots, "set DOCUMENTS_ROOTS to the directories documents may be read from"},
	{documents.ErrOutsideRoots, "only files inside DOCUMENTS_ROOTS are read"},
	{documents.ErrOutsideStorage, "only objects under WORKFLOW_EXECUTION_DIR_PREFIX or API_EXECUTION_DIR_PREFIX are read"},
	{documents.ErrNoStorage, "set WORKFLOW_EXECUTION_FILE_STORAGE_CREDENTIALS or API_FILE_STORAGE_CREDENTIALS"},
}

// hinted adds to a documents error the setting behind it, if any.
func hinted(err error) error {
	for _, h := range documentHints {
		if errors.Is(err, h.err) {
			return fmt.Errorf("%w (%s)", err, h.hint)
		}
	}
	return err
}

// documentFailure wraps a documents error for a task: storage that is down
// is retried, anything else fails the run at once.
func documentFailure(err error) error {
	if documents.Retryable(err) {
		return fmt.Errorf("read document: %w", err)
	}
	return badInput("read document: %w", hinted(err))
}

// DocumentCheck returns the shim's check for document-processing-v2 input:
// the document_path must be one src may read, and an llm_adapter_id must
// name an adapter of adapters. Its error message is what the caller sees in
// the 422.
func DocumentCheck(src DocumentSource, adapters LLMAdapters) func(input json.RawMessage) error {
	return func(input json.RawMessage) error {
		var in struct {
			DocumentPath string `json:"document_path"`
			LLMAdapterID string `json:"llm_adapter_id"`
		}
		if err := json.Unmarshal(input, &in); err != nil {
			return errors.New("document_path and llm_adapter_id must be strings")
		}
		if in.DocumentPath == "" {
			return errors.New("document_path is required")
		}
		if err := src.Check(in.DocumentPath); err != nil {
			return fmt.Errorf("document_path: %w", hinted(err))
		}
		return adapters.Check(in.LLMAdapterID)
	}
}

// perOrgDocuments bounds one organisation's documents in flight.
const perOrgDocuments = 10

// DocumentProcessing is the seed's DAG replacing the runner, structure tool
// and prompt service: extract-text → chunk-text → process-llm.
// Without deps.Documents every document_path is refused.
func DocumentProcessing(deps Deps) Definition {
	if deps.Documents == nil {
		deps.Documents = refuseAll{}
	}
	d := &documentTasks{deps: deps}
	return Definition{
		Name:        DocumentProcessingName,
		Description: "Extract a document's text, chunk it, and run each named prompt over every chunk with an OpenAI-compatible LLM.",
		Timeout:     30 * time.Minute,
		Options:     []hatchet.WorkflowOption{perOrganization(perOrgDocuments)},
		Tasks: []Task{
			{Name: "extract-text", Timeout: 10 * time.Minute, Retries: 2, Fn: d.extract},
			{Name: "chunk-text", Parents: []string{"extract-text"}, Timeout: 5 * time.Minute, Retries: 1, Fn: d.chunk},
			{Name: "process-llm", Parents: []string{"chunk-text"}, Timeout: 15 * time.Minute, Retries: 2, Fn: d.prompt},
		},
		// The platform runs a document as a one-file batch of its file
		// processing task.
		Route: &route.Route{
			Legacy:   &route.LegacyTask{Task: TaskProcessFileBatch, Queue: QueueFileProcessing, Args: fileBatchArgs},
			Metadata: documentMetadata,
			Check:    DocumentCheck(deps.Documents, deps.LLM),
		},
	}
}

// Platform task and queue of a document: the platform's file-processing
// workers take a batch of files from "file_processing".
const (
	TaskProcessFileBatch = "workflow_manager.workflow_v2.file_execution_tasks.process_file_batch"
	QueueFileProcessing  = "file_processing"
)

// fileBatchInput is the part of document-processing-v2's input the legacy
// file-batch task needs.
type fileBatchInput struct {
	DocumentPath   string `json:"document_path"`
	WorkflowID     string `json:"workflow_id"`
	PipelineID     string `json:"pipeline_id"`
	UseFileHistory *bool  `json:"use_file_history"`
}

// fileBatchArgs maps a document request to process_file_batch(file_batch_data)
// with {files: [[name, FileHash]], file_data: {...}}.
func fileBatchArgs(c route.Call, input json.RawMessage) ([]any, map[string]any, error) {
	var in fileBatchInput
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, nil, fmt.Errorf("document input: %w", err)
	}
	if in.DocumentPath == "" {
		return nil, nil, errors.New("document input: document_path is required")
	}
	useHistory := true
	if in.UseFileHistory != nil {
		useHistory = *in.UseFileHistory
	}
	name := path.Base(in.DocumentPath)
	batch := map[string]any{
		"files": []any{[]any{name, map[string]any{"file_name": name, "file_path": in.DocumentPath}}},
		"file_data": map[string]any{
			"workflow_id":      in.WorkflowID,
			"execution_id":     c.ExecutionID,
			"organization_id":  c.OrganizationID,
			"pipeline_id":      nilIfEmpty(in.PipelineID),
			"scheduled":        false,
			"use_file_history": useHistory,
		},
	}
	return []any{batch}, map[string]any{}, nil
}

// documentMetadata tags a document run with its path.
func documentMetadata(input json.RawMessage) map[string]string {
	var in fileBatchInput
	if json.Unmarshal(input, &in) != nil || in.DocumentPath == "" {
		return nil
	}
	return map[string]string{"document_path": in.DocumentPath}
}

// nilIfEmpty is nil for "", Python's None, else s.
func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// documentTasks holds the DAG's task functions.
type documentTasks struct {
	deps Deps
}

func (d *documentTasks) extract(ctx hatchet.Context, in DocumentInput) (ExtractOutput, error) {
	if err := in.validate(d.deps); err != nil {
		return ExtractOutput{}, err
	}
	progress(ctx, d.deps.Log, "extracting text", "document", in.DocumentPath)
	_, out, err := d.readText(ctx, in.DocumentPath)
	if err != nil {
		return ExtractOutput{}, err
	}
	progress(ctx, d.deps.Log, "text extracted", "document", out.Document, "bytes", out.Bytes, "method", out.Method,
		"pages", out.Pages, "characters", out.Characters, "sha256", out.SHA256)
	return out, nil
}

// readText opens the document, extracts its text and describes both.
// Failures that the same input would meet again are not retried.
func (d *documentTasks) readText(ctx context.Context, documentPath string) (string, ExtractOutput, error) {
	doc, err := d.deps.Documents.Open(ctx, documentPath)
	if err != nil {
		return "", ExtractOutput{}, documentFailure(err)
	}
	defer doc.Close()
	res, err := d.deps.Extractor.Extract(ctx, doc, doc.Location.Name())
	if err != nil {
		if permanentExtractError(err) {
			return "", ExtractOutput{}, badInput("extract %s: %w", doc.Location, err)
		}
		return "", ExtractOutput{}, fmt.Errorf("extract %s: %w", doc.Location, err)
	}
	sum := sha256.Sum256([]byte(res.Text))
	return res.Text, ExtractOutput{Document: doc.Location.String(), Bytes: doc.Size(), SHA256: hex.EncodeToString(sum[:]),
		Characters: utf8.RuneCountInString(res.Text), Pages: res.Pages, Method: res.Method}, nil
}

// textAgain reads and extracts the document once more for a later step
// and checks it still yields the text extract-text described.
func (d *documentTasks) textAgain(ctx hatchet.Context, in DocumentInput) ([]rune, error) {
	var want ExtractOutput
	if err := ctx.StepOutput("extract-text", &want); err != nil {
		return nil, fmt.Errorf("read extract-text output: %w", err)
	}
	text, got, err := d.readText(ctx, in.DocumentPath)
	if err != nil {
		return nil, err
	}
	if got.SHA256 != want.SHA256 {
		return nil, badInput("%w: %s gave text with sha256 %s in extract-text and %s now", ErrDocumentChanged, got.Document, want.SHA256, got.SHA256)
	}
	return []rune(text), nil
}

func permanentExtractError(err error) bool {
	for _, target := range []error{extract.ErrUnsupportedFormat, extract.ErrEmpty, extract.ErrCorrupt,
		extract.ErrEncrypted, extract.ErrTooLarge, extract.ErrNoText} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func (d *documentTasks) chunk(ctx hatchet.Context, in DocumentInput) (ChunkOutput, error) {
	text, err := d.textAgain(ctx, in)
	if err != nil {
		return ChunkOutput{}, err
	}
	chunks, err := chunk.Split(string(text), in.ChunkSize, in.ChunkOverlap, chunk.WholeWhenZero())
	if err != nil {
		return ChunkOutput{}, badInput("chunk: %w", err)
	}
	spans := make([]ChunkSpan, len(chunks))
	for i, c := range chunks {
		spans[i] = ChunkSpan{Index: c.Index, Start: c.Start, End: c.End}
	}
	progress(ctx, d.deps.Log, "text chunked", "chunks", len(chunks), "chunk_size", in.ChunkSize, "chunk_overlap", in.ChunkOverlap)
	return ChunkOutput{Chunks: spans}, nil
}

func (d *documentTasks) prompt(ctx hatchet.Context, in DocumentInput) (DocumentOutput, error) {
	var chunks ChunkOutput
	if err := ctx.StepOutput("chunk-text", &chunks); err != nil {
		return DocumentOutput{}, fmt.Errorf("read chunk-text output: %w", err)
	}
	client, err := d.deps.LLM.Client(in.LLM, in.LLMAdapterID)
	if err != nil {
		return DocumentOutput{}, badInput("%w", err)
	}
	text, err := d.textAgain(ctx, in)
	if err != nil {
		return DocumentOutput{}, err
	}
	out, total, err := d.deps.LLM.runPrompts(ctx, client, in.LLMAdapterID, in.Outputs, chunks.Chunks, text)
	if err != nil {
		return DocumentOutput{}, err
	}
	progress(ctx, d.deps.Log, "document processed", "outputs", len(in.Outputs), "tokens_used", total, "model", client.Model())
	return out, nil
}

// runPrompts runs every output's prompt over every chunk of text, the calls
// at once within the adapter's max_concurrency, and returns the results in
// chunk order with the tokens they used. The first failure stops the rest.
func (a LLMAdapters) runPrompts(ctx context.Context, client *llm.Client, adapterID string, outputs []PromptOutput, chunks []ChunkSpan, text []rune) (DocumentOutput, int, error) {
	for _, c := range chunks {
		if c.Start < 0 || c.Start > c.End || c.End > len(text) {
			return DocumentOutput{}, 0, badInput("chunk %d [%d, %d) lies outside the text's %d characters", c.Index, c.Start, c.End, len(text))
		}
	}
	results := make([][]PromptResult, len(outputs))
	for i := range outputs {
		results[i] = make([]PromptResult, len(chunks))
	}
	g, gctx := errgroup.WithContext(ctx)
	for i, o := range outputs {
		for j, c := range chunks {
			release, err := a.Acquire(gctx, adapterID)
			if err != nil {
				break
			}
			g.Go(func() error {
				defer release()
				resp, err := client.Prompt(gctx, "", o.Prompt, string(text[c.Start:c.End]))
				if err != nil {
					return llmFailure(o.Name, c.Index, err)
				}
				results[i][j] = PromptResult{Response: resp.Text, TokensUsed: resp.Usage.TotalTokens}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return DocumentOutput{}, 0, err
	}
	if err := ctx.Err(); err != nil {
		return DocumentOutput{}, 0, fmt.Errorf("run prompts: %w", err)
	}
	out := DocumentOutput{ProcessedResults: make(map[string][]PromptResult, len(outputs))}
	total := 0
	for i, o := range outputs {
		out.ProcessedResults[o.Name] = results[i]
		for _, r := range results[i] {
			total += r.TokensUsed
		}
	}
	return out, total, nil
}

// llmFailure wraps an LLM error; a request the server refuses for good
// (bad model, bad request, bad key) is not retried.
func llmFailure(output string, index int, err error) error {
	err = fmt.Errorf("prompt %q on chunk %d: %w", output, index, err)
	var apiErr *llm.APIError
	if errors.As(err, &apiErr) && !apiErr.Retryable() {
		return badInput("%w", err)
	}
	return err
}

func (in DocumentInput) validate(deps Deps) error {
	if in.DocumentPath == "" {
		return badInput("document_path is required")
	}
	if err := deps.Documents.Check(in.DocumentPath); err != nil {
		return documentFailure(err)
	}
	if err := in.DocumentSettings.Check(deps.LLM); err != nil {
		return badInput("%w", err)
	}
	return nil
}
