package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// errNotDir means a filesystem connector's path is not a directory.
var errNotDir = errors.New("not a directory")

// checkFilesystem checks that the path is a readable (and, if asked,
// writable) directory. A hung mount cannot be interrupted, so the probe runs
// aside and the check gives up on it when ctx ends.
func checkFilesystem(ctx context.Context, s Settings) (string, error) {
	done := make(chan error, 1)
	go func() { done <- probeDir(s.Path, s.Writable) }()
	select {
	case err := <-done:
		return "", err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// probeDir stats, lists and optionally writes to the directory at path.
func probeDir(path string, writable bool) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("%s: %w", path, errNotDir)
	}
	if err := readDir(path); err != nil {
		return err
	}
	if writable {
		return writeProbe(path)
	}
	return nil
}

// readDir reads one entry of the directory to prove it is listable.
func readDir(path string) error {
	dir, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = dir.Close() }()
	if _, err := dir.ReadDir(1); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("list %s: %w", path, err)
	}
	return nil
}

// writeProbe creates and removes a hidden file in the directory.
func writeProbe(path string) error {
	f, err := os.CreateTemp(path, ".connector-check-*")
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	name := f.Name()
	closeErr := f.Close()
	if err := errors.Join(closeErr, os.Remove(name)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
