//go:build !hatchet_external

package engine

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hatchet-dev/hatchet/pkg/cleanup"
)

// TestWithoutStep drops exactly the steps of one name.
func TestWithoutStep(t *testing.T) {
	tests := []struct {
		name  string
		steps []string
		want  []string
	}{
		{"among others", []string{"cron", partitionerSleep, "database"}, []string{"cron", "database"}},
		{"twice", []string{partitionerSleep, "cron", partitionerSleep}, []string{"cron"}},
		{"absent", []string{"cron", "database"}, []string{"cron", "database"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c cleanup.Cleanup
			for _, s := range tt.steps {
				c.Add(func() error { return nil }, s)
			}
			withoutStep(&c, partitionerSleep)
			var got []string
			for _, f := range c.Fns {
				got = append(got, f.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("steps = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPartitionerSleepNamed keeps partitionerSleep the name the Hatchet
// module in go.mod gives its partitioner's sleep: an upgrade that renamed it
// would silently add 5 s to every stop again.
func TestPartitionerSleepNamed(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/hatchet-dev/hatchet").Output()
	if err != nil {
		t.Fatalf("locate the hatchet module: %v", err)
	}
	file := filepath.Join(strings.TrimSpace(string(out)), "internal", "services", "partition", "partition.go")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read the partitioner's source: %v", err)
	}
	if !strings.Contains(string(src), strconv.Quote(partitionerSleep)) {
		t.Fatalf("%s names no teardown step %q: find the sleep's new name and update partitionerSleep", file, partitionerSleep)
	}
}
