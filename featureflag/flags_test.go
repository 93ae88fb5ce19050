package featureflag

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var quiet = WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// writeFile replaces path atomically: write a sibling, then rename over.
func writeFile(t *testing.T, path, data string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	writeFile(t, good, "percentage: 40\n")
	bad := filepath.Join(dir, "bad.json")
	writeFile(t, bad, `{"percentage":150}`)

	tests := []struct {
		name   string
		cfg    Config
		opts   []Option
		want   error
		source string
	}{
		{"env only", Config{UseTaskAbstraction: true}, nil, nil, "env"},
		{"env percent invalid", Config{Percentage: 101}, nil, ErrInvalid, ""},
		{"file", Config{File: good}, nil, nil, "file:" + good},
		{"missing file", Config{File: filepath.Join(dir, "absent.yaml")}, nil, fs.ErrNotExist, ""},
		{"invalid file", Config{File: bad}, nil, ErrInvalid, ""},
		{"known workflows, none named", Config{File: good}, []Option{WithKnownWorkflows("wf")}, nil, "file:" + good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New(context.Background(), tt.cfg, append(tt.opts, quiet)...)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil && f.Snapshot().Source != tt.source {
				t.Errorf("source = %q, want %q", f.Snapshot().Source, tt.source)
			}
		})
	}
}

func TestReloadKeepsLastGood(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flags.yaml")
	writeFile(t, path, "workflows:\n  wf: {enabled: true}\n")
	f, err := New(context.Background(), Config{File: path}, quiet, WithKnownWorkflows("wf"))
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Workflow: "wf"}
	bad := []struct{ name, data string }{
		{"bad yaml", "workflows: [\n"},
		{"unknown field", "workflow: {}\n"},
		{"percent 150", "percentage: 150\n"},
		{"unknown workflow", "workflows:\n  other: {enabled: false}\n"},
		{"empty", ""},
	}
	for _, tt := range bad {
		writeFile(t, path, tt.data)
		if err := f.Reload(context.Background()); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: reload err = %v, want ErrInvalid", tt.name, err)
		}
		if d := f.Decide(req); d.Backend != BackendHatchet || d.Reason != ReasonWorkflow {
			t.Errorf("%s: last good flags lost, decision %v", tt.name, d)
		}
		if le := f.Snapshot().LastError; le == nil || le.At.IsZero() {
			t.Errorf("%s: snapshot has no last error", tt.name)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := f.Reload(context.Background()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("reload of a removed file: err = %v", err)
	}
	writeFile(t, path, "workflows:\n  wf: {enabled: false}\n")
	if err := f.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap := f.Snapshot()
	if snap.LastError != nil || f.Decide(req).Backend != BackendCelery {
		t.Errorf("good reload not applied: %+v", snap)
	}
	if !strings.HasPrefix(snap.Source, "file:") || len(snap.SHA256) != 64 || snap.LoadedAt.IsZero() {
		t.Errorf("snapshot = %+v", snap)
	}
}
