//go:build integration

package workflows_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/helpers/documents"
	"github.com/unstract/hatchet-worker/helpers/extract"
	"github.com/unstract/hatchet-worker/helpers/llm"
	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/workflows"
)

// checkNoTextInOutputs checks that extract-text and chunk-text describe the
// document without carrying its text.
func checkNoTextInOutputs(t *testing.T, res *hatchet.WorkflowResult, document string, wantChunks int) {
	t.Helper()
	var ex workflows.ExtractOutput
	var ch workflows.ChunkOutput
	if err := res.TaskOutput("extract-text").Into(&ex); err != nil {
		t.Fatal(err)
	}
	if err := res.TaskOutput("chunk-text").Into(&ch); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal([]any{ex, ch})
	if strings.Contains(string(raw), "INV-2024-001") || strings.Contains(string(raw), "Acme") {
		t.Errorf("task outputs carry the document's text: %s", raw)
	}
	if ex.Document != document || len(ex.SHA256) != 64 || ex.Characters == 0 || ex.Bytes == 0 {
		t.Errorf("extract-text output = %+v, want a reference to %s, a digest and lengths", ex, document)
	}
	if len(ch.Chunks) != wantChunks {
		t.Errorf("chunk-text output has %d spans, want %d: %s", len(ch.Chunks), wantChunks, raw)
	}
}

// countingSource counts, per document_path, how often a task checked and
// opened it: one check per attempt shows whether Hatchet retried.
type countingSource struct {
	workflows.DocumentSource
	mu     sync.Mutex
	checks map[string]int
}

func newCountingSource(src workflows.DocumentSource) *countingSource {
	return &countingSource{DocumentSource: src, checks: map[string]int{}}
}

func (c *countingSource) Check(p string) error {
	c.mu.Lock()
	c.checks[p]++
	c.mu.Unlock()
	return c.DocumentSource.Check(p)
}

func (c *countingSource) attempts(p string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checks[p]
}

// documentsWorker runs document-processing-v2 reading through src, with a
// keyless local LLM; it returns the client and the input for a path.
func documentsWorker(t *testing.T, src workflows.DocumentSource) (*hatchet.Client, func(string) workflows.DocumentInput) {
	t.Helper()
	llmSrv := testenv.NewLLMServer(t, "")
	ex, err := extract.New("", "")
	if err != nil {
		t.Fatal(err)
	}
	adapters, _ := workflows.NewLLMAdapters(nil)
	client := startWorker(t, workflows.DocumentProcessing(workflows.Deps{Log: slog.Default(), Extractor: ex, LLM: adapters, Documents: src}))
	input := func(p string) workflows.DocumentInput {
		return workflows.DocumentInput{DocumentPath: p, OrganizationID: "org-docs", DocumentSettings: workflows.DocumentSettings{
			LLM:     &llm.Adapter{BaseURL: llmSrv.BaseURL(), Model: "tiny"},
			Outputs: []workflows.PromptOutput{{Name: "invoice", Prompt: "Extract the invoice number"}}}}
	}
	return client, input
}

// TestDocumentPathsConfined: paths outside DOCUMENTS_ROOTS, with "..", or
// escaping through a symbolic link fail the run at once, without retries,
// naming the setting; and without roots every local path does.
func TestDocumentPathsConfined(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "docs")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "engine-token"), []byte("secret token"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"passwd.txt": "/etc/passwd", "token.txt": "../engine-token"} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	src := newCountingSource(testenv.LocalDocuments(t, root))
	client, input := documentsWorker(t, src)
	tests := []struct {
		name, path, want string
	}{
		{"system file", "/etc/passwd", "only files inside DOCUMENTS_ROOTS are read"},
		{"dot-dot", root + "/../engine-token", "segment"},
		{"link to /etc/passwd", filepath.Join(root, "passwd.txt"), "outside the document roots"},
		{"link beside the root", filepath.Join(root, "token.txt"), "resolves through a symbolic link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runFails(t, client, input(tt.path), tt.want, "root:x:0:0", "secret token")
			if n := src.attempts(tt.path); n != 1 {
				t.Errorf("%d attempts, want 1 (refusals are not retried)", n)
			}
		})
	}
}

