package testenv

import (
	"testing"

	"github.com/unstract/hatchet-worker/helpers/documents"
)

// LocalDocuments is a document source that reads local files inside roots
// and nothing else.
func LocalDocuments(t testing.TB, roots ...string) *documents.Source {
	t.Helper()
	r, err := documents.NewRoots(roots...)
	if err != nil {
		t.Fatal(err)
	}
	src, err := documents.NewSource(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	return src
}
