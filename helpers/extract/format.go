package extract

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
)

// Format is a document format the local extractor handles.
type Format string

// Formats handled by [Local].
const (
	FormatPDF  Format = "pdf"
	FormatDOCX Format = "docx"
	FormatHTML Format = "html"
	FormatCSV  Format = "csv"
	FormatTSV  Format = "tsv"
	FormatText Format = "text"
)

// byExtension maps lower-case file extensions to formats.
var byExtension = map[string]Format{
	".pdf": FormatPDF, ".docx": FormatDOCX,
	".html": FormatHTML, ".htm": FormatHTML, ".xhtml": FormatHTML,
	".csv": FormatCSV, ".tsv": FormatTSV,
	".txt": FormatText, ".text": FormatText, ".md": FormatText, ".markdown": FormatText,
	".rst": FormatText, ".log": FormatText, ".json": FormatText,
}

var (
	pdfMagic = []byte("%PDF-")
	zipMagic = []byte("PK\x03\x04")
)

// Detect returns the format of data, named name. Content decides first: a
// "%PDF-" header (at the start, or within the first KiB for a .pdf name) means PDF, and a ZIP archive holding
// word/document.xml means DOCX. Then the extension decides, and for unknown
// extensions content sniffing accepts HTML and plain text. A name claiming PDF
// or DOCX over other content, or an unreadable ZIP, is [ErrCorrupt]; binary
// or unknown content is [ErrUnsupportedFormat].
func Detect(name string, data []byte) (Format, error) {
	ext := strings.ToLower(filepath.Ext(name))
	switch {
	case isPDF(ext, data):
		return FormatPDF, nil
	case bytes.HasPrefix(data, zipMagic):
		return detectZip(name, data)
	}
	format, known := byExtension[ext]
	switch {
	case format == FormatPDF || format == FormatDOCX:
		return "", fmt.Errorf("%w: %q has a %s name but not %s content", ErrCorrupt, name, ext, format)
	case isBinary(data):
		return "", fmt.Errorf("%w: %q is binary", ErrUnsupportedFormat, name)
	case known:
		return format, nil
	}
	switch ct := http.DetectContentType(data); {
	case strings.HasPrefix(ct, "text/html"):
		return FormatHTML, nil
	case strings.HasPrefix(ct, "text/plain"):
		return FormatText, nil
	default:
		return "", fmt.Errorf("%w: %q (%s)", ErrUnsupportedFormat, name, ct)
	}
}

// detectZip accepts a ZIP archive as DOCX when it holds word/document.xml.
func detectZip(name string, data []byte) (Format, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("%w: %q: zip: %w", ErrCorrupt, name, err)
	}
	for _, f := range zr.File {
		if f.Name == docxBody {
			return FormatDOCX, nil
		}
	}
	return "", fmt.Errorf("%w: %q is a zip archive without %s", ErrUnsupportedFormat, name, docxBody)
}

// isBinary reports whether the start of data holds a NUL byte, which text
// never does.
func isBinary(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), 8192)], 0) >= 0
}

// isPDF reports whether data starts with a PDF header, allowing leading
// junk within the first KiB when the name says PDF.
func isPDF(ext string, data []byte) bool {
	if bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), pdfMagic) {
		return true
	}
	return ext == ".pdf" && bytes.Contains(data[:min(len(data), 1024)], pdfMagic)
}
