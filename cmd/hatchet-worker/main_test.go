package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/unstract/hatchet-worker/internal/cli"
)

// TestHelpExits0 checks that asking a command for help prints it and
// succeeds, instead of starting the service or calling it a usage error.
func TestHelpExits0(t *testing.T) {
	tests := [][]string{
		{"serve", "--help"}, {"serve", "-h"}, {"--help"},
		{"workflows", "validate", "--help"}, {"workflows", "list", "-h"},
		{"workflows", "register", "--help"}, {"workflows", "test", "--help"},
		{"celery", "call", "--help"},
		{"runs", "list", "--help"}, {"runs", "show", "-h"}, {"runs", "cancel", "--help"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), args, &out, &errb); code != cli.ExitOK {
				t.Fatalf("exit code %d, want 0; stderr:\n%s", code, &errb)
			}
			if !strings.Contains(strings.ToLower(out.String()+errb.String()), "usage") {
				t.Errorf("no usage printed:\n%s%s", &out, &errb)
			}
		})
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"serve", "extra"}, &out, &errb); code != cli.ExitUsage {
		t.Errorf("serve extra = %d, want %d", code, cli.ExitUsage)
	}
}

func TestUnknownCommandExits2(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"frobnicate"}, &out, &errb); code != cli.ExitUsage {
		t.Errorf("exit code %d, want %d", code, cli.ExitUsage)
	}
	if !strings.Contains(errb.String(), "unknown command") {
		t.Errorf("stderr = %q", errb.String())
	}
}
