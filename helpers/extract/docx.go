package extract

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// docxBody is the archive member holding a DOCX document's main body.
const docxBody = "word/document.xml"

// Namespaces of the WordprocessingML body and of markup-compatibility
// wrappers, whose Fallback branch repeats the Choice branch's text.
const (
	wordNS   = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	compatNS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
)

// maxInflate caps how many bytes of document.xml are decompressed, against
// ZIP bombs.
const maxInflate = 512 << 20

// extractDOCX returns the text of a DOCX document's main body.
func extractDOCX(data []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("%w: docx: %w", ErrCorrupt, err)
	}
	f, err := zr.Open(docxBody)
	if err != nil {
		return "", fmt.Errorf("%w: docx: %w", ErrCorrupt, err)
	}
	defer f.Close()
	var w docxWriter
	if err := w.walk(xml.NewDecoder(io.LimitReader(f, maxInflate))); err != nil {
		return "", fmt.Errorf("%w: docx: %w", ErrCorrupt, err)
	}
	return w.b.String(), nil
}

// docxWriter accumulates a document body's text while walking its XML.
type docxWriter struct {
	b        strings.Builder
	pending  string // separators held back until more text follows
	inText   bool   // inside <w:t>
	cells    int    // depth of <w:tc>
	fallback int    // depth of <mc:Fallback>
}

// walk consumes the decoder's tokens until the end of the document.
func (w *docxWriter) walk(dec *xml.Decoder) error {
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			w.start(t.Name)
		case xml.EndElement:
			w.end(t.Name)
		case xml.CharData:
			if w.inText && w.fallback == 0 {
				w.write(string(t))
			}
		}
	}
}

// write appends s after any pending separators.
func (w *docxWriter) write(s string) {
	w.b.WriteString(w.pending)
	w.pending = ""
	w.b.WriteString(s)
}

func (w *docxWriter) start(n xml.Name) {
	if n.Space == compatNS && n.Local == "Fallback" {
		w.fallback++
	}
	if n.Space != wordNS || w.fallback > 0 {
		return
	}
	switch n.Local {
	case "t":
		w.inText = true
	case "tab":
		w.write("\t")
	case "br", "cr":
		w.write("\n")
	case "noBreakHyphen":
		w.write("-")
	case "tc":
		w.cells++
	}
}

func (w *docxWriter) end(n xml.Name) {
	if n.Space == compatNS && n.Local == "Fallback" {
		w.fallback--
	}
	if n.Space != wordNS || w.fallback > 0 {
		return
	}
	switch n.Local {
	case "t":
		w.inText = false
	case "p":
		if w.cells > 0 {
			w.pending += " "
		} else {
			w.write("\n")
		}
	case "tc":
		w.cells--
		w.pending = strings.TrimRight(w.pending, " ") + "\t"
	case "tr":
		w.pending = ""
		w.write("\n")
	}
}
