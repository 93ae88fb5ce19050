package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const x2Key = "x2-SECRET-key-42"

// x2textServer checks each request the way the x2text service would and
// answers with status and body.
func x2textServer(t *testing.T, status int, body string, delay time.Duration) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/prefix/api/v1/x2text/process" {
			t.Errorf("got %s %s", r.Method, r.URL.Path)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+x2Key {
			t.Errorf("Authorization = %q", got)
		}
		f, hdr, err := r.FormFile("file")
		if err != nil {
			t.Errorf("multipart file: %v", err)
			http.Error(w, "no file", http.StatusBadRequest)
			return
		}
		data, _ := io.ReadAll(f)
		if hdr.Filename != "scan.pdf" || !bytes.HasPrefix(data, []byte("%PDF-")) {
			t.Errorf("file %q has %d bytes starting %q", hdr.Filename, len(data), data[:min(len(data), 8)])
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestX2TextExtract(t *testing.T) {
	srv := x2textServer(t, 200, "page one\r\n\fpage two", 0)
	x, err := NewX2Text(srv.URL+"/prefix/", x2Key)
	if err != nil {
		t.Fatal(err)
	}
	res, err := x.Extract(context.Background(), bytes.NewReader(buildPDF([]string{"scan"})), "scan.pdf")
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Text: "page one\n\fpage two", Pages: 2, Method: MethodX2Text}
	if *res != want {
		t.Fatalf("got %+v, want %+v", *res, want)
	}
}

func TestX2TextErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		delay    time.Duration
		wantErr  error
		wantCode int
	}{
		{"unauthorized", 401, "invalid key " + x2Key, 0, nil, 401},
		{"server error", 500, "adapter failed", 0, nil, 500},
		{"empty answer", 200, "  \n", 0, ErrNoText, 0},
		{"timeout", 200, "late", time.Minute, context.DeadlineExceeded, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			srv := x2textServer(t, tt.status, tt.body, tt.delay)
			x, err := NewX2Text(srv.URL+"/prefix", x2Key, WithTimeout(100*time.Millisecond),
				WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			if err != nil {
				t.Fatal(err)
			}
			_, err = x.Extract(context.Background(), bytes.NewReader(buildPDF([]string{"scan"})), "scan.pdf")
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			var se *StatusError
			if tt.wantCode != 0 && (!errors.As(err, &se) || se.StatusCode != tt.wantCode) {
				t.Fatalf("got %v, want StatusError %d", err, tt.wantCode)
			}
			if strings.Contains(fmt.Sprintf("%v %+v", err, err), x2Key) || strings.Contains(logs.String(), x2Key) {
				t.Fatalf("key leaked: %v / %s", err, logs.String())
			}
		})
	}
}

func TestNewX2TextRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name, url, key string
		opts           []Option
	}{
		{"relative url", "/x2text", "k", nil},
		{"no key", "http://x2text:3004", "", nil},
		{"zero timeout", "http://x2text:3004", "k", []Option{WithTimeout(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewX2Text(tt.url, tt.key, tt.opts...)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got %v, want ErrInvalidConfig", err)
			}
			if tt.key != "" && strings.Contains(err.Error(), tt.key) {
				t.Fatalf("error names the key: %v", err)
			}
		})
	}
}

func TestX2TextEmptyAndLarge(t *testing.T) {
	x, err := NewX2Text("http://127.0.0.1:1", x2Key, WithMaxSize(10))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Extract(context.Background(), strings.NewReader(""), "a.pdf"); !errors.Is(err, ErrEmpty) {
		t.Fatalf("got %v, want ErrEmpty", err)
	}
	if _, err := x.Extract(context.Background(), strings.NewReader("12345678901"), "a.pdf"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}
