package engine

import (
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
)

// hatchetModule is the module of the Hatchet engine and SDK.
const hatchetModule = "github.com/hatchet-dev/hatchet"

// Version is the Hatchet engine version linked into this binary, so it
// cannot drift from go.mod: read from the build information or, where that
// lists no dependencies (test binaries), from the module path the linked
// SDK was compiled from; "unknown" when neither says.
var Version = linkedVersion()

func linkedVersion() string {
	info, _ := debug.ReadBuildInfo()
	if v := versionOf(info, hatchetModule); v != "" {
		return v
	}
	file, _ := runtime.FuncForPC(reflect.ValueOf(hatchet.NewClient).Pointer()).FileLine(0)
	if v := versionInPath(file, hatchetModule); v != "" {
		return v
	}
	return "unknown"
}

// versionOf returns the version of the dependency path in info (its
// replacement's, if replaced by a module), or "".
func versionOf(info *debug.BuildInfo, path string) string {
	if info == nil {
		return ""
	}
	for _, m := range info.Deps {
		if m.Path != path {
			continue
		}
		if m.Replace != nil && m.Replace.Version != "" {
			return m.Replace.Version
		}
		return m.Version
	}
	return ""
}

// versionInPath returns the version in a module cache path such as
// ".../github.com/hatchet-dev/hatchet@v0.105.0/sdks/go/client.go", or "".
func versionInPath(file, module string) string {
	_, rest, ok := strings.Cut(file, module+"@")
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, "/")
	return v
}
