package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestLocalExtract(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		data   []byte
		text   string
		pages  int
		method string
	}{
		{"pdf one page", "a.pdf", buildPDF([]string{"Hello (PDF) world", "Café \\ 100%"}), "Hello (PDF) world\nCafé \\ 100%", 1, "pdf"},
		{"pdf two pages", "b.pdf", buildPDF([]string{"first"}, []string{"second"}), "first\fsecond", 2, "pdf"},
		{"pdf sniffed without name", "", buildPDF([]string{"sniffed"}), "sniffed", 1, "pdf"},
		{"pdf with blank page", "c.pdf", buildPDF([]string{"only"}, nil), "only", 2, "pdf"},
		{"docx paragraphs tabs breaks", "d.docx", buildDOCX(t,
			para("Title")+`<w:p><w:r><w:t>a</w:t><w:tab/><w:t>b</w:t><w:br/><w:t>c</w:t></w:r></w:p>`+
				`<w:p><w:r><w:t>x</w:t><w:noBreakHyphen/><w:t>y</w:t></w:r></w:p>`),
			"Title\na\tb\nc\nx-y", 1, "docx"},
		{"docx table", "e.docx", buildDOCX(t,
			`<w:tbl><w:tr><w:tc>`+para("Name")+`</w:tc><w:tc>`+para("Qty")+`</w:tc></w:tr>`+
				`<w:tr><w:tc>`+para("Bolt")+para("M8")+`</w:tc><w:tc><w:p/></w:tc><w:tc>`+para("4")+`</w:tc></w:tr></w:tbl>`+para("after")),
			"Name\tQty\nBolt M8\t\t4\nafter", 1, "docx"},
		{"docx skips fallback", "f.docx", buildDOCX(t,
			`<mc:AlternateContent><mc:Choice Requires="wps">`+para("box")+`</mc:Choice><mc:Fallback>`+para("box")+`</mc:Fallback></mc:AlternateContent>`),
			"box", 1, "docx"},
		{"docx sniffed with wrong name", "upload.bin", buildDOCX(t, para("zip body")), "zip body", 1, "docx"},
		{"html", "g.html", []byte(`<!DOCTYPE html><html><head><title>T</title><style>p{}</style></head>` +
			`<body><script>alert(1)</script><h1>Heading</h1><p>Some   <b>bold</b>
			text &amp; more</p><ul><li>one</li><li>two</li></ul>line<br>break` +
			`<table><tr><td>a</td><td>b</td></tr></table><pre>  keep
    indent</pre></body></html>`),
			"Heading\n\nSome bold text & more\n\none\n\ntwo\n\nline\nbreak\n\na\tb\n\n  keep\n    indent", 1, "html"},
		{"html sniffed", "", []byte("<html><body><p>sniffed html</p></body></html>"), "sniffed html", 1, "html"},
		{"csv lenient quotes", "k.csv", []byte("a,b\"c\n\"open"), "a\tb\"c\nopen", 1, "csv"},
		{"csv", "h.csv", []byte("name,qty\r\n\"Bolt, M8\",4\n\"multi\nline\",,x\n"), "name\tqty\nBolt, M8\t4\nmulti line\t\tx", 1, "csv"},
		{"tsv", "h.tsv", []byte("a\tb\nc\td\n"), "a\tb\nc\td", 1, "tsv"},
		{"markdown", "i.md", []byte("# Title\r\n\r\n* item\n"), "# Title\n\n* item", 1, "text"},
		{"text with bom and bad utf8", "j.txt", []byte("\xef\xbb\xbfhi \xff there"), "hi \uFFFD there", 1, "text"},
		{"text sniffed", "README", []byte("plain words"), "plain words", 1, "text"},
	}
	l := mustLocal(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := l.Extract(context.Background(), bytes.NewReader(tt.data), tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if res.Text != tt.text || res.Pages != tt.pages || res.Method != tt.method {
				t.Fatalf("got %q (%d pages, %s), want %q (%d pages, %s)",
					res.Text, res.Pages, res.Method, tt.text, tt.pages, tt.method)
			}
		})
	}
}

