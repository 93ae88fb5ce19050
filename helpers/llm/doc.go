// Package llm is a client for OpenAI-compatible chat-completions servers
// (OpenAI, vLLM, Ollama, llama.cpp and others that speak
// `POST {base_url}/chat/completions`). It replaces the platform's prompt
// service call to an LLM.
//
// # Model
//
// A [Client] is built once with [New] from a base URL, a model name and
// functional options, and is safe for concurrent use. [Client.Complete] sends
// a list of [Message] values; [Client.Prompt] builds the messages from an
// instruction and a document context the way the platform's prompt service
// does. Both return a [Response] with the answer text and the token [Usage].
//
// # Retries
//
// Each attempt runs under its own timeout ([WithTimeout]). Network errors,
// attempt timeouts, HTTP 429 and HTTP 5xx are retried up to [WithMaxRetries]
// times with exponential backoff and full jitter, waiting at least as long as
// the server's Retry-After header asks, capped by [WithBackoff]'s maximum.
// When every attempt fails the error wraps [ErrRetriesExhausted] and the last
// failure. Other 4xx answers fail at once with an [*APIError]. A cancelled
// caller context stops the client at once with the context's error.
//
// # Secrets
//
// The API key is sent only in the Authorization header. It never appears in
// errors or log records: server messages that echo it are redacted.
package llm
