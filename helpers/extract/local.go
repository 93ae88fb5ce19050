package extract

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Local extracts text in-process. It is safe for concurrent use.
type Local struct {
	cfg config
}

// NewLocal returns a local extractor. It fails with [ErrInvalidConfig] when
// the size limit or the timeout is not positive.
func NewLocal(opts ...Option) (*Local, error) {
	cfg := newConfig(opts)
	if cfg.maxSize <= 0 || cfg.timeout <= 0 {
		return nil, fmt.Errorf("%w: max size and timeout must be positive", ErrInvalidConfig)
	}
	return &Local{cfg: cfg}, nil
}

// Extract reads the document from r and extracts its text. See the package
// documentation for the formats and errors.
func (l *Local) Extract(ctx context.Context, r io.Reader, name string) (*Result, error) {
	data, err := readAll(r, name, l.cfg.maxSize)
	if err != nil {
		return nil, err
	}
	format, err := Detect(name, data)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("extract %q: %w", name, err)
	}
	text, pages, err := l.extractFormat(ctx, format, data)
	if err != nil {
		return nil, fmt.Errorf("extract %q: %w", name, err)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, fmt.Errorf("%w: %q (%s)", ErrNoText, name, format)
	}
	l.cfg.log.DebugContext(ctx, "extracted text", slog.String("file", name),
		slog.String("format", string(format)), slog.Int("pages", pages), slog.Int("bytes", len(text)))
	return &Result{Text: text, Pages: pages, Method: string(format)}, nil
}

// extractFormat dispatches to the extractor for format.
func (l *Local) extractFormat(ctx context.Context, format Format, data []byte) (string, int, error) {
	switch format {
	case FormatPDF:
		return l.extractPDF(ctx, data)
	case FormatDOCX:
		text, err := extractDOCX(data)
		return text, 1, err
	case FormatHTML:
		text, err := extractHTML(data)
		return text, 1, err
	case FormatCSV:
		text, err := extractCSV(data, ',')
		return text, 1, err
	case FormatTSV:
		text, err := extractCSV(data, '\t')
		return text, 1, err
	case FormatText:
		return normalizeText(data), 1, nil
	default:
		return "", 0, fmt.Errorf("%w: %s", ErrUnsupportedFormat, format)
	}
}