func TestLocalExtractErrors(t *testing.T) {
	pdf := buildPDF([]string{"text"})
	docx := buildDOCX(t, para("text"))
	tests := []struct {
		name string
		file string
		data []byte
		want error
	}{
		{"empty file", "a.txt", nil, ErrEmpty},
		{"whitespace only", "a.txt", []byte(" \n\t "), ErrNoText},
		{"pdf without text", "a.pdf", buildPDF(nil), ErrNoText},
		{"corrupt pdf header only", "a.pdf", []byte("%PDF-1.4\ngarbage"), ErrCorrupt},
		{"truncated pdf", "a.pdf", pdf[:len(pdf)/2], ErrCorrupt},
		{"pdf with bad xref offset", "a.pdf", bytes.Replace(pdf, []byte("startxref\n"), []byte("startxref\n9"), 1), ErrCorrupt},
		{"pdf with cyclic page tree", "a.pdf", bytes.Replace(pdf, []byte("/Kids [4 0 R]"), []byte("/Kids [2 0 R]"), 1), ErrCorrupt},
		{"pdf with cyclic parent", "a.pdf", bytes.Replace(pdf, []byte("/Parent 2 0 R"), []byte("/Parent 4 0 R"), 1), ErrCorrupt},
		{"pdf with exploding page tree", "a.pdf", bytes.Replace(pdf, []byte("/Kids [4 0 R] /Count 1"), []byte("/Kids [2 0 R 2 0 R]   "), 1), ErrCorrupt},
		{"pdf name without pdf content", "a.pdf", []byte("not a pdf"), ErrCorrupt},
		{"truncated zip", "a.docx", docx[:len(docx)/2], ErrCorrupt},
		{"docx malformed xml", "a.docx", buildDOCX(t, "<w:p><w:r><w:t>open"), ErrCorrupt},
		{"docx name without zip", "a.docx", []byte("hello"), ErrCorrupt},
		{"zip without document", "a.xlsx", zipWith(t, "xl/workbook.xml"), ErrUnsupportedFormat},
		{"binary", "a.bin", []byte{0x7f, 'E', 'L', 'F', 0, 0, 1}, ErrUnsupportedFormat},
		{"binary with text name", "a.txt", []byte("ab\x00cd"), ErrUnsupportedFormat},
		{"image", "", []byte("\x89PNG\r\n\x1a\n\x00\x00"), ErrUnsupportedFormat},
		{"too large", "a.txt", bytes.Repeat([]byte("x"), 4097), ErrTooLarge},
	}
	l := mustLocal(t, WithMaxSize(4096))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := l.Extract(context.Background(), bytes.NewReader(tt.data), tt.file)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %+v, %v; want %v", res, err, tt.want)
			}
			t.Log(err)
		})
	}
}

func TestLocalExtractHugeLine(t *testing.T) {
	line := strings.Repeat("word", 4<<20)
	for _, tt := range []struct{ file, data string }{
		{"huge.txt", line},
		{"huge.csv", "id," + line + "\n"},
		{"huge.html", "<p>" + line + "</p>"},
	} {
		res, err := mustLocal(t).Extract(context.Background(), strings.NewReader(tt.data), tt.file)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if !strings.HasSuffix(res.Text, line) {
			t.Fatalf("%s: %d bytes of text, want the %d-byte line", tt.file, len(res.Text), len(line))
		}
	}
}

func TestLocalExtractCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := mustLocal(t).Extract(ctx, bytes.NewReader(buildPDF([]string{"x"})), "a.pdf")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestNewLocalRejectsBadSize(t *testing.T) {
	if _, err := NewLocal(WithMaxSize(0)); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("got %v, want ErrInvalidConfig", err)
	}
}

func TestNewSelectsExtractor(t *testing.T) {
	e, err := New("", "")
	if _, ok := e.(*Local); err != nil || !ok {
		t.Fatalf("New without URL = %T, %v; want *Local", e, err)
	}
	e, err = New("http://x2text:3004", "key")
	if _, ok := e.(*X2Text); err != nil || !ok {
		t.Fatalf("New with URL = %T, %v; want *X2Text", e, err)
	}
}

// FuzzLocalExtract feeds arbitrary bytes as PDF and DOCX: extraction may
// fail but must not panic.
func FuzzLocalExtract(f *testing.F) {
	f.Add(buildPDF([]string{"seed"}), "a.pdf")
	f.Add(buildDOCX(f, para("seed")), "a.docx")
	f.Add([]byte("<p>seed</p>"), "a.html")
	l := mustLocal(f)
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		_, _ = l.Extract(context.Background(), bytes.NewReader(data), name)
	})
}

// zipWith returns a valid ZIP archive holding one empty member, name.
func zipWith(t *testing.T, name string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if _, err := zw.Create(name); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkExtractPDF(b *testing.B) {
	pages := make([][]string, 50)
	for i := range pages {
		pages[i] = []string{"The quick brown fox jumps over the lazy dog.", "Line two of the page."}
	}
	data := buildPDF(pages...)
	l := mustLocal(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := l.Extract(context.Background(), bytes.NewReader(data), "bench.pdf"); err != nil {
			b.Fatal(err)
		}
	}
}
