package workflows

import (
	"testing"

	"github.com/google/cel-go/cel"
)

// TestOrgKey evaluates the organisation concurrency key the way Hatchet's
// engine does (a CEL program over input and additional_metadata): a request
// through the shim carries its organisation in the run metadata only, and
// must still get its organisation's group rather than the shared "".
func TestOrgKey(t *testing.T) {
	env, err := cel.NewEnv(
		cel.Variable("input", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("additional_metadata", cel.MapType(cel.StringType, cel.DynType)),
	)
	if err != nil {
		t.Fatal(err)
	}
	ast, iss := env.Compile(orgKey)
	if iss.Err() != nil {
		t.Fatalf("compile %s: %v", orgKey, iss.Err())
	}
	prg, err := env.Program(ast)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name        string
		input, meta map[string]any
		want        string
	}{
		{"input names it", map[string]any{"organization_id": "org-a"}, map[string]any{}, "org-a"},
		{"metadata only (the shim)", map[string]any{"settings": map[string]any{}}, map[string]any{"organization_id": "org-b"}, "org-b"},
		{"input wins", map[string]any{"organization_id": "org-a"}, map[string]any{"organization_id": "org-b"}, "org-a"},
		{"neither", map[string]any{}, map[string]any{}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := prg.Eval(map[string]any{"input": c.input, "additional_metadata": c.meta})
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := out.Value().(string); !ok || got != c.want {
				t.Errorf("key = %v, want %q", out.Value(), c.want)
			}
		})
	}
}
