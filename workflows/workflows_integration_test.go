//go:build integration

package workflows_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/helpers/connector"
	"github.com/unstract/hatchet-worker/helpers/extract"
	"github.com/unstract/hatchet-worker/helpers/llm"
	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/workflows"
)

// startWorker registers defs on the shared test engine under a fresh worker.
func startWorker(t *testing.T, defs ...workflows.Definition) *hatchet.Client {
	t.Helper()
	conn := hatchettest.Engine(t)
	wfs, err := workflows.BuildAll(conn.Client, defs)
	if err != nil {
		t.Fatal(err)
	}
	hatchettest.StartWorker(t, conn, "test-"+strings.ToLower(t.Name()), 20, wfs)
	return conn.Client
}

// testdataDir holds the sample documents; tests configure it as the one
// document root.
func testdataDir() string {
	p, _ := filepath.Abs(filepath.Join("..", "helpers", "extract", "testdata"))
	return p
}

func testdata(name string) string { return filepath.Join(testdataDir(), name) }

func TestDocumentProcessingDAG(t *testing.T) {
	llmSrv := testenv.NewLLMServer(t, "sk-test-key")
	adapters, err := workflows.NewLLMAdapters(map[string]llm.Adapter{"local": {BaseURL: llmSrv.BaseURL(), Model: "tiny", APIKey: "sk-test-key"}})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := extract.New("", "")
	if err != nil {
		t.Fatal(err)
	}
	client := startWorker(t, workflows.DocumentProcessing(workflows.Deps{Log: slog.Default(), Extractor: ex, LLM: adapters,
		Documents: testenv.LocalDocuments(t, testdataDir())}))

	tests := []struct {
		file       string
		chunkSize  int
		wantChunks int
		firstLine  string
	}{
		{"sample.pdf", 0, 1, "Invoice INV-2024-001"},
		{"sample.docx", 40, 3, "Invoice INV-2024-001"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in := workflows.DocumentInput{
				DocumentPath: testdata(tt.file), OrganizationID: "org-docs",
				DocumentSettings: workflows.DocumentSettings{LLMAdapterID: "local", ChunkSize: tt.chunkSize, ChunkOverlap: 5,
					Outputs: []workflows.PromptOutput{{Name: "invoice_number", Prompt: "Extract the invoice number"}, {Name: "customer", Prompt: "Name the customer"}}},
			}
			if tt.chunkSize == 0 {
				in.ChunkOverlap = 0
			}
			res, err := client.Run(context.Background(), workflows.DocumentProcessingName, in,
				hatchet.WithRunMetadata(map[string]string{"document_path": in.DocumentPath, "organization_id": in.OrganizationID}))
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			var out workflows.DocumentOutput
			if err := res.TaskOutput("process-llm").Into(&out); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"invoice_number", "customer"} {
				results := out.ProcessedResults[name]
				if len(results) != tt.wantChunks {
					t.Fatalf("%s: %d results, want one per chunk (%d): %+v", name, len(results), tt.wantChunks, out)
				}
				for _, r := range results {
					if r.TokensUsed <= 3 {
						t.Errorf("%s: tokens_used = %d", name, r.TokensUsed)
					}
				}
			}
			if got := out.ProcessedResults["invoice_number"][0].Response; got != "Extract: "+tt.firstLine {
				t.Errorf("first response = %q, want the document's first line through the LLM", got)
			}
			checkNoTextInOutputs(t, res, in.DocumentPath, tt.wantChunks)
		})
	}
}

