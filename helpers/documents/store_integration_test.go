//go:build integration

package documents_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/helpers/documents"
	"github.com/unstract/hatchet-worker/internal/testenv"
)

func storeFor(t *testing.T, m *testenv.MinIO, key, secret string) *documents.ObjectStore {
	t.Helper()
	s, err := documents.NewObjectStore(documents.Credentials{Provider: documents.ProviderMinIO, EndpointURL: m.Endpoint(), Key: key, Secret: secret},
		documents.WithRetries(1), documents.WithReadTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestObjectStore reads from a real MinIO server: an object, a missing
// object and bucket, wrong keys, an oversized object, and a server that is
// down, each classified as callers branch on.
func TestObjectStore(t *testing.T) {
	m := testenv.StartMinIO(t)
	m.Put(t, "unstract", "execution/org/doc.txt", []byte("Invoice 42"))
	good := storeFor(t, m, testenv.MinIOAccessKey, testenv.MinIOSecretKey)
	const wrongSecret = "not-the-secret-xyzzy"
	tests := []struct {
		name          string
		store         *documents.ObjectStore
		bucket, key   string
		max           int64
		want          error
		wantRetryable bool
	}{
		{"object", good, "unstract", "execution/org/doc.txt", 1 << 20, nil, false},
		{"missing object", good, "unstract", "execution/org/none.pdf", 1 << 20, documents.ErrNotFound, false},
		{"missing bucket", good, "nobucket", "execution/x.pdf", 1 << 20, documents.ErrNotFound, false},
		{"wrong secret", storeFor(t, m, testenv.MinIOAccessKey, wrongSecret), "unstract", "execution/org/doc.txt", 1 << 20, documents.ErrAccessDenied, false},
		{"unknown key", storeFor(t, m, "nobody", wrongSecret), "unstract", "execution/org/doc.txt", 1 << 20, documents.ErrAccessDenied, false},
		{"too large", good, "unstract", "execution/org/doc.txt", 5, documents.ErrTooLarge, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, size, err := tt.store.Open(context.Background(), tt.bucket, tt.key, tt.max)
			if tt.want != nil {
				if !errors.Is(err, tt.want) || documents.Retryable(err) != tt.wantRetryable {
					t.Fatalf("err = %v, want %v (retryable %v)", err, tt.want, tt.wantRetryable)
				}
				t.Log(err)
				if strings.Contains(err.Error(), wrongSecret) || strings.Contains(err.Error(), testenv.MinIOSecretKey) {
					t.Errorf("error shows a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer body.Close()
			b, err := io.ReadAll(body)
			if err != nil || string(b) != "Invoice 42" || size != 10 {
				t.Errorf("read %q (size %d), %v", b, size, err)
			}
		})
	}
	t.Run("server down", func(t *testing.T) {
		m.Stop()
		_, _, err := good.Open(context.Background(), "unstract", "execution/org/doc.txt", 1<<20)
		if !errors.Is(err, documents.ErrUnavailable) || !documents.Retryable(err) {
			t.Fatalf("err = %v, want ErrUnavailable, retryable", err)
		}
		t.Log(err)
	})
}
