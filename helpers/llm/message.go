package llm

// Roles understood by chat-completions servers.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one chat message.
type Message struct {
	// Role is one of RoleSystem, RoleUser or RoleAssistant.
	Role string `json:"role"`
	// Content is the message text.
	Content string `json:"content"`
}
