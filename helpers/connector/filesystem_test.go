package connector

import (
	"os"
	"path/filepath"
	"testing"
)

// readOnlyDir returns a directory this process cannot create files in.
// Permission bits do not bind root, so root gets /sys, read-only in the
// machines and containers the tests run on.
func readOnlyDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() == 0 {
		return "/sys"
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	return dir
}

func TestValidateFilesystem(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.txt")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		writable bool
		want     string // empty for success
	}{
		{"readable dir", dir, false, ""},
		{"writable dir", dir, true, ""},
		{"read-only dir, reading", readOnlyDir(t), false, ""},
		{"read-only dir, writing", readOnlyDir(t), true, "write:"},
		{"missing", filepath.Join(dir, "missing"), false, "no such file or directory"},
		{"file, not dir", file, false, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustValidate(t, Settings{Type: TypeFilesystem, Path: tt.path, Writable: tt.writable})
			switch {
			case tt.want == "" && (!res.OK || res.Error != "" || res.LatencyMS <= 0):
				t.Errorf("want ok, got %+v", res)
			case tt.want != "":
				wantFailure(t, res, tt.want)
			}
		})
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".connector-check-*"))
	if len(leftovers) > 0 {
		t.Errorf("write probe left files behind: %v", leftovers)
	}
}
