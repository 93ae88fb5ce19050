package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ledongthuc/pdf"
)

// pageSeparator separates the text of consecutive PDF pages.
const pageSeparator = "\f"

// Bounds on a PDF's page tree, against cyclic or explosive trees that would
// send the PDF library into an endless loop.
const (
	maxTreeDepth  = 32
	maxTreeNodes  = 100_000
	maxParentHops = maxTreeDepth + 1
)

// pdfResult is what a PDF parse yields.
type pdfResult struct {
	text  string
	pages int
	err   error
}

// extractPDF parses data in its own goroutine and waits at most cfg.timeout
// for it: the PDF library cannot be interrupted, so a parse stuck on hostile
// input is abandoned (and logged) rather than allowed to block the caller.
func (l *Local) extractPDF(ctx context.Context, data []byte) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.timeout)
	defer cancel()
	done := make(chan pdfResult, 1)
	go func() {
		text, pages, err := parsePDF(ctx, data)
		done <- pdfResult{text, pages, err}
	}()
	select {
	case r := <-done:
		return r.text, r.pages, r.err
	case <-ctx.Done():
		l.cfg.log.WarnContext(ctx, "abandoned PDF parse", slog.Any("error", ctx.Err()))
		return "", 0, fmt.Errorf("%w: pdf: parse abandoned: %w", ErrCorrupt, ctx.Err())
	}
}

// parsePDF returns the text of every page, pages separated by a form feed,
// and the page count. Panics from the PDF library on malformed input are
// reported as ErrCorrupt.
func parsePDF(ctx context.Context, data []byte) (text string, pages int, err error) {
	defer func() {
		if r := recover(); r != nil {
			text, pages, err = "", 0, fmt.Errorf("%w: pdf: %v", ErrCorrupt, r)
		}
	}()
	data = data[bytes.Index(data, pdfMagic):]
	doc, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if errors.Is(err, pdf.ErrInvalidPassword) {
		return "", 0, fmt.Errorf("%w: pdf: %w", ErrEncrypted, err)
	}
	if err != nil {
		return "", 0, fmt.Errorf("%w: pdf: %w", ErrCorrupt, err)
	}
	var tree pageTree
	if err := tree.walk(doc.Trailer().Key("Root").Key("Pages"), 0); err != nil {
		return "", 0, err
	}
	if len(tree.pages) == 0 {
		return "", 0, fmt.Errorf("%w: pdf: no pages", ErrCorrupt)
	}
	texts := make([]string, 0, len(tree.pages))
	for i, p := range tree.pages {
		if err := ctx.Err(); err != nil {
			return "", 0, err
		}
		t, err := p.GetPlainText(nil)
		if err != nil {
			return "", 0, fmt.Errorf("%w: pdf: page %d: %w", ErrCorrupt, i+1, err)
		}
		texts = append(texts, strings.TrimSpace(t))
	}
	return strings.Join(texts, pageSeparator), len(tree.pages), nil
}

// pageTree collects a document's pages in order, refusing trees too deep,
// too large or whose pages have endless Parent chains.
type pageTree struct {
	pages []pdf.Page
	nodes int
}

func (t *pageTree) walk(v pdf.Value, depth int) error {
	t.nodes++
	if depth > maxTreeDepth || t.nodes > maxTreeNodes {
		return fmt.Errorf("%w: pdf: page tree too deep or large (cyclic?)", ErrCorrupt)
	}
	if v.Key("Type").Name() == "Page" {
		if parentHops(v) > maxParentHops {
			return fmt.Errorf("%w: pdf: page %d has a cyclic Parent chain", ErrCorrupt, len(t.pages)+1)
		}
		t.pages = append(t.pages, pdf.Page{V: v})
		return nil
	}
	kids := v.Key("Kids")
	for i := range kids.Len() {
		if err := t.walk(kids.Index(i), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// parentHops counts the Parent links above v, stopping past maxParentHops.
func parentHops(v pdf.Value) int {
	hops := 0
	for p := v.Key("Parent"); !p.IsNull() && hops <= maxParentHops; p = p.Key("Parent") {
		hops++
	}
	return hops
}
