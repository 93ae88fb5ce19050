package engine

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionOf reads a module's version from build information.
func TestVersionOf(t *testing.T) {
	dep := func(path, version string, replace *debug.Module) *debug.Module {
		return &debug.Module{Path: path, Version: version, Replace: replace}
	}
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"no build info", nil, ""},
		{"no such dependency", &debug.BuildInfo{Deps: []*debug.Module{dep("x/y", "v1.0.0", nil)}}, ""},
		{"required", &debug.BuildInfo{Deps: []*debug.Module{dep("x/y", "v1.0.0", nil), dep(hatchetModule, "v0.105.0", nil)}}, "v0.105.0"},
		{"replaced", &debug.BuildInfo{Deps: []*debug.Module{dep(hatchetModule, "v0.105.0", dep("fork/hatchet", "v0.105.1", nil))}}, "v0.105.1"},
		{"replaced by a directory", &debug.BuildInfo{Deps: []*debug.Module{dep(hatchetModule, "v0.105.0", dep("../hatchet", "", nil))}}, "v0.105.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionOf(tt.info, hatchetModule); got != tt.want {
				t.Errorf("versionOf = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestVersionInPath reads a module's version from a source path, as test
// binaries (whose build information lists no dependencies) must.
func TestVersionInPath(t *testing.T) {
	tests := []struct{ file, want string }{
		{"/root/go/pkg/mod/github.com/hatchet-dev/hatchet@v0.105.0/sdks/go/client.go", "v0.105.0"},
		{"github.com/hatchet-dev/hatchet@v0.105.0/sdks/go/client.go", "v0.105.0"}, // -trimpath
		{"/src/vendor/github.com/hatchet-dev/hatchet/sdks/go/client.go", ""},
	}
	for _, tt := range tests {
		if got := versionInPath(tt.file, hatchetModule); got != tt.want {
			t.Errorf("versionInPath(%s) = %q, want %q", tt.file, got, tt.want)
		}
	}
	if !strings.HasPrefix(Version, "v") {
		t.Errorf("Version = %q, want the linked SDK's version", Version)
	}
}
