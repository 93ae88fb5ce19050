package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/helpers/chunk"
	"github.com/unstract/hatchet-worker/helpers/extract"
	"github.com/unstract/hatchet-worker/helpers/llm"
	"github.com/unstract/hatchet-worker/shim"
)

// DocumentProcessingName is the Hatchet name of the document DAG.
const DocumentProcessingName = "document-processing-v2"

// DocumentInput is the input of document-processing-v2.
type DocumentInput struct {
	DocumentPath   string         `json:"document_path"`
	Outputs        []PromptOutput `json:"outputs"`
	LLM            *LLMSettings   `json:"llm,omitempty"`
	LLMAdapterID   string         `json:"llm_adapter_id,omitempty"`
	ChunkSize      int            `json:"chunk_size"`
	ChunkOverlap   int            `json:"chunk_overlap"`
	OrganizationID string         `json:"organization_id,omitempty"`
	ExecutionID    string         `json:"execution_id,omitempty"`
}

// PromptOutput is one named prompt run over every chunk.
type PromptOutput struct {
	Name   string `json:"name"`
	Prompt string `json:"prompt"`
}

// LLMSettings name an OpenAI-compatible server inline. Keys are not
// accepted here: run input is visible in the dashboard, so servers that need
// a key are configured as adapters (LLM_ADAPTERS) and named by id.
type LLMSettings struct {
	BaseURL string `json:"base_url"`
	Model   string `json:"model"`
	APIKey  string `json:"api_key,omitempty"`
}

// ExtractOutput is extract-text's output.
type ExtractOutput struct {
	Text       string `json:"text"`
	Pages      int    `json:"pages"`
	Method     string `json:"method"`
	Characters int    `json:"characters"`
}

// ChunkOutput is chunk-text's output.
type ChunkOutput struct {
	Chunks []chunk.Chunk `json:"chunks"`
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

// perOrgDocuments bounds one organisation's documents in flight.
const perOrgDocuments = 10

// DocumentProcessing is the seed's DAG replacing the runner, structure tool
// and prompt service: extract-text → chunk-text → process-llm.
func DocumentProcessing(deps Deps) Definition {
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
		Route: &shim.Route{
			Legacy:   &shim.LegacyTask{Task: TaskProcessFileBatch, Queue: QueueFileProcessing, Args: fileBatchArgs},
			Metadata: documentMetadata,
		},
	}
}

// Platform task and queue of a document (see FIELD-NOTES: the platform's
// queues).
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
func fileBatchArgs(e shim.Execution, input json.RawMessage) ([]any, map[string]any, error) {
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
			"execution_id":     e.ID,
			"organization_id":  e.OrganizationID,
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
	res, err := extract.ExtractFile(ctx, d.deps.Extractor, in.DocumentPath)
	if err != nil {
		if permanentExtractError(err) {
			return ExtractOutput{}, badInput("extract %s: %w", in.DocumentPath, err)
		}
		return ExtractOutput{}, fmt.Errorf("extract %s: %w", in.DocumentPath, err)
	}
	out := ExtractOutput{Text: res.Text, Pages: res.Pages, Method: res.Method, Characters: len([]rune(res.Text))}
	progress(ctx, d.deps.Log, "text extracted", "method", out.Method, "pages", out.Pages, "characters", out.Characters)
	return out, nil
}

func permanentExtractError(err error) bool {
	for _, target := range []error{extract.ErrUnsupportedFormat, extract.ErrEmpty, extract.ErrCorrupt,
		extract.ErrEncrypted, extract.ErrTooLarge, extract.ErrNoText, os.ErrNotExist, os.ErrPermission} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func (d *documentTasks) chunk(ctx hatchet.Context, in DocumentInput) (ChunkOutput, error) {
	var text ExtractOutput
	if err := ctx.StepOutput("extract-text", &text); err != nil {
		return ChunkOutput{}, fmt.Errorf("read extract-text output: %w", err)
	}
	chunks, err := chunk.Split(text.Text, in.ChunkSize, in.ChunkOverlap, chunk.WholeWhenZero())
	if err != nil {
		return ChunkOutput{}, badInput("chunk: %w", err)
	}
	progress(ctx, d.deps.Log, "text chunked", "chunks", len(chunks), "chunk_size", in.ChunkSize, "chunk_overlap", in.ChunkOverlap)
	return ChunkOutput{Chunks: chunks}, nil
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
	out := DocumentOutput{ProcessedResults: make(map[string][]PromptResult, len(in.Outputs))}
	total := 0
	for _, o := range in.Outputs {
		results := make([]PromptResult, 0, len(chunks.Chunks))
		for _, c := range chunks.Chunks {
			resp, err := client.Prompt(ctx, "", o.Prompt, c.Text)
			if err != nil {
				return DocumentOutput{}, llmFailure(o.Name, c.Index, err)
			}
			results = append(results, PromptResult{Response: resp.Text, TokensUsed: resp.Usage.TotalTokens})
			total += resp.Usage.TotalTokens
		}
		out.ProcessedResults[o.Name] = results
		progress(ctx, d.deps.Log, "prompt done", "output", o.Name, "chunks", len(results))
	}
	progress(ctx, d.deps.Log, "document processed", "outputs", len(in.Outputs), "tokens_used", total, "model", client.Model())
	return out, nil
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
	switch {
	case in.DocumentPath == "":
		return badInput("document_path is required")
	case len(in.Outputs) == 0:
		return badInput("outputs must name at least one prompt")
	case in.LLM != nil && in.LLM.APIKey != "":
		return badInput("llm.api_key is not accepted in run input (it would show in the dashboard); configure an adapter in LLM_ADAPTERS and send llm_adapter_id")
	}
	for i, o := range in.Outputs {
		if o.Name == "" || o.Prompt == "" {
			return badInput("outputs[%d] needs a name and a prompt", i)
		}
	}
	if _, err := chunk.New(max(in.ChunkSize, 1), in.ChunkOverlap); in.ChunkSize != 0 && err != nil {
		return badInput("chunk settings: %w", err)
	}
	if _, err := deps.LLM.Client(in.LLM, in.LLMAdapterID); err != nil {
		return badInput("%w", err)
	}
	return nil
}
