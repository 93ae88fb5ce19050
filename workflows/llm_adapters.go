package workflows

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"

	"golang.org/x/sync/semaphore"

	"github.com/unstract/hatchet-worker/helpers/llm"
)

// ErrUnknownAdapter reports an llm_adapter_id that is not configured.
var ErrUnknownAdapter = errors.New("unknown llm_adapter_id")

// DefaultMaxConcurrency bounds the calls in flight to one adapter in one
// worker process when its max_concurrency is 0, and to every server named
// inline together.
const DefaultMaxConcurrency = 8

// LLMAdapters resolves which OpenAI-compatible server a run talks to: a
// configured adapter by id (the only way to use an API key), or inline
// settings for keyless servers. It also bounds the calls in flight to each
// adapter in this process (max_concurrency).
type LLMAdapters struct {
	adapters map[string]llm.Adapter
	opts     []llm.Option
	// caps bound the calls in flight by adapter id; "" is inline settings.
	caps map[string]*semaphore.Weighted
}

// NewLLMAdapters returns the adapters by id (LLM_ADAPTERS, parsed by
// config.Load); opts apply to every client.
func NewLLMAdapters(adapters map[string]llm.Adapter, opts ...llm.Option) (LLMAdapters, error) {
	a := LLMAdapters{adapters: maps.Clone(adapters), opts: opts,
		caps: map[string]*semaphore.Weighted{"": semaphore.NewWeighted(DefaultMaxConcurrency)}}
	if a.adapters == nil {
		a.adapters = map[string]llm.Adapter{}
	}
	for id, s := range a.adapters {
		if _, err := llm.New(s.BaseURL, s.Model); err != nil {
			return a, fmt.Errorf("LLM_ADAPTERS[%q]: %w", id, err)
		}
		if s.MaxConcurrency < 0 {
			return a, fmt.Errorf("LLM_ADAPTERS[%q]: max_concurrency %d is negative", id, s.MaxConcurrency)
		}
		a.caps[id] = semaphore.NewWeighted(int64(maxConcurrency(s)))
	}
	return a, nil
}

// maxConcurrency is adapter s's bound on calls in flight.
func maxConcurrency(s llm.Adapter) int {
	if s.MaxConcurrency > 0 {
		return s.MaxConcurrency
	}
	return DefaultMaxConcurrency
}

// MaxConcurrency is how many calls may be in flight at once to adapter id
// ("" inline settings) in this process.
func (a LLMAdapters) MaxConcurrency(id string) int {
	if s, ok := a.adapters[id]; ok {
		return maxConcurrency(s)
	}
	return DefaultMaxConcurrency
}

// Acquire waits for a free call to adapter id ("" inline settings) and
// returns the function that gives it back; it fails only when ctx ends.
func (a LLMAdapters) Acquire(ctx context.Context, id string) (release func(), err error) {
	sem := a.caps[id]
	if sem == nil {
		sem = a.caps[""]
	}
	if sem == nil {
		return func() {}, nil
	}
	if err := sem.Acquire(ctx, 1); err != nil {
		return nil, fmt.Errorf("wait for a free call to LLM adapter %q: %w", id, err)
	}
	return func() { sem.Release(1) }, nil
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
func (a LLMAdapters) Client(inline *llm.Adapter, id string) (*llm.Client, error) {
	var s llm.Adapter
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
