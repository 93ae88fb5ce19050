package llm_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/unstract/hatchet-worker/helpers/llm"
)

func ExampleClient_Prompt() {
	// A stand-in for vLLM, Ollama or OpenAI.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"model":"llama3","choices":[{"message":{"role":"assistant","content":"42 EUR"},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":30,"completion_tokens":3,"total_tokens":33}}`)
	}))
	defer srv.Close()

	client, err := llm.New(srv.URL+"/v1", "llama3", llm.WithAPIKey("sk-..."), llm.WithMaxRetries(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := client.Prompt(context.Background(), "", "What is the invoice total?", "Total: 42 EUR")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Text, resp.Usage.TotalTokens)
	// Output: 42 EUR 33
}
