//go:build integration

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/unstract/hatchet-worker/internal/cli"
	"github.com/unstract/hatchet-worker/internal/testenv"
)

// TestBadStartExits2 runs the real binary with bad configuration and a bad
// token: both exit 2 with a clear message, before anything starts.
func TestBadStartExits2(t *testing.T) {
	bin := buildBinary(t)
	tests := []struct {
		name    string
		env     []string
		want    []string
		notWant string
	}{
		{"config", []string{"LOG_FORMAT=xml", "HATCHET_WORKER_SLOTS=-1", "SHIM_API_TOKEN=t"},
			[]string{"LOG_FORMAT", "HATCHET_WORKER_SLOTS", "2 problems"}, ""},
		{"token", []string{"HATCHET_CLIENT_TOKEN=not-a-jwt", "SERVICE_ADDR=127.0.0.1:0", "SHIM_INSECURE_DEV=true"},
			[]string{"invalid HATCHET_CLIENT_TOKEN"}, "panic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin)
			cmd.Env = append(tt.env, "HOME="+t.TempDir())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if code := exitCode(cmd.Run()); code != cli.ExitUsage {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, cli.ExitUsage, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if tt.notWant != "" && strings.Contains(stderr.String(), tt.notWant) {
				t.Errorf("stderr has %q:\n%s", tt.notWant, stderr.String())
			}
		})
	}
}

// TestConfigCheckedFirst starts the real binary with one bad setting that
// used to be found only after the embedded engine had created and migrated
// its database (or, for a malformed token, after the platform's database had
// been created): each exits 2 with one message, and neither database named
// in DATABASE_URL and PLATFORM_DATABASE_URL was created.
func TestConfigCheckedFirst(t *testing.T) {
	admin := testenv.PostgresURL(t)
	bin := buildBinary(t)
	flagsDir := t.TempDir()
	tests := []struct {
		name, env, want string
	}{
		{"bad LLM_ADAPTERS", `LLM_ADAPTERS={"gpt":{"base_url":"https://api.example/v1","model":""}}`, `LLM_ADAPTERS["gpt"].model is empty`},
		{"missing flags file", "FEATURE_FLAGS_FILE=" + filepath.Join(flagsDir, "flags.yaml"), "FEATURE_FLAGS_FILE"},
		{"bad URL", "X2TEXT_URL=http://", "X2TEXT_URL"},
		{"malformed token", "HATCHET_CLIENT_TOKEN=not-a-jwt", "invalid HATCHET_CLIENT_TOKEN"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := testenv.CheckoutName(fmt.Sprintf("hw_test_config_first_%d", i))
			dropDatabase(t, admin, db)
			dropDatabase(t, admin, db+"_platform")
			cmd := exec.Command(bin)
			cmd.Env = []string{"HOME=" + t.TempDir(), "SHIM_API_TOKEN=t", "SERVICE_ADDR=127.0.0.1:0",
				"HATCHET_EMBEDDED_GRPC_PORT=0", "HATCHET_EMBEDDED_API_PORT=0",
				"DATABASE_URL=postgres://postgres@127.0.0.1:5432/" + db + "?sslmode=disable",
				"PLATFORM_DATABASE_URL=postgres://postgres@127.0.0.1:5432/" + db + "_platform?sslmode=disable", tt.env}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if code := exitCode(cmd.Run()); code != cli.ExitUsage {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, cli.ExitUsage, &stderr)
			}
			if !strings.Contains(stderr.String(), "(1 problem)") || !strings.Contains(stderr.String(), tt.want) ||
				strings.Count(strings.TrimSpace(stderr.String()), "\n") != 1 {
				t.Errorf("stderr is not one problem naming %s:\n%s", tt.want, &stderr)
			}
			for _, name := range []string{db, db + "_platform"} {
				if databaseExists(t, admin, name) {
					t.Errorf("database %s was created although the configuration was bad", name)
				}
			}
		})
	}
}

// TestVersion checks the built binary names its revision, engine and Go
// version.
func TestVersion(t *testing.T) {
	out, err := exec.Command(buildBinary(t), "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	rev := "unknown"
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		rev = string(head[:12]) + `(\+dirty)?`
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	hatchetVersion := regexp.MustCompile(`(?m)^\s*github\.com/hatchet-dev/hatchet (v\S+)`).FindSubmatch(mod)
	if hatchetVersion == nil {
		t.Fatal("go.mod requires no github.com/hatchet-dev/hatchet")
	}
	pattern := `^hatchet-worker ` + rev + ` \(hatchet engine ` + regexp.QuoteMeta(string(hatchetVersion[1])) + `, go1\.\d+`
	if !regexp.MustCompile(pattern).Match(out) {
		t.Errorf("version = %q, want it to match %s", out, pattern)
	}
}
