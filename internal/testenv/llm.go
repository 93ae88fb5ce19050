package testenv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// LLMServer is a local server speaking the OpenAI chat-completions protocol
// (POST /v1/chat/completions). It answers each prompt with the
// instruction's first word and the first line of the prompt's context, so a
// test can see a document's text went through, and counts tokens as words.
type LLMServer struct {
	*httptest.Server
	// Calls counts completions served.
	Calls atomic.Int64
	key   string
	delay atomic.Int64 // nanoseconds each completion takes
}

// NewLLMServer starts an LLMServer that requires key as bearer token when
// key is not empty; it stops at the end of the test.
func NewLLMServer(t testing.TB, key string) *LLMServer {
	s := &LLMServer{key: key}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// SetDelay makes each completion take d, as a real model would.
func (s *LLMServer) SetDelay(d time.Duration) { s.delay.Store(int64(d)) }

// BaseURL is the URL an OpenAI client is configured with.
func (s *LLMServer) BaseURL() string { return s.URL + "/v1" }

type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
}

func (s *LLMServer) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":{"message":"not found"}}`)
		return
	}
	if s.key != "" && r.Header.Get("Authorization") != "Bearer "+s.key {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"message":"bad key","type":"invalid_request_error"}}`)
		return
	}
	var req chatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"message":"bad request"}}`)
		return
	}
	s.Calls.Add(1)
	time.Sleep(time.Duration(s.delay.Load()))
	user := req.Messages[len(req.Messages)-1].Content
	instruction, context, _ := strings.Cut(user, "\n\nContext:\n---------------\n")
	firstLine, _, _ := strings.Cut(context, "\n")
	word := "answer"
	if f := strings.Fields(instruction); len(f) > 0 {
		word = f[0]
	}
	words := len(strings.Fields(user))
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "cmpl-1", "object": "chat.completion", "model": req.Model,
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
			"message": map[string]string{"role": "assistant", "content": word + ": " + firstLine}}},
		"usage": map[string]int{"prompt_tokens": words, "completion_tokens": 3, "total_tokens": words + 3},
	})
}
