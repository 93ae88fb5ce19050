package chunk

// Option configures a [Splitter].
type Option func(*Splitter)

// WholeWhenZero makes a size of 0 valid, meaning "no chunking": the whole
// text is returned as a single chunk and the overlap is ignored. This matches
// the platform's `chunk-size: 0` setting.
func WholeWhenZero() Option {
	return func(s *Splitter) { s.zeroIsWhole = true }
}
