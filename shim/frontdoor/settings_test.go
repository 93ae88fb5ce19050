package frontdoor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/helpers/llm"
	"github.com/unstract/hatchet-worker/workflows"
)

// adapters is one LLM adapter, "local", for the settings' checks.
func adapters(t *testing.T) workflows.LLMAdapters {
	t.Helper()
	a, err := workflows.NewLLMAdapters(map[string]llm.Adapter{"local": {BaseURL: "http://127.0.0.1:9/v1", Model: "m"}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func writeSettings(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOpenSettings reads JSON and YAML files with JSON's field names and
// refuses, naming the workflow and field, what no execution could use.
func TestOpenSettings(t *testing.T) {
	tests := []struct {
		name, file, body, err string
	}{
		{"json", "s.json", `{"workflows": {"wf-1": {"outputs": [{"name": "total", "prompt": "State the total"}], "llm_adapter_id": "local", "chunk_size": 0, "chunk_overlap": 0}}}`, ""},
		{"yaml", "s.yaml", "workflows:\n  wf-1:\n    outputs:\n      - {name: total, prompt: State the total}\n    llm_adapter_id: local\n", ""},
		{"no prompt", "s.json", `{"workflows": {"wf-2": {"outputs": [], "llm_adapter_id": "local"}}}`, "workflow wf-2: outputs must name at least one prompt"},
		{"unknown adapter", "s.yml", "workflows:\n  wf-3:\n    outputs: [{name: n, prompt: p}]\n    llm_adapter_id: nope\n", "workflow wf-3"},
		{"unknown field", "s.json", `{"workflows": {"wf-1": {"outputs": [{"name": "n", "prompt": "p"}], "llm_adapter_id": "local", "temperature": 1}}}`, `unknown field "temperature"`},
		{"two documents", "s.json", `{"workflows": {}} {}`, "trailing data"},
		{"another format", "s.toml", `workflows = {}`, `extension ".toml"`},
		{"not yaml", "s.yaml", "workflows: [", "yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := adapters(t)
			s, err := OpenSettings(writeSettings(t, tt.file, tt.body), func(ds workflows.DocumentSettings) error { return ds.Check(a) }, slog.Default())
			if tt.err != "" {
				if !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want ErrSettings with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ds, ok := s.For("wf-1")
			if !ok || len(ds.Outputs) != 1 || ds.Outputs[0].Prompt != "State the total" || ds.LLMAdapterID != "local" {
				t.Errorf("For(wf-1) = %+v, %v", ds, ok)
			}
			if _, ok := s.For("wf-9"); ok {
				t.Error("For(wf-9) found settings the file does not have")
			}
		})
	}
}

// TestSettingsReload picks up a changed file and keeps the last good
// settings when the new content is refused.
func TestSettingsReload(t *testing.T) {
	a := adapters(t)
	path := writeSettings(t, "s.json", `{"workflows": {"wf-1": {"outputs": [{"name": "n", "prompt": "first"}], "llm_adapter_id": "local"}}}`)
	s, err := OpenSettings(path, func(ds workflows.DocumentSettings) error { return ds.Check(a) }, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	s.poll = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = s.Watch(ctx) }()
	prompt := func() string { ds, _ := s.For("wf-1"); return ds.Outputs[0].Prompt }
	write := func(body string) {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"workflows": {"wf-1": {"outputs": [{"name": "n", "prompt": "second"}], "llm_adapter_id": "local"}}}`)
	eventually(t, func() bool { return prompt() == "second" }, "the changed prompt")
	write(`{"workflows": {"wf-1": {"outputs": [], "llm_adapter_id": "local"}}}`)
	time.Sleep(200 * time.Millisecond)
	if got := prompt(); got != "second" {
		t.Errorf("after a refused file the prompt is %q, want the last good one", got)
	}
}

func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 5 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
