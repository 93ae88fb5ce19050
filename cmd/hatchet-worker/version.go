package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/unstract/hatchet-worker/internal/engine"
)

// revision is the VCS revision the binary was built from ("+dirty" when the
// tree had changes), or "unknown" when the build recorded none.
func revision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "unknown", ""
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			rev = s.Value[:12]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "+dirty"
		}
	}
	return rev + dirty
}

// versionLine is what `hatchet-worker version` prints.
func versionLine() string {
	return fmt.Sprintf("hatchet-worker %s (hatchet engine %s, %s)", revision(), engine.Version, runtime.Version())
}
