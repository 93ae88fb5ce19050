package extract

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// sizedReader claims a size, truthfully or not.
type sizedReader struct {
	io.Reader
	size int64
}

func (s sizedReader) Size() int64 { return s.size }

func TestReadAllSizedReader(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	tests := []struct {
		name      string
		r         func() io.Reader
		max       int64
		want      int
		err       error
		maxAllocs float64
	}{
		{"true size: one buffer", func() io.Reader { return sizedReader{bytes.NewBuffer(data), int64(len(data))} }, 2 << 20, len(data), nil, 6},
		{"size too small: grows", func() io.Reader { return sizedReader{bytes.NewBuffer(data), 10} }, 2 << 20, len(data), nil, 100},
		{"size too large", func() io.Reader { return sizedReader{bytes.NewBuffer(data), 4 << 20} }, 8 << 20, len(data), nil, 100},
		{"over the limit", func() io.Reader { return sizedReader{bytes.NewBuffer(data), int64(len(data))} }, 1000, 0, ErrTooLarge, 100},
		{"unsized", func() io.Reader { return bytes.NewBuffer(data) }, 2 << 20, len(data), nil, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(tt.r(), "doc", tt.max)
			if !errors.Is(err, tt.err) || (tt.err == nil && !bytes.Equal(got, data)) {
				t.Fatalf("readAll = %d bytes, %v; want %d bytes, %v", len(got), err, tt.want, tt.err)
			}
			allocs := testing.AllocsPerRun(5, func() { _, _ = readAll(tt.r(), "doc", tt.max) })
			t.Logf("%v allocations", allocs)
			if allocs > tt.maxAllocs {
				t.Errorf("%v allocations, want at most %v", allocs, tt.maxAllocs)
			}
		})
	}
}
