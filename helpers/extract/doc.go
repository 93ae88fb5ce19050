// Package extract turns uploaded documents into plain text, replacing the
// platform's x2text/runner step.
//
// # Model
//
// An [Extractor] reads one document from an io.Reader and returns a
// [Result]: the text, the page count and the method used. Two extractors
// exist:
//
//   - [Local] extracts in-process, in pure Go, from PDF, DOCX, HTML, CSV/TSV
//     and plain text or Markdown.
//   - [X2Text] sends the document to the platform's x2text service
//     (`POST {base}/api/v1/x2text/process`, multipart field "file", bearer
//     key) and returns its plain-text answer.
//
// [New] picks one from configuration, and [ExtractFile] runs an extractor on a
// file path.
//
// # Formats
//
// [Detect] decides the format from the content first (a "%PDF-" header; a ZIP
// archive holding word/document.xml) and the file name's extension second,
// falling back to sniffing text and HTML. The text each format yields:
//
//   - PDF: each page's text objects in content order, pages separated by a
//     form feed ("\f"); Pages is the document's page count.
//   - DOCX: the main document body; paragraphs and breaks become new lines,
//     tabs stay tabs, table cells are separated by tabs and rows by new lines.
//     Headers, footers and comments are left out.
//   - HTML: visible text; script, style, template and head content is
//     skipped, block elements and <br> start new lines, table cells are
//     separated by tabs, white space is collapsed outside <pre>.
//   - CSV (and TSV): one line per record, cells joined by a tab; new lines
//     inside a cell become spaces.
//   - Text and Markdown: the text itself, with a byte-order mark removed,
//     CRLF turned into LF and invalid UTF-8 replaced by U+FFFD.
//
// Non-paginated formats report one page. Local results are trimmed of leading
// and trailing white space.
//
// # Errors
//
// Callers branch with errors.Is on [ErrUnsupportedFormat], [ErrEmpty],
// [ErrCorrupt], [ErrEncrypted], [ErrTooLarge] and [ErrNoText] (a readable
// document without any text, such as a scanned PDF that needs OCR), and
// inspect x2text failures with errors.As on [*StatusError]. Library panics on
// malformed input are recovered and reported as [ErrCorrupt]. The x2text key
// never appears in errors or logs.
package extract
