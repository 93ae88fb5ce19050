package extract

import (
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// skipped elements hold no visible text.
var skipped = map[atom.Atom]bool{
	atom.Head: true, atom.Script: true, atom.Style: true, atom.Template: true,
	atom.Noscript: true, atom.Svg: true, atom.Iframe: true, atom.Object: true,
}

// blocks are elements that start and end a line.
var blocks = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true,
	atom.Dd: true, atom.Div: true, atom.Dl: true, atom.Dt: true, atom.Fieldset: true,
	atom.Figcaption: true, atom.Figure: true, atom.Footer: true, atom.Form: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Header: true, atom.Hr: true, atom.Li: true, atom.Main: true, atom.Nav: true,
	atom.Ol: true, atom.P: true, atom.Pre: true, atom.Section: true, atom.Table: true,
	atom.Tr: true, atom.Ul: true, atom.Caption: true, atom.Title: true,
}

// extractHTML returns the visible text of an HTML document.
func extractHTML(data []byte) (string, error) {
	doc, err := html.Parse(bytes.NewReader([]byte(normalizeText(data))))
	if err != nil {
		return "", fmt.Errorf("%w: html: %w", ErrCorrupt, err)
	}
	var w htmlWriter
	w.walk(doc)
	return tidyLines(w.b.String()), nil
}

// htmlWriter accumulates visible text while walking the node tree.
type htmlWriter struct {
	b    strings.Builder
	last byte // last byte written, 0 at the start
	pre  int  // depth of <pre>
}

func (w *htmlWriter) walk(n *html.Node) {
	switch {
	case n.Type == html.TextNode:
		w.text(n.Data)
		return
	case n.Type == html.ElementNode && skipped[n.DataAtom]:
		return
	case n.Type == html.ElementNode:
		w.open(n.DataAtom)
		defer w.close(n.DataAtom)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
}

// text writes a text node, collapsing white space outside <pre>.
func (w *htmlWriter) text(s string) {
	if w.pre > 0 || s == "" {
		w.put(s)
		return
	}
	fields := strings.Fields(s)
	if len(fields) == 0 || isHTMLSpace(s[0]) {
		w.space()
	}
	if len(fields) > 0 {
		w.put(strings.Join(fields, " "))
		if isHTMLSpace(s[len(s)-1]) {
			w.space()
		}
	}
}

// space writes one space unless the text is at a line, cell or word start.
func (w *htmlWriter) space() {
	if w.last != 0 && !isHTMLSpace(w.last) {
		w.put(" ")
	}
}

func (w *htmlWriter) put(s string) {
	if s != "" {
		w.b.WriteString(s)
		w.last = s[len(s)-1]
	}
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

func (w *htmlWriter) open(a atom.Atom) {
	switch {
	case a == atom.Pre:
		w.pre++
		w.put("\n")
	case a == atom.Br:
		w.put("\n")
	case blocks[a]:
		w.put("\n")
	}
}

func (w *htmlWriter) close(a atom.Atom) {
	switch {
	case a == atom.Pre:
		w.pre--
		w.put("\n")
	case a == atom.Td || a == atom.Th:
		w.put("\t")
	case blocks[a]:
		w.put("\n")
	}
}

// tidyLines trims trailing spaces and tabs from each line, drops leading and
// trailing blank lines and collapses runs of blank lines to one.
func tidyLines(s string) string {
	var out []string
	blank := false
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimRight(line, "\t ")
		if line == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
