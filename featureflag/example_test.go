package featureflag_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/unstract/hatchet-worker/featureflag"
)

// Example routes requests with a flags file that rolls one workflow out to
// half of the organisations, keeps one org on Celery, and lets requests
// choose for themselves.
func Example() {
	dir, err := os.MkdirTemp("", "flags")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "flags.yaml")
	err = os.WriteFile(path, []byte(`
allow_request_override: true
workflows:
  document-processing-v2: {percentage: 50, deny_orgs: [org_b]}
`), 0o600)
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx := context.Background()
	flags, err := featureflag.New(ctx, featureflag.Config{File: path},
		featureflag.WithKnownWorkflows("document-processing-v2"))
	if err != nil {
		fmt.Println(err)
		return
	}
	// In the service: go flags.Watch(ctx) to pick up edits without a restart.

	yes := true
	for _, r := range []featureflag.Request{
		{Workflow: "document-processing-v2", Org: "org_b"},
		{Workflow: "document-processing-v2", Org: "org_b", Override: &yes},
		{Workflow: "document-processing-v2", Org: "org_a"},
		{Workflow: "other", Org: "org_a"},
	} {
		fmt.Println(flags.Decide(r))
	}
	fmt.Println(flags.Snapshot().Source == "file:"+path)
	// Output:
	// document-processing-v2 -> celery (org-deny)
	// document-processing-v2 -> hatchet (request)
	// document-processing-v2 -> celery (percentage 50%)
	// other -> celery (global)
	// true
}
