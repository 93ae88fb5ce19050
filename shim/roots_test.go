package shim_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/unstract/hatchet-worker/helpers/documents"
)

// token is the shim API token the tests' servers require.
const token = "shim-test-token"

// documentRoots reads documents from the samples and from a directory
// holding a link to /etc/passwd, for the escape tests; it returns the
// source and the link.
func documentRoots(t testing.TB) (*documents.Source, string) {
	t.Helper()
	samples, _ := filepath.Abs("../helpers/extract/testdata")
	links := t.TempDir()
	link := filepath.Join(links, "passwd.pdf")
	if err := os.Symlink("/etc/passwd", link); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(links, "raise.txt"), []byte("the fixture worker raises on this name"), 0o600); err != nil {
		t.Fatal(err)
	}
	roots, err := documents.NewRoots(samples, links)
	if err != nil {
		t.Fatal(err)
	}
	src, err := documents.NewSource(roots, 0)
	if err != nil {
		t.Fatal(err)
	}
	return src, link
}
