package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

// The staticcheck command scripts/test.sh runs, its module and pinned version.
const (
	staticcheckTool    = "honnef.co/go/tools/cmd/staticcheck"
	staticcheckModule  = "honnef.co/go/tools"
	staticcheckVersion = "v0.8.2"
)

// TestToolsPinned checks that scripts/test.sh downloads no tool at test
// time: staticcheck is a tool dependency in go.mod, at its pinned version,
// run with `go tool`, and nothing is fetched with `go run …@version`.
func TestToolsPinned(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := modfile.Parse("go.mod", raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	tool := false
	for _, tl := range mod.Tool {
		tool = tool || tl.Path == staticcheckTool
	}
	if !tool {
		t.Errorf("go.mod has no `tool %s` directive", staticcheckTool)
	}
	for _, r := range mod.Require {
		if r.Mod.Path == staticcheckModule && r.Mod.Version != staticcheckVersion {
			t.Errorf("go.mod requires %s %s, want %s", staticcheckModule, r.Mod.Version, staticcheckVersion)
		}
	}
	script, err := os.ReadFile(filepath.Join(root, "scripts", "test.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), "go tool staticcheck ./...") {
		t.Error("scripts/test.sh does not run `go tool staticcheck ./...`")
	}
	if m := regexp.MustCompile(`go run \S+@\S+`).Find(script); m != nil {
		t.Errorf("scripts/test.sh downloads a tool at test time: %s", m)
	}
}
