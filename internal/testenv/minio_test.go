package testenv

import (
	"strings"
	"testing"
)

func TestMinIOBinaryNamesTheFix(t *testing.T) {
	t.Setenv("MINIO_BIN", "/nonexistent/minio")
	if _, err := MinIOBinary(); err == nil || !strings.Contains(err.Error(), "MINIO_BIN") {
		t.Errorf("MinIOBinary with a missing MINIO_BIN = %v, want an error naming it", err)
	}
	t.Setenv("MINIO_BIN", "")
	t.Setenv("PATH", "")
	if _, err := minioBinary(t.TempDir()); err == nil || !strings.Contains(err.Error(), "scripts/setup.sh") {
		t.Errorf("minioBinary without a binary = %v, want it to point at scripts/setup.sh", err)
	}
}
