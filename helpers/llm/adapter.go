package llm

// Adapter is one OpenAI-compatible server and model: an entry of
// LLM_ADAPTERS, or a run input's inline "llm" (which may carry neither a key
// nor a bound).
type Adapter struct {
	BaseURL string `json:"base_url"`
	Model   string `json:"model"`
	APIKey  string `json:"api_key,omitempty"`
	// MaxConcurrency bounds the calls in flight to the adapter in one
	// worker process; 0 takes the workflows' default.
	MaxConcurrency int `json:"max_concurrency,omitempty"`
}
