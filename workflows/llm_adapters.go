package workflows

import (
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/unstract/hatchet-worker/helpers/llm"
)

// ErrUnknownAdapter reports an llm_adapter_id that is not configured.
var ErrUnknownAdapter = errors.New("unknown llm_adapter_id")

// LLMAdapters resolves which OpenAI-compatible server a run talks to: a
// configured adapter by id (the only way to use an API key), or inline
// settings for keyless servers.
type LLMAdapters struct {
	adapters map[string]LLMSettings
	opts     []llm.Option
}

// NewLLMAdapters returns the adapters by id (LLM_ADAPTERS, parsed by
// config.Load); opts apply to every client.
func NewLLMAdapters(adapters map[string]LLMSettings, opts ...llm.Option) (LLMAdapters, error) {
	a := LLMAdapters{adapters: maps.Clone(adapters), opts: opts}
	if a.adapters == nil {
		a.adapters = map[string]LLMSettings{}
	}
	for id, s := range a.adapters {
		if _, err := llm.New(s.BaseURL, s.Model); err != nil {
			return a, fmt.Errorf("LLM_ADAPTERS[%q]: %w", id, err)
		}
	}
	return a, nil
}

// IDs returns the configured adapter ids, sorted.
func (a LLMAdapters) IDs() []string {
	ids := make([]string, 0, len(a.adapters))
	for id := range a.adapters {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Check refuses an id that names no configured adapter; "" (inline
// settings) passes.
func (a LLMAdapters) Check(id string) error {
	if _, ok := a.adapters[id]; id != "" && !ok {
		return fmt.Errorf("%w %q (configured: %s; LLM_ADAPTERS sets them)", ErrUnknownAdapter, id, a.configured())
	}
	return nil
}

// configured lists the adapter ids for a message, or says there are none.
func (a LLMAdapters) configured() string {
	if len(a.adapters) == 0 {
		return "none"
	}
	return strings.Join(a.IDs(), ", ")
}

// Client returns a client for the adapter id, or for inline settings when
// id is empty.
func (a LLMAdapters) Client(inline *LLMSettings, id string) (*llm.Client, error) {
	var s LLMSettings
	switch {
	case id != "":
		if err := a.Check(id); err != nil {
			return nil, err
		}
		s = a.adapters[id]
	case inline != nil:
		s = *inline
	default:
		return nil, errors.New("either llm or llm_adapter_id is required")
	}
	opts := a.opts
	if s.APIKey != "" {
		opts = append(append([]llm.Option{}, opts...), llm.WithAPIKey(s.APIKey))
	}
	c, err := llm.New(s.BaseURL, s.Model, opts...)
	if err != nil {
		return nil, fmt.Errorf("llm settings: %w", err)
	}
	return c, nil
}