func TestDocumentProcessingBadInputFailsWithoutRetry(t *testing.T) {
	llmSrv := testenv.NewLLMServer(t, "")
	ex, _ := extract.New("", "")
	adapters, _ := workflows.NewLLMAdapters(nil)
	dir := t.TempDir()
	client := startWorker(t, workflows.DocumentProcessing(workflows.Deps{Log: slog.Default(), Extractor: ex, LLM: adapters,
		Documents: testenv.LocalDocuments(t, dir, testdataDir())}))
	empty := filepath.Join(dir, "empty.txt")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "corrupt.pdf")
	if err := os.WriteFile(corrupt, []byte("%PDF-1.4\nthis is not a pdf"), 0o600); err != nil {
		t.Fatal(err)
	}
	inline := &llm.Adapter{BaseURL: llmSrv.BaseURL(), Model: "tiny"}
	outputs := []workflows.PromptOutput{{Name: "x", Prompt: "Say x"}}
	tests := []struct {
		name string
		in   workflows.DocumentInput
		want string
	}{
		{"missing path", workflows.DocumentInput{DocumentSettings: workflows.DocumentSettings{Outputs: outputs, LLM: inline}}, "document_path is required"},
		{"key in input", workflows.DocumentInput{DocumentPath: empty, DocumentSettings: workflows.DocumentSettings{Outputs: outputs, LLM: &llm.Adapter{BaseURL: inline.BaseURL, Model: "m", APIKey: "sk-leak"}}}, "not accepted in run input"},
		{"max_concurrency in input", workflows.DocumentInput{DocumentPath: empty, DocumentSettings: workflows.DocumentSettings{Outputs: outputs, LLM: &llm.Adapter{BaseURL: inline.BaseURL, Model: "m", MaxConcurrency: 50}}}, "max_concurrency is not accepted"},
		{"unknown adapter", workflows.DocumentInput{DocumentPath: empty, DocumentSettings: workflows.DocumentSettings{Outputs: outputs, LLMAdapterID: "nope"}}, "unknown llm_adapter_id"},
		{"overlap too big", workflows.DocumentInput{DocumentPath: testdata("sample.pdf"), DocumentSettings: workflows.DocumentSettings{Outputs: outputs, LLM: inline, ChunkSize: 10, ChunkOverlap: 10}}, "overlap"},
		{"empty file", workflows.DocumentInput{DocumentPath: empty, DocumentSettings: workflows.DocumentSettings{Outputs: outputs, LLM: inline}}, "empty"},
		{"corrupt pdf", workflows.DocumentInput{DocumentPath: corrupt, DocumentSettings: workflows.DocumentSettings{Outputs: outputs, LLM: inline}}, "corrupt"},
		{"missing file", workflows.DocumentInput{DocumentPath: filepath.Join(dir, "none.pdf"), DocumentSettings: workflows.DocumentSettings{Outputs: outputs, LLM: inline}}, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := client.Run(ctx, workflows.DocumentProcessingName, tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "sk-leak") {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
	if n := llmSrv.Calls.Load(); n != 0 {
		t.Errorf("bad input reached the LLM %d times", n)
	}
}

// TestConnectorValidation checks real servers through the workflow: each
// kind succeeds with a server version, and a wrong password or a closed
// port fails clearly without leaking the password.
func TestConnectorValidation(t *testing.T) {
	client := startWorker(t, workflows.ConnectorValidation(workflows.Deps{Log: slog.Default()}))
	const secret = "Wr0ng-Pa55-xyzzy"
	mariaHost, mariaPort := hostPort(t, "tcp", testenv.MariaDBDSN(t))
	redisHost, redisPort := hostPort(t, "", testenv.RedisAddr(t))
	tests := []struct {
		name     string
		settings connector.Settings
		ok       bool
		errWant  string
	}{
		{"postgres", connector.Settings{Type: "postgres", Host: "127.0.0.1", Port: 5432, User: "postgres", Database: "postgres"}, true, ""},
		{"mariadb", connector.Settings{Type: "mariadb", Host: mariaHost, Port: mariaPort, User: "root"}, true, ""},
		{"redis", connector.Settings{Type: "redis", Host: redisHost, Port: redisPort}, true, ""},
		{"rabbitmq", connector.Settings{Type: "rabbitmq", URL: testenv.AMQPURL(t)}, true, ""},
		{"rabbitmq wrong password", connector.Settings{Type: "rabbitmq", Host: "127.0.0.1", Port: 5672, User: "guest", Password: secret}, false, "authentication failed"},
		{"mariadb wrong password", connector.Settings{Type: "mariadb", Host: mariaHost, Port: mariaPort, User: "root", Password: secret}, false, "authentication failed"},
		{"closed port", connector.Settings{Type: "postgres", Host: "127.0.0.1", Port: 1, User: "postgres", Password: secret}, false, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := client.Run(context.Background(), workflows.ConnectorValidationName,
				workflows.ConnectorValidationInput{OrganizationID: "org-conn", Settings: tt.settings})
			if err != nil {
				t.Fatal(err)
			}
			var out workflows.ConnectorValidationOutput
			if err := res.TaskOutput("validate-connection").Into(&out); err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(out)
			if out.OK != tt.ok || (tt.ok && out.ServerVersion == "") || (!tt.ok && !strings.Contains(out.Error, tt.errWant)) {
				t.Errorf("output = %s", raw)
			}
			if strings.Contains(string(raw), secret) {
				t.Errorf("output leaks the password: %s", raw)
			}
		})
	}
	_, err := client.Run(context.Background(), workflows.ConnectorValidationName,
		workflows.ConnectorValidationInput{Settings: connector.Settings{Type: "oracle", Host: "db"}})
	if err == nil || !strings.Contains(err.Error(), "invalid connector settings") {
		t.Errorf("invalid settings: err = %v", err)
	}
}

// hostPort splits the host and port out of a DSN or address.
func hostPort(t *testing.T, proto, s string) (string, int) {
	t.Helper()
	if proto != "" {
		_, rest, _ := strings.Cut(s, proto+"(")
		s, _, _ = strings.Cut(rest, ")")
	}
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		t.Fatalf("address %q: %v", s, err)
	}
	port, _ := strconv.Atoi(p)
	return h, port
}
