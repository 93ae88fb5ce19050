package documents

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Roots confines local document paths to a set of directories. A path is
// accepted when it is absolute, has no ".." segment, lies inside a root and
// still does after every symbolic link in it is resolved. Files are opened
// through [os.Root], so a link swapped in between the check and the open
// cannot lead outside either. The zero value has no roots and refuses every
// path with [ErrNoRoots]. Roots is safe for concurrent use.
type Roots struct {
	dirs []root
}

// root is one configured directory, as given and with its links resolved.
type root struct {
	given string
	real  string
}

// NewRoots returns Roots for dirs, each an absolute path to an existing
// directory other than "/". It fails with [ErrInvalidConfig] otherwise.
func NewRoots(dirs ...string) (*Roots, error) {
	r := &Roots{}
	for _, d := range dirs {
		real, err := realDir(d)
		if err != nil {
			return nil, fmt.Errorf("%w: document root %q: %w", ErrInvalidConfig, d, err)
		}
		r.dirs = append(r.dirs, root{given: filepath.Clean(d), real: real})
	}
	return r, nil
}

// realDir checks a configured root and returns it with links resolved.
func realDir(dir string) (string, error) {
	if !filepath.IsAbs(dir) {
		return "", errors.New("not an absolute path")
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	if real == string(filepath.Separator) {
		return "", errors.New("the file system root would allow every file")
	}
	info, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	if !info.IsDir() {
		return "", errors.New("not a directory")
	}
	return real, nil
}

// Check reports whether path may be read, without opening it: nil for a
// path inside a root (also when the file does not exist yet, since nothing
// outside can be read through it), else [ErrNoRoots], [ErrInvalidPath] or
// [ErrOutsideRoots].
func (r *Roots) Check(path string) error {
	_, _, err := r.resolve(path)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Open opens path for reading after the checks of [Roots.Check]. A missing
// file is [ErrNotFound], an unreadable one [ErrAccessDenied], and anything
// but a regular file [ErrNotRegular]. The caller closes the file.
func (r *Roots) Open(path string) (*os.File, error) {
	dir, rel, err := r.resolve(path)
	if err != nil {
		return nil, err
	}
	fsys, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("documents: open root %q: %w", dir, err)
	}
	defer fsys.Close()
	f, err := fsys.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", openProblem(err), path, err)
	}
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %q", ErrNotRegular, path)
	}
	return f, nil
}

// openProblem classifies an error from os.Root. The standard library does
// not export its "path escapes from parent" error, so it is recognised by
// its text; it only happens when a link changes between check and open.
func openProblem(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ErrNotFound
	case errors.Is(err, fs.ErrPermission):
		return ErrAccessDenied
	case strings.Contains(err.Error(), "escapes"):
		return ErrOutsideRoots
	default:
		return ErrNotRegular
	}
}

// resolve returns the root holding path's target and the target relative
// to it. A target that does not exist is ErrNotFound.
func (r *Roots) resolve(path string) (dir, rel string, err error) {
	if len(r.dirs) == 0 {
		return "", "", ErrNoRoots
	}
	if err := checkLocal(path); err != nil {
		return "", "", err
	}
	clean := filepath.Clean(path)
	if !r.holds(clean, func(d root) string { return d.given }) && !r.holds(clean, func(d root) string { return d.real }) {
		return "", "", fmt.Errorf("%w: %q", ErrOutsideRoots, path)
	}
	target, err := filepath.EvalSymlinks(clean)
	if err != nil {
		return "", "", fmt.Errorf("%w: %q: %w", openProblem(err), path, err)
	}
	for _, d := range r.dirs {
		if within(target, d.real) {
			rel, err := filepath.Rel(d.real, target)
			return d.real, rel, err
		}
	}
	return "", "", fmt.Errorf("%w: %q resolves through a symbolic link to a file outside them", ErrOutsideRoots, path)
}

// holds reports whether path lies inside one of the roots, each taken in
// the form dir returns.
func (r *Roots) holds(path string, dir func(root) string) bool {
	for _, d := range r.dirs {
		if within(path, dir(d)) {
			return true
		}
	}
	return false
}

// within reports whether the clean path is dir or lies below it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))
}

// checkLocal refuses local paths that are relative, hold a NUL byte or a
// ".." segment: such paths are either mistakes or attempts to leave a root.
func checkLocal(path string) error {
	switch {
	case !filepath.IsAbs(path):
		return fmt.Errorf("%w: %q is not an absolute path", ErrInvalidPath, path)
	case strings.ContainsRune(path, 0):
		return fmt.Errorf("%w: path holds a NUL byte", ErrInvalidPath)
	case hasDotDot(path, string(filepath.Separator)):
		return fmt.Errorf("%w: %q has a \"..\" segment", ErrInvalidPath, path)
	}
	return nil
}

// hasDotDot reports whether p has a ".." segment between separators.
func hasDotDot(p, sep string) bool {
	for seg := range strings.SplitSeq(p, sep) {
		if seg == ".." {
			return true
		}
	}
	return false
}
