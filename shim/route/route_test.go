package route

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func noArgs(Call, json.RawMessage) ([]any, map[string]any, error) { return nil, nil, nil }

// TestNewCatalog checks what a catalog refuses and what it indexes.
func TestNewCatalog(t *testing.T) {
	known := []string{"wf-a", "wf-b"}
	tests := []struct {
		name    string
		routes  []Route
		wantErr string
	}{
		{"valid", []Route{{Name: "a", Hatchet: "wf-a"}, {Name: "b", Hatchet: "wf-b", Legacy: &LegacyTask{Task: "t", Queue: "q", Args: noArgs}}}, ""},
		{"empty name", []Route{{Hatchet: "wf-a"}}, "empty name"},
		{"empty Hatchet workflow", []Route{{Name: "a"}}, "empty name or Hatchet workflow"},
		{"twice", []Route{{Name: "a", Hatchet: "wf-a"}, {Name: "a", Hatchet: "wf-b"}}, `route "a" declared twice`},
		{"unregistered", []Route{{Name: "a", Hatchet: "wf-z"}}, `Hatchet workflow "wf-z" is not registered`},
		{"legacy without mapping", []Route{{Name: "a", Hatchet: "wf-a", Legacy: &LegacyTask{Task: "t", Queue: "q"}}}, "argument mapping"},
		{"legacy without queue", []Route{{Name: "a", Hatchet: "wf-a", Legacy: &LegacyTask{Task: "t", Args: noArgs}}}, "argument mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCatalog(tt.routes, known)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewCatalog = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(c) != len(tt.routes) {
				t.Fatalf("NewCatalog = %v (%d routes), %v; want %d routes", c, len(c), err, len(tt.routes))
			}
			for _, r := range tt.routes {
				if c[r.Name].Hatchet != r.Hatchet {
					t.Errorf("catalog[%q] = %+v, want %+v", r.Name, c[r.Name], r)
				}
			}
		})
	}
}

// TestCatalogIndexes checks the spawning routes and the result tasks.
func TestCatalogIndexes(t *testing.T) {
	c := Catalog{
		"plain":  {Name: "plain", Hatchet: "p"},
		"spawns": {Name: "spawns", Hatchet: "s", Spawns: true, ResultTask: "process-files"},
		"dag":    {Name: "dag", Hatchet: "d", ResultTask: "prompts"},
	}
	if got := c.Spawning(); !slices.Equal(got, []string{"spawns"}) {
		t.Errorf("Spawning = %v, want [spawns]", got)
	}
	want := map[string]string{"spawns": "process-files", "dag": "prompts"}
	got := c.ResultTasks()
	if len(got) != len(want) || got["spawns"] != want["spawns"] || got["dag"] != want["dag"] {
		t.Errorf("ResultTasks = %v, want %v", got, want)
	}
}
