package chunk

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNewRejectsBadSettings(t *testing.T) {
	tests := []struct {
		name          string
		size, overlap int
		opts          []Option
		want          error
	}{
		{"zero size", 0, 0, nil, ErrInvalidSize},
		{"negative size", -5, 0, nil, ErrInvalidSize},
		{"overlap equals size", 10, 10, nil, ErrInvalidOverlap},
		{"overlap above size", 10, 11, nil, ErrInvalidOverlap},
		{"negative overlap", 10, -1, nil, ErrInvalidOverlap},
		{"negative size with whole", -1, 0, []Option{WholeWhenZero()}, ErrInvalidSize},
		{"valid", 10, 9, nil, nil},
		{"zero with whole", 0, 50, []Option{WholeWhenZero()}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.size, tt.overlap, tt.opts...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("New(%d, %d) error = %v, want %v", tt.size, tt.overlap, err, tt.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name          string
		text          string
		size, overlap int
		want          []string
	}{
		{"empty", "", 10, 2, nil},
		{"shorter than size", "hello", 10, 2, []string{"hello"}},
		{"exact size", "abcdefghij", 10, 2, []string{"abcdefghij"}},
		{"hard split no overlap", "abcdefghij", 4, 0, []string{"abcd", "efgh", "ij"}},
		{"hard split with overlap", "abcdefghij", 4, 1, []string{"abcd", "defg", "ghij"}},
		{"breaks at space", "aaa bbb ccc", 5, 0, []string{"aaa ", "bbb ", "ccc"}},
		{"prefers paragraph", "aa\n\nbb cc dd ee", 8, 0, []string{"aa\n\n", "bb cc ", "dd ee"}},
		{"prefers line over space", "ab cd\nef gh", 8, 0, []string{"ab cd\n", "ef gh"}},
		{"ignores boundary in first half", "a bcdefghij", 6, 0, []string{"a bcde", "fghij"}},
		{"emoji", "😀😁😂🤣😃😄", 4, 1, []string{"😀😁😂🤣", "🤣😃😄"}},
		{"cjk", "日本語のテキストです", 4, 0, []string{"日本語の", "テキスト", "です"}},
		{"combining marks", "e\u0301e\u0301e\u0301", 3, 0, []string{"e\u0301e", "\u0301e\u0301"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks, err := Split(tt.text, tt.size, tt.overlap)
			if err != nil {
				t.Fatal(err)
			}
			got := texts(chunks)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Fatalf("Split(%q, %d, %d) = %q, want %q", tt.text, tt.size, tt.overlap, got, tt.want)
			}
			checkInvariants(t, tt.text, chunks, tt.size, tt.overlap)
		})
	}
}

func TestSplitWholeWhenZero(t *testing.T) {
	text := strings.Repeat("word ", 1000)
	chunks, err := Split(text, 0, 100, WholeWhenZero())
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 1 || chunks[0].Text != text || chunks[0].End != 5000 {
		t.Fatalf("got %d chunks, want the whole text as one", len(chunks))
	}
	if chunks, _ := Split("", 0, 0, WholeWhenZero()); chunks != nil {
		t.Fatalf("empty text gave %d chunks", len(chunks))
	}
}

func TestSplitHugeSingleLine(t *testing.T) {
	text := strings.Repeat("x", 1_000_003)
	chunks, err := Split(text, 1000, 100)
	if err != nil {
		t.Fatal(err)
	}
	// Each chunk after the first adds 900 new runes.
	if want := 1 + (1_000_003-1000+899)/900; len(chunks) != want {
		t.Fatalf("got %d chunks, want %d", len(chunks), want)
	}
	checkInvariants(t, text, chunks, 1000, 100)
}

func TestSplitOverlapIsExact(t *testing.T) {
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 50)
	for _, overlap := range []int{0, 1, 7, 20, 49} {
		chunks, err := Split(text, 50, overlap)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(chunks); i++ {
			prev, cur := []rune(chunks[i-1].Text), []rune(chunks[i].Text)
			if got, want := string(cur[:overlap]), string(prev[len(prev)-overlap:]); got != want {
				t.Fatalf("overlap %d, chunk %d starts %q, want %q", overlap, i, got, want)
			}
		}
		checkInvariants(t, text, chunks, 50, overlap)
	}
}

func TestSplitIsDeterministic(t *testing.T) {
	text := strings.Repeat("Lorem ipsum dolor sit amet,\nconsectetur 😀 adipiscing.\n\n", 200)
	s, err := New(120, 30)
	if err != nil {
		t.Fatal(err)
	}
	first := s.Split(text)
	for range 5 {
		again := s.Split(text)
		if strings.Join(texts(again), "\x00") != strings.Join(texts(first), "\x00") {
			t.Fatal("two splits of the same text differ")
		}
	}
}

func TestSplitInvalidUTF8BecomesReplacement(t *testing.T) {
	chunks, err := Split("ab\xffcd", 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(texts(chunks), ""); got != "ab\uFFFDcd" {
		t.Fatalf("got %q", got)
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("hello world, this is a test", 5, 2)
	f.Add("日本語 のテキスト\n\nです", 3, 1)
	f.Add("😀😁 😂\n🤣", 2, 0)
	f.Add("", 1, 0)
	f.Fuzz(func(t *testing.T, text string, size, overlap int) {
		if size <= 0 || size > 500 || overlap < 0 || overlap >= size {
			if _, err := New(size, overlap); err == nil && (size <= 0 || overlap < 0 || overlap >= size) {
				t.Fatalf("New(%d, %d) accepted bad settings", size, overlap)
			}
			return
		}
		chunks, err := Split(text, size, overlap)
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, text, chunks, size, overlap)
	})
}

func texts(chunks []Chunk) []string {
	var out []string
	for _, c := range chunks {
		out = append(out, c.Text)
	}
	return out
}

// checkInvariants asserts validity, size limits, offsets, exact overlap and
// that the chunks minus their overlaps rebuild the (UTF-8 decoded) text.
func checkInvariants(t *testing.T, text string, chunks []Chunk, size, overlap int) {
	t.Helper()
	runes := []rune(text)
	var rebuilt strings.Builder
	for i, c := range chunks {
		switch {
		case !utf8.ValidString(c.Text):
			t.Fatalf("chunk %d is not valid UTF-8", i)
		case c.Index != i:
			t.Fatalf("chunk %d has index %d", i, c.Index)
		case c.Len() > size || c.Len() <= 0:
			t.Fatalf("chunk %d has %d runes, size %d", i, c.Len(), size)
		case c.Len() != utf8.RuneCountInString(c.Text):
			t.Fatalf("chunk %d offsets %d..%d disagree with its %d runes", i, c.Start, c.End, utf8.RuneCountInString(c.Text))
		case string(runes[c.Start:c.End]) != c.Text:
			t.Fatalf("chunk %d text differs from text[%d:%d]", i, c.Start, c.End)
		}
		if i == 0 {
			rebuilt.WriteString(c.Text)
			continue
		}
		if c.Start != chunks[i-1].End-overlap {
			t.Fatalf("chunk %d starts at %d, want %d", i, c.Start, chunks[i-1].End-overlap)
		}
		rebuilt.WriteString(string([]rune(c.Text)[overlap:]))
	}
	if rebuilt.String() != string(runes) {
		t.Fatalf("rebuilt text differs: got %d runes, want %d", utf8.RuneCountInString(rebuilt.String()), len(runes))
	}
}

func BenchmarkSplit(b *testing.B) {
	text := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n", 20000)
	s, err := New(1024, 128)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		s.Split(text)
	}
}
