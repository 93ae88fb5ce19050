package documents

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// tree builds a root with a document, links inside and out, and a secret
// file beside the root; it returns the root and the secret's path.
func tree(t *testing.T) (rootDir, secret string) {
	t.Helper()
	base := t.TempDir()
	rootDir = filepath.Join(base, "docs")
	secret = filepath.Join(base, "secret.txt")
	mustWrite(t, secret, "engine token")
	mustWrite(t, filepath.Join(rootDir, "org", "invoice.txt"), "Invoice 42")
	links := map[string]string{
		"org/alias.txt":   "invoice.txt",       // inside, relative
		"org/escape.txt":  "../../secret.txt",  // outside, relative
		"org/absolute":    secret,              // outside, absolute
		"org/passwd":      "/etc/passwd",       // outside, system file
		"orgdir":          "org",               // a directory link inside
		"outdir":          base,                // a directory link outside
		"org/dangling.md": "../../nowhere.txt", // outside, missing
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(rootDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return rootDir, secret
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRoots(t *testing.T) {
	rootDir, secret := tree(t)
	roots, err := NewRoots(rootDir)
	if err != nil {
		t.Fatal(err)
	}
	in := func(p string) string { return filepath.Join(rootDir, p) }
	tests := []struct {
		name     string
		path     string
		check    error // want from Check (nil: accepted)
		open     error // want from Open (nil: opens and reads "Invoice 42")
		contents string
	}{
		{"file inside", in("org/invoice.txt"), nil, nil, "Invoice 42"},
		{"link inside", in("org/alias.txt"), nil, nil, "Invoice 42"},
		{"directory link inside", in("orgdir/invoice.txt"), nil, nil, "Invoice 42"},
		{"missing inside", in("org/none.pdf"), nil, ErrNotFound, ""},
		{"directory", in("org"), nil, ErrNotRegular, ""},
		{"system file", "/etc/passwd", ErrOutsideRoots, ErrOutsideRoots, ""},
		{"sibling of the root", secret, ErrOutsideRoots, ErrOutsideRoots, ""},
		{"dot-dot", rootDir + "/org/../../secret.txt", ErrInvalidPath, ErrInvalidPath, ""},
		{"dot-dot staying inside", rootDir + "/org/../org/invoice.txt", ErrInvalidPath, ErrInvalidPath, ""},
		{"relative link out", in("org/escape.txt"), ErrOutsideRoots, ErrOutsideRoots, ""},
		{"absolute link out", in("org/absolute"), ErrOutsideRoots, ErrOutsideRoots, ""},
		{"link to /etc/passwd", in("org/passwd"), ErrOutsideRoots, ErrOutsideRoots, ""},
		{"directory link out", in("outdir/secret.txt"), ErrOutsideRoots, ErrOutsideRoots, ""},
		{"dangling link out", in("org/dangling.md"), nil, ErrNotFound, ""},
		{"prefix lookalike", rootDir + "-other/x.txt", ErrOutsideRoots, ErrOutsideRoots, ""},
		{"relative", "org/invoice.txt", ErrInvalidPath, ErrInvalidPath, ""},
		{"nul byte", in("org/invoice.txt\x00.pdf"), ErrInvalidPath, ErrInvalidPath, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := roots.Check(tt.path); !errors.Is(err, tt.check) || (tt.check == nil) != (err == nil) {
				t.Errorf("Check(%q) = %v, want %v", tt.path, err, tt.check)
			}
			f, err := roots.Open(tt.path)
			if tt.open != nil {
				if !errors.Is(err, tt.open) {
					t.Errorf("Open(%q) = %v, want %v", tt.path, err, tt.open)
				}
				if f != nil {
					f.Close()
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", tt.path, err)
			}
			defer f.Close()
			if b, _ := io.ReadAll(f); string(b) != tt.contents {
				t.Errorf("read %q, want %q", b, tt.contents)
			}
		})
	}
}

func TestNoRootsRefusesEveryLocalPath(t *testing.T) {
	for _, p := range []string{"/etc/passwd", "/tmp/x.pdf", "relative.pdf"} {
		if err := (&Roots{}).Check(p); !errors.Is(err, ErrNoRoots) {
			t.Errorf("Check(%q) without roots = %v, want ErrNoRoots", p, err)
		}
	}
}

// TestRootGivenThroughLink: a root configured through a symbolic link
// accepts paths written either way.
func TestRootGivenThroughLink(t *testing.T) {
	rootDir, _ := tree(t)
	link := filepath.Join(t.TempDir(), "docs-link")
	if err := os.Symlink(rootDir, link); err != nil {
		t.Fatal(err)
	}
	roots, err := NewRoots(link)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(link, "org/invoice.txt"), filepath.Join(rootDir, "org/invoice.txt")} {
		if err := roots.Check(p); err != nil {
			t.Errorf("Check(%q) = %v", p, err)
		}
	}
	if err := roots.Check(filepath.Join(link, "org/escape.txt")); !errors.Is(err, ErrOutsideRoots) {
		t.Errorf("escape through a linked root = %v, want ErrOutsideRoots", err)
	}
}

func TestNewRootsRejects(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	mustWrite(t, file, "x")
	for _, dir := range []string{"relative/dir", "/", "/nonexistent-root-dir", file} {
		if _, err := NewRoots(dir); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("NewRoots(%q) = %v, want ErrInvalidConfig", dir, err)
		}
	}
}
