package extract

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// x2textPath is the x2text service's extraction endpoint.
const x2textPath = "/api/v1/x2text/process"

// maxAnswer caps how much of an x2text answer is read.
const maxAnswer = 256 << 20

// X2Text extracts text with the platform's x2text service. It is safe for
// concurrent use.
type X2Text struct {
	endpoint string
	apiKey   string
	cfg      config
}

// NewX2Text returns a client for the x2text service at baseURL (scheme, host
// and optional path prefix), authenticating with apiKey. It fails with
// [ErrInvalidConfig] on a malformed URL, an empty key or a non-positive size
// limit or timeout.
func NewX2Text(baseURL, apiKey string, opts ...Option) (*X2Text, error) {
	cfg := newConfig(opts)
	u, err := url.Parse(baseURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, fmt.Errorf("%w: x2text URL must be an absolute http(s) URL", ErrInvalidConfig)
	case apiKey == "":
		return nil, fmt.Errorf("%w: x2text API key is empty", ErrInvalidConfig)
	case cfg.maxSize <= 0 || cfg.timeout <= 0:
		return nil, fmt.Errorf("%w: max size and timeout must be positive", ErrInvalidConfig)
	}
	return &X2Text{endpoint: strings.TrimRight(u.String(), "/") + x2textPath, apiKey: apiKey, cfg: cfg}, nil
}

// Extract uploads the document and returns the service's text. Pages is one
// more than the number of form feeds in the answer.
func (x *X2Text) Extract(ctx context.Context, r io.Reader, name string) (*Result, error) {
	data, err := readAll(r, name, x.cfg.maxSize)
	if err != nil {
		return nil, err
	}
	text, err := x.post(ctx, data, name)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("%w: %q (x2text)", ErrNoText, name)
	}
	pages := strings.Count(text, pageSeparator) + 1
	x.cfg.log.DebugContext(ctx, "extracted text", slog.String("file", name),
		slog.String("format", MethodX2Text), slog.Int("pages", pages), slog.Int("bytes", len(text)))
	return &Result{Text: text, Pages: pages, Method: MethodX2Text}, nil
}

// post sends data as the multipart field "file" and returns the answer.
func (x *X2Text) post(ctx context.Context, data []byte, name string) (string, error) {
	body, contentType, err := multipartFile(data, name)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, x.cfg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.endpoint, body)
	if err != nil {
		return "", fmt.Errorf("extract: x2text: build request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+x.apiKey)
	res, err := x.cfg.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("extract: x2text %q: %w", name, err)
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return "", fmt.Errorf("extract: x2text %q: read answer: %w", name, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return "", &StatusError{StatusCode: res.StatusCode, Body: x.redact(answer)}
	}
	return normalizeText(answer), nil
}

// redact returns the start of an error answer without the API key.
func (x *X2Text) redact(answer []byte) string {
	s := strings.ReplaceAll(string(answer), x.apiKey, "[REDACTED]")
	if len(s) > 512 {
		s = strings.ToValidUTF8(s[:512], "") + "…"
	}
	return strings.TrimSpace(s)
}

// multipartFile encodes data as a multipart form with one field, "file".
func multipartFile(data []byte, name string) (io.Reader, string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if name == "" {
		name = "document"
	}
	part, err := mw.CreateFormFile("file", name)
	if err != nil {
		return nil, "", fmt.Errorf("extract: x2text: encode form: %w", err)
	}
	if _, err := part.Write(data); err != nil {
		return nil, "", fmt.Errorf("extract: x2text: encode form: %w", err)
	}
	if err := mw.Close(); err != nil {
		return nil, "", fmt.Errorf("extract: x2text: encode form: %w", err)
	}
	return &buf, mw.FormDataContentType(), nil
}
