package llm

// Usage counts the tokens an exchange consumed, as reported by the server.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Response is the answer to a completion request.
type Response struct {
	// Text is the content of the first choice's message.
	Text string
	// FinishReason is the first choice's finish reason (e.g. "stop", "length").
	FinishReason string
	// Model is the model name the server reports having used.
	Model string
	// Usage is the token accounting for the request.
	Usage Usage
	// Attempts is the number of HTTP attempts made, 1 when none was retried.
	Attempts int
}
