package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/helpers/documents"
	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/platform"
)

func TestNewDocumentSource(t *testing.T) {
	root := t.TempDir()
	doc := filepath.Join(root, "a.pdf")
	if err := os.WriteFile(doc, []byte("%PDF-1.4"), 0o600); err != nil {
		t.Fatal(err)
	}
	storage := `{"provider":"minio","credentials":{"endpoint_url":"http://127.0.0.1:1","key":"k","secret":"s"}}`
	tests := []struct {
		name    string
		environ []string
		path    string
		want    error
	}{
		{"defaults refuse local paths", nil, doc, documents.ErrNoRoots},
		{"roots admit their files", []string{"DOCUMENTS_ROOTS=" + root}, doc, nil},
		{"roots refuse others", []string{"DOCUMENTS_ROOTS=" + root}, "/etc/passwd", documents.ErrOutsideRoots},
		{"no storage credentials", nil, "unstract/execution/o/w/e/a.pdf", documents.ErrNoStorage},
		{"execution storage", []string{"WORKFLOW_EXECUTION_FILE_STORAGE_CREDENTIALS=" + storage}, "unstract/execution/o/w/e/a.pdf", nil},
		{"api storage is its own", []string{"WORKFLOW_EXECUTION_FILE_STORAGE_CREDENTIALS=" + storage}, "s3://unstract/api/o/a.pdf", documents.ErrNoStorage},
		{"api storage", []string{"API_FILE_STORAGE_CREDENTIALS=" + storage, "API_EXECUTION_DIR_PREFIX=uploads"}, "s3://uploads/o/a.pdf", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(append([]string{"SHIM_INSECURE_DEV=true"}, tt.environ...))
			if err != nil {
				t.Fatal(err)
			}
			src, err := NewDocumentSource(cfg.Documents)
			if err != nil {
				t.Fatal(err)
			}
			if err := src.Check(tt.path); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Check(%q) = %v, want %v", tt.path, err, tt.want)
			}
		})
	}
	cfg, _ := config.Load([]string{"SHIM_INSECURE_DEV=true", "DOCUMENTS_ROOTS=/nonexistent-documents-root"})
	if _, err := NewDocumentSource(cfg.Documents); err == nil {
		t.Error("a missing root was accepted")
	}
}

func TestOpenPlatformReporter(t *testing.T) {
	tests := []struct {
		name     string
		cfg      config.Platform
		reporter bool
		results  bool
		wantErr  bool
	}{
		{"unset reports nothing", config.Platform{}, false, false, false},
		{"internal API only", config.Platform{InternalAPIURL: "http://backend:8000/internal", InternalAPIKey: "k"}, true, false, false},
		{"with the platform's redis", config.Platform{InternalAPIURL: "http://backend:8000/internal", InternalAPIKey: "k",
			RedisURL: "redis://127.0.0.1:1/0", ResultTTL: time.Hour}, true, true, false},
		{"unusable URL", config.Platform{InternalAPIURL: "backend:8000", InternalAPIKey: "k"}, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Dependencies{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			t.Cleanup(func() { d.Close(context.Background()) })
			err := d.OpenPlatformReporter(context.Background(), tt.cfg, func(platform.Event) {})
			if (err != nil) != tt.wantErr || (d.Workflows.Reporter != nil) != tt.reporter || (d.results != nil) != tt.results {
				t.Errorf("err %v, reporter %v, results %v", err, d.Workflows.Reporter != nil, d.results != nil)
			}
		})
	}
}
