package chunk

import "errors"

var (
	// ErrInvalidSize reports a chunk size that is not positive (zero is
	// accepted only with [WholeWhenZero]).
	ErrInvalidSize = errors.New("chunk: size must be positive")
	// ErrInvalidOverlap reports a negative overlap, or an overlap not smaller
	// than the chunk size.
	ErrInvalidOverlap = errors.New("chunk: overlap must be at least 0 and smaller than size")
)