// TestDocumentPathsRefusedWithoutRoots: the default, no DOCUMENTS_ROOTS,
// refuses every local path and says which setting would allow it.
func TestDocumentPathsRefusedWithoutRoots(t *testing.T) {
	src, err := documents.NewSource(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	client, input := documentsWorker(t, src)
	runFails(t, client, input(testdata("sample.pdf")), "set DOCUMENTS_ROOTS")
}

// runFails runs in and wants it to fail with want in the error and none of
// leaks anywhere in it.
func runFails(t *testing.T, client *hatchet.Client, in workflows.DocumentInput, want string, leaks ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := client.Run(ctx, workflows.DocumentProcessingName, in)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to mention %q", err, want)
	}
	for _, l := range leaks {
		if strings.Contains(err.Error(), l) {
			t.Errorf("error shows the file's content %q: %v", l, err)
		}
	}
	t.Log(err)
}

// minioSource reads the workflow-execution storage of the MinIO server m
// with the given keys, under the platform's prefix unstract/execution.
func minioSource(t *testing.T, m *testenv.MinIO, key, secret string) *documents.Source {
	t.Helper()
	store, err := documents.NewObjectStore(documents.Credentials{Provider: documents.ProviderMinIO, EndpointURL: m.Endpoint(), Key: key, Secret: secret},
		documents.WithRetries(1), documents.WithReadTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	src, err := documents.NewSource(nil, 0, documents.Storage{Name: "workflow-execution", Prefix: "unstract/execution", Store: store})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestDocumentFromMinIO runs document-processing-v2 on a PDF uploaded to a
// real MinIO server, named as the platform names execution files and as an
// s3:// URL, then checks each storage failure: a missing object and wrong
// keys fail at once, a server that is down is retried.
func TestDocumentFromMinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	pdf, err := os.ReadFile(testdata("sample.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	const key = "execution/org_acme/wf-1/exec-1/invoice.pdf"
	m.Put(t, "unstract", key, pdf)
	src := newCountingSource(minioSource(t, m, testenv.MinIOAccessKey, testenv.MinIOSecretKey))
	client, input := documentsWorker(t, src)

	for _, p := range []string{"unstract/" + key, "s3://unstract/" + key} {
		t.Run("answer from "+p, func(t *testing.T) {
			res, err := client.Run(context.Background(), workflows.DocumentProcessingName, input(p))
			if err != nil {
				t.Fatal(err)
			}
			var out workflows.DocumentOutput
			if err := res.TaskOutput("process-llm").Into(&out); err != nil {
				t.Fatal(err)
			}
			if got := out.ProcessedResults["invoice"]; len(got) != 1 || got[0].Response != "Extract: Invoice INV-2024-001" {
				t.Errorf("processed_results = %+v", out.ProcessedResults)
			}
			checkNoTextInOutputs(t, res, "s3://unstract/"+key, 1)
		})
	}
	t.Run("missing object", func(t *testing.T) {
		p := "s3://unstract/execution/org_acme/wf-1/exec-1/none.pdf"
		runFails(t, client, input(p), "The specified key does not exist")
		if n := src.attempts(p); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})
	t.Run("outside the prefix", func(t *testing.T) {
		runFails(t, client, input("s3://unstract/private/keys.txt"), "WORKFLOW_EXECUTION_DIR_PREFIX")
	})
	t.Run("server down", func(t *testing.T) {
		m.Stop()
		p := "unstract/" + key
		before := src.attempts(p)
		runFails(t, client, input(p), "storage unavailable")
		if n := src.attempts(p) - before; n != 3 {
			t.Errorf("%d attempts, want 3 (extract-text retries twice)", n)
		}
	})
}

// TestDocumentFromMinIOWrongCredentials: keys MinIO refuses fail the run
// at once, without showing the secret.
func TestDocumentFromMinIOWrongCredentials(t *testing.T) {
	m := testenv.StartMinIO(t)
	const key = "execution/org_acme/wf-1/exec-2/invoice.pdf"
	m.Put(t, "unstract", key, []byte("%PDF-1.4 not read"))
	const wrong = "wrong-secret-xyzzy"
	src := newCountingSource(minioSource(t, m, testenv.MinIOAccessKey, wrong))
	client, input := documentsWorker(t, src)
	p := "unstract/" + key
	runFails(t, client, input(p), "access denied", wrong)
	if n := src.attempts(p); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}
