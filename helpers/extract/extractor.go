package extract

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Extractor extracts text from one document. name is the document's file
// name, used for format detection and logging; it may be empty.
type Extractor interface {
	Extract(ctx context.Context, r io.Reader, name string) (*Result, error)
}

// New returns the extractor the configuration asks for: an [X2Text] client
// when x2textURL is set, else a [Local] extractor.
func New(x2textURL, apiKey string, opts ...Option) (Extractor, error) {
	if x2textURL == "" {
		return NewLocal(opts...)
	}
	return NewX2Text(x2textURL, apiKey, opts...)
}

// ExtractFile runs e on the file at path, naming it by its base name.
func ExtractFile(ctx context.Context, e Extractor, path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	defer f.Close()
	return e.Extract(ctx, f, filepath.Base(path))
}

// sizer is a reader that knows its length before it is read, such as
// bytes.Reader or a documents.Document.
type sizer interface{ Size() int64 }

// readUpTo reads at most n bytes of r. A reader that knows its size is read
// into one buffer of that size instead of one grown by doubling, which would
// hold up to twice the document at its peak.
func readUpTo(r io.Reader, n int64) ([]byte, error) {
	lr := io.LimitReader(r, n)
	s, ok := r.(sizer)
	if !ok || s.Size() <= 0 || s.Size() >= n {
		return io.ReadAll(lr)
	}
	buf := bytes.NewBuffer(make([]byte, 0, s.Size()+bytes.MinRead))
	_, err := buf.ReadFrom(lr)
	return buf.Bytes(), err
}

// readAll reads r whole, failing with ErrEmpty on no bytes and ErrTooLarge
// past max.
func readAll(r io.Reader, name string, max int64) ([]byte, error) {
	data, err := readUpTo(r, max+1)
	switch {
	case err != nil:
		return nil, fmt.Errorf("extract: read %q: %w", name, err)
	case len(data) == 0:
		return nil, fmt.Errorf("%w: %q", ErrEmpty, name)
	case int64(len(data)) > max:
		return nil, fmt.Errorf("%w: %q exceeds %d bytes", ErrTooLarge, name, max)
	}
	return data, nil
}
