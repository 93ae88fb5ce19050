package extract

import (
	"archive/zip"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the documents under testdata/")

// buildPDF returns a valid PDF with one page per element of pages, each line
// drawn as its own text object in Helvetica with WinAnsiEncoding. Runes
// above U+00FF are not representable and must not be used.
func buildPDF(pages ...[]string) []byte {
	n := len(pages)
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", pageRefs(n), n),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	}
	for i, lines := range pages {
		content := pageContent(lines)
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "+
				"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i),
			fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, obj := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, obj)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// pageRefs lists the page objects' references: pages are objects 4, 6, 8…
func pageRefs(n int) string {
	refs := make([]string, n)
	for i := range refs {
		refs[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	return strings.Join(refs, " ")
}

func pageContent(lines []string) string {
	var b strings.Builder
	for i, line := range lines {
		fmt.Fprintf(&b, "BT /F1 12 Tf 72 %d Td (%s) Tj ET\n", 720-16*i, pdfString(line))
	}
	return b.String()
}

// pdfString escapes a literal string and encodes it as Latin-1 bytes.
func pdfString(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '(' || r == ')' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(byte(r))
	}
	return b.String()
}

// buildDOCX returns a minimal valid DOCX whose body is the given
// WordprocessingML (paragraphs, tables) without the w:body wrapper.
func buildDOCX(t testing.TB, body string) []byte {
	t.Helper()
	files := []struct{ name, content string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
		{docxBody, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="` + wordNS + `" xmlns:mc="` + compatNS + `"><w:body>` + body + `</w:body></w:document>`},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(f.content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// para returns a WordprocessingML paragraph holding text in one run.
func para(text string) string {
	return `<w:p><w:r><w:t xml:space="preserve">` + text + `</w:t></w:r></w:p>`
}

// The documents under testdata/, for this package's tests and for workflow
// integration tests elsewhere; SampleText constants are their exact text.
const (
	samplePDFText  = "Invoice INV-2024-001\nCustomer: Acme Corporation\nTotal: 1,250.00 EUR\fPayment due within 30 days."
	sampleDOCXText = "Invoice INV-2024-001\nCustomer: Acme Corporation\nTotal: 1,250.00 EUR"
)

func samplePDF() []byte {
	return buildPDF(
		[]string{"Invoice INV-2024-001", "Customer: Acme Corporation", "Total: 1,250.00 EUR"},
		[]string{"Payment due within 30 days."},
	)
}

func sampleDOCX(t testing.TB) []byte {
	return buildDOCX(t, para("Invoice INV-2024-001")+para("Customer: Acme Corporation")+para("Total: 1,250.00 EUR"))
}

// TestTestdata checks the shipped sample documents, and rewrites them first
// when run with -update.
func TestTestdata(t *testing.T) {
	files := []struct {
		name  string
		data  []byte
		text  string
		pages int
	}{
		{"sample.pdf", samplePDF(), samplePDFText, 2},
		{"sample.docx", sampleDOCX(t), sampleDOCXText, 1},
	}
	for _, f := range files {
		path := filepath.Join("testdata", f.name)
		if *update {
			if err := os.WriteFile(path, f.data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		res, err := ExtractFile(t.Context(), mustLocal(t), path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if res.Text != f.text || res.Pages != f.pages {
			t.Fatalf("%s: got %q (%d pages), want %q (%d pages)", path, res.Text, res.Pages, f.text, f.pages)
		}
	}
}

func mustLocal(t testing.TB, opts ...Option) *Local {
	t.Helper()
	l, err := NewLocal(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
