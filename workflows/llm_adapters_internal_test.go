package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/helpers/llm"
)

// TestMaxConcurrency checks each adapter's bound, the default, and that a
// negative bound is refused.
func TestMaxConcurrency(t *testing.T) {
	a, err := NewLLMAdapters(map[string]llm.Adapter{
		"set":   {BaseURL: "http://llm.example/v1", Model: "m", MaxConcurrency: 3},
		"unset": {BaseURL: "http://llm.example/v1", Model: "m"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id   string
		want int
	}{{"set", 3}, {"unset", DefaultMaxConcurrency}, {"", DefaultMaxConcurrency}, {"unknown", DefaultMaxConcurrency}} {
		if got := a.MaxConcurrency(tt.id); got != tt.want {
			t.Errorf("MaxConcurrency(%q) = %d, want %d", tt.id, got, tt.want)
		}
	}
	if _, err := NewLLMAdapters(map[string]llm.Adapter{"neg": {BaseURL: "http://llm.example/v1", Model: "m", MaxConcurrency: -1}}); err == nil ||
		!strings.Contains(err.Error(), "negative") {
		t.Errorf("negative max_concurrency: %v, want refused", err)
	}
}

// countingLLM is an OpenAI-compatible stub that answers after delay with the
// prompt's context and records the most calls it had in flight.
type countingLLM struct {
	delay             time.Duration
	inFlight, maxSeen atomic.Int64
}

func (c *countingLLM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	for m := c.maxSeen.Load(); n > m && !c.maxSeen.CompareAndSwap(m, n); m = c.maxSeen.Load() {
	}
	var req struct {
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	time.Sleep(c.delay)
	content := req.Messages[len(req.Messages)-1].Content
	_, doc, _ := strings.Cut(content, "---------------\n")
	doc, _, _ = strings.Cut(doc, "\n")
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"choices": []map[string]any{{"message": map[string]string{"role": "assistant", "content": doc}}},
		"usage": map[string]int{"total_tokens": 1}})
}

// TestRunPromptsWithinCap runs three prompts over four chunks against an
// adapter bounded to 3 calls: the calls overlap up to the bound and never
// beyond it, and each result lands under its prompt in chunk order.
func TestRunPromptsWithinCap(t *testing.T) {
	stub := &countingLLM{delay: 30 * time.Millisecond}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	a, err := NewLLMAdapters(map[string]llm.Adapter{"capped": {BaseURL: srv.URL + "/v1", Model: "m", MaxConcurrency: 3}})
	if err != nil {
		t.Fatal(err)
	}
	client, err := a.Client(nil, "capped")
	if err != nil {
		t.Fatal(err)
	}
	text := []rune("c0c1c2c3")
	chunks := []ChunkSpan{{0, 0, 2}, {1, 2, 4}, {2, 4, 6}, {3, 6, 8}}
	outputs := []PromptOutput{{"a", "first"}, {"b", "second"}, {"c", "third"}}
	out, tokens, err := a.runPrompts(context.Background(), client, "capped", outputs, chunks, text)
	if err != nil {
		t.Fatal(err)
	}
	if got := stub.maxSeen.Load(); got != 3 {
		t.Errorf("at most %d calls in flight, want exactly the bound 3", got)
	}
	if tokens != 12 {
		t.Errorf("tokens = %d, want 12", tokens)
	}
	for _, o := range outputs {
		rs := out.ProcessedResults[o.Name]
		if len(rs) != len(chunks) {
			t.Fatalf("%s: %d results, want %d", o.Name, len(rs), len(chunks))
		}
		for i, r := range rs {
			if want := fmt.Sprintf("c%d", i); !strings.Contains(r.Response, want) {
				t.Errorf("%s[%d] = %q, want the answer for chunk %q", o.Name, i, r.Response, want)
			}
		}
	}
}

// TestRunPromptsStopsWhenCancelled checks no call starts once ctx ended.
func TestRunPromptsStopsWhenCancelled(t *testing.T) {
	stub := &countingLLM{}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	a, err := NewLLMAdapters(map[string]llm.Adapter{"x": {BaseURL: srv.URL + "/v1", Model: "m", MaxConcurrency: 1}})
	if err != nil {
		t.Fatal(err)
	}
	client, err := a.Client(nil, "x")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := a.runPrompts(ctx, client, "x", []PromptOutput{{"a", "p"}}, []ChunkSpan{{0, 0, 1}}, []rune("t")); err == nil {
		t.Error("runPrompts after cancel succeeded")
	}
	if n := stub.maxSeen.Load(); n != 0 {
		t.Errorf("%d calls after cancel, want none", n)
	}
}
