package chunk

import (
	"fmt"
	"unicode"
)

// Splitter splits text into chunks of at most size runes that overlap by
// exactly overlap runes. It holds no mutable state and is safe for concurrent
// use.
type Splitter struct {
	size        int
	overlap     int
	zeroIsWhole bool
}

// New returns a Splitter for the given size and overlap, both in runes.
// It fails with [ErrInvalidSize] when size is not positive (unless
// [WholeWhenZero] is given and size is 0) and with [ErrInvalidOverlap] when
// overlap is negative or not smaller than size.
func New(size, overlap int, opts ...Option) (*Splitter, error) {
	s := &Splitter{size: size, overlap: overlap}
	for _, opt := range opts {
		opt(s)
	}
	if s.zeroIsWhole && size == 0 {
		s.overlap = 0
		return s, nil
	}
	if size <= 0 {
		return nil, fmt.Errorf("%w: got %d", ErrInvalidSize, size)
	}
	if overlap < 0 || overlap >= size {
		return nil, fmt.Errorf("%w: size %d, overlap %d", ErrInvalidOverlap, size, overlap)
	}
	return s, nil
}

// Split is a shorthand for [New] followed by [Splitter.Split].
func Split(text string, size, overlap int, opts ...Option) ([]Chunk, error) {
	s, err := New(size, overlap, opts...)
	if err != nil {
		return nil, err
	}
	return s.Split(text), nil
}

// Size returns the maximum chunk length in runes; 0 means no chunking.
func (s *Splitter) Size() int { return s.size }

// Split splits text into chunks. Empty text yields no chunks.
func (s *Splitter) Split(text string) []Chunk {
	runes := []rune(text)
	if len(runes) == 0 {
		return nil
	}
	if s.size == 0 {
		return []Chunk{{Index: 0, Text: string(runes), Start: 0, End: len(runes)}}
	}
	var chunks []Chunk
	for start := 0; ; {
		end := s.windowEnd(runes, start)
		chunks = append(chunks, Chunk{
			Index: len(chunks),
			Text:  string(runes[start:end]),
			Start: start,
			End:   end,
		})
		if end == len(runes) {
			return chunks
		}
		start = end - s.overlap
	}
}

// windowEnd returns where the chunk starting at start ends: the text's end if
// it is within reach, else the best boundary in the window, else the hard limit.
func (s *Splitter) windowEnd(runes []rune, start int) int {
	limit := start + s.size
	if limit >= len(runes) {
		return len(runes)
	}
	lowest := start + max(s.overlap+1, (s.size+1)/2)
	if end := lastBoundary(runes, lowest, limit); end > 0 {
		return end
	}
	return limit
}

// lastBoundary returns the largest end in [lowest, limit] that falls just after
// the best kind of break found there, or 0 when there is none.
func lastBoundary(runes []rune, lowest, limit int) int {
	for _, isBreak := range breakKinds {
		for end := limit; end >= lowest; end-- {
			if isBreak(runes, end) {
				return end
			}
		}
	}
	return 0
}

// breakKinds lists break tests from most to least preferred; each reports
// whether a chunk may end just before runes[end].
var breakKinds = []func(runes []rune, end int) bool{
	func(r []rune, end int) bool { return end >= 2 && r[end-1] == '\n' && r[end-2] == '\n' },
	func(r []rune, end int) bool { return r[end-1] == '\n' },
	func(r []rune, end int) bool { return unicode.IsSpace(r[end-1]) },
}
