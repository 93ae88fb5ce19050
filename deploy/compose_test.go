package deploy

import (
	"bufio"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"golang.org/x/mod/modfile"

	"github.com/unstract/hatchet-worker/internal/config"
)

// root is the repository root, where compose.yaml, Dockerfile, README.md and
// go.mod live.
const root = ".."

// hatchetModule is the SDK whose version the hatchet-lite image must match.
const hatchetModule = "github.com/hatchet-dev/hatchet"

// loadProject loads compose.yaml the way `docker compose` does, with env as
// the only environment (the test's own environment must not leak in).
func loadProject(t *testing.T, env ...string) (*types.Project, error) {
	t.Helper()
	return loadFiles(t, []string{"compose.yaml"}, env...)
}

// loadFiles loads the compose files, each over the ones before, as
// `docker compose -f … -f …` does.
func loadFiles(t *testing.T, files []string, env ...string) (*types.Project, error) {
	t.Helper()
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join(root, f))
	}
	opts, err := cli.NewProjectOptions(
		paths,
		cli.WithWorkingDirectory(root),
		cli.WithEnv(env),
	)
	if err != nil {
		t.Fatalf("compose options: %v", err)
	}
	return opts.LoadProject(context.Background())
}

// project loads compose.yaml with the variables it requires set.
func project(t *testing.T) *types.Project {
	t.Helper()
	p, err := loadProject(t, requiredEnv...)
	if err != nil {
		t.Fatalf("load compose.yaml: %v", err)
	}
	return p
}

// service returns the named service or fails the test.
func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("compose.yaml has no service %q", name)
	}
	return s
}

// env returns the value of a service's environment variable ("" when unset).
func env(s types.ServiceConfig, name string) string {
	if v := s.Environment[name]; v != nil {
		return *v
	}
	return ""
}

// requiredEnv are the variables compose.yaml refuses to start without.
var requiredEnv = []string{"SHIM_API_TOKEN=test", "HATCHET_ADMIN_PASSWORD=Test-Passw0rd"}

// TestComposeRequiresSecrets loads the file without each required secret in
// turn: no deployment starts with a missing token or a published password.
func TestComposeRequiresSecrets(t *testing.T) {
	for i, kv := range requiredEnv {
		name, _, _ := strings.Cut(kv, "=")
		t.Run(name, func(t *testing.T) {
			others := slices.Delete(slices.Clone(requiredEnv), i, i+1)
			_, err := loadProject(t, others...)
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Fatalf("loading without %s: err = %v, want one naming it", name, err)
			}
		})
	}
	lite := service(t, project(t), "hatchet-lite")
	if env(lite, "ADMIN_PASSWORD") != "Test-Passw0rd" || env(lite, "ADMIN_EMAIL") != "admin@example.com" {
		t.Errorf("hatchet-lite seeds ADMIN_EMAIL=%q ADMIN_PASSWORD=%q, want the operator's", env(lite, "ADMIN_EMAIL"), env(lite, "ADMIN_PASSWORD"))
	}
}

func TestComposeServices(t *testing.T) {
	p := project(t)
	for _, name := range []string{"postgres", "rabbitmq", "minio", "minio-bucket", "hatchet-lite", "hatchet-token", "hatchet-worker", "celery-worker"} {
		t.Run(name, func(t *testing.T) { service(t, p, name) })
	}
}

// imageTag splits "registry/repo:tag@digest" into its tag and digest.
func imageTag(image string) (tag, digest string) {
	if i := strings.Index(image, "@"); i >= 0 {
		image, digest = image[:i], image[i+1:]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		tag = image[i+1:]
	}
	return tag, digest
}

func TestComposeImagesPinned(t *testing.T) {
	p := project(t)
	for name, s := range p.Services {
		if s.Build != nil {
			continue // built here; its base images are pinned in its Dockerfile
		}
		t.Run(name, func(t *testing.T) {
			tag, digest := imageTag(s.Image)
			if digest == "" && (tag == "" || tag == "latest") {
				t.Errorf("image %q is not pinned: want an explicit tag other than latest", s.Image)
			}
		})
	}
}

func TestHatchetLiteMatchesSDK(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		t.Fatalf("parse go.mod: %v", err)
	}
	var want string
	for _, r := range mf.Require {
		if r.Mod.Path == hatchetModule {
			want = r.Mod.Version
		}
	}
	if want == "" {
		t.Fatalf("go.mod does not require %s", hatchetModule)
	}

	p := project(t)
	for _, name := range []string{"hatchet-lite", "hatchet-token"} {
		s := service(t, p, name)
		if !strings.HasPrefix(s.Image, "ghcr.io/hatchet-dev/hatchet/hatchet-lite:") {
			t.Errorf("%s: image %q, want ghcr.io/hatchet-dev/hatchet/hatchet-lite", name, s.Image)
		}
		if tag, _ := imageTag(s.Image); tag != want {
			t.Errorf("%s: image tag %q, want %q (the %s version in go.mod)", name, tag, want, hatchetModule)
		}
	}
}

func TestComposePorts(t *testing.T) {
	p := project(t)
	tests := []struct {
		service string
		ports   []uint32
	}{
		{"hatchet-lite", []uint32{8888, 7077}},
		{"hatchet-worker", []uint32{8090}},
		{"minio", []uint32{9000}},
	}
	for _, tt := range tests {
		s := service(t, p, tt.service)
		for _, port := range tt.ports {
			t.Run(tt.service+"/"+strconv.Itoa(int(port)), func(t *testing.T) {
				for _, pc := range s.Ports {
					if pc.Target == port && pc.Published == strconv.Itoa(int(port)) {
						return
					}
				}
				t.Errorf("%s does not publish %d:%d (ports %+v)", tt.service, port, port, s.Ports)
			})
		}
	}
}

func TestHatchetWorkerHealthCheck(t *testing.T) {
	s := service(t, project(t), "hatchet-worker")
	if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
		t.Fatal("hatchet-worker has no health check")
	}
	if test := strings.Join(s.HealthCheck.Test, " "); !strings.Contains(test, "/readyz") {
		t.Errorf("health check %q does not ask /readyz", test)
	}
}

func TestHatchetWorkerDependencies(t *testing.T) {
	s := service(t, project(t), "hatchet-worker")
	tests := []struct{ target, condition string }{
		{"postgres", types.ServiceConditionHealthy},
		{"rabbitmq", types.ServiceConditionHealthy},
		{"hatchet-token", types.ServiceConditionCompletedSuccessfully},
		{"minio-bucket", types.ServiceConditionCompletedSuccessfully},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			dep, ok := s.DependsOn[tt.target]
			if !ok {
				t.Fatalf("hatchet-worker does not depend on %s", tt.target)
			}
			if dep.Condition != tt.condition {
				t.Errorf("condition %q, want %q", dep.Condition, tt.condition)
			}
		})
	}
}

// TestHealthyDependenciesHaveHealthChecks: a service_healthy dependency on a
// service without a health check never becomes healthy, and `up` hangs.
func TestHealthyDependenciesHaveHealthChecks(t *testing.T) {
	p := project(t)
	for name, s := range p.Services {
		for target, dep := range s.DependsOn {
			if dep.Condition != types.ServiceConditionHealthy {
				continue
			}
			t.Run(name+"->"+target, func(t *testing.T) {
				hc := service(t, p, target).HealthCheck
				if hc == nil || hc.Disable || len(hc.Test) == 0 {
					t.Errorf("%s waits for %s to be healthy, but %s has no health check", name, target, target)
				}
			})
		}
	}
}

func TestCeleryWorkersShareBroker(t *testing.T) {
	p := project(t)
	worker, legacy := service(t, p, "hatchet-worker"), service(t, p, "celery-worker")
	for _, name := range []string{"CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"} {
		t.Run(name, func(t *testing.T) {
			w, l := env(worker, name), env(legacy, name)
			if w == "" {
				t.Fatalf("hatchet-worker does not set %s", name)
			}
			if w != l {
				t.Errorf("hatchet-worker %s=%q, celery-worker %q", name, w, l)
			}
		})
	}
}

// readmeVariables returns the variables in the README's configuration table,
// rows like "| `NAME` | default | meaning |".
func readmeVariables(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\|\\s*`([A-Z][A-Z0-9_]*)`\\s*\\|")
	vars := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			vars[m[1]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vars) == 0 {
		t.Fatal("README.md has no configuration table")
	}
	return vars
}

func TestHatchetWorkerEnvironmentIsDocumented(t *testing.T) {
	known := readmeVariables(t)
	s := service(t, project(t), "hatchet-worker")
	if len(s.Environment) == 0 {
		t.Fatal("hatchet-worker sets no environment")
	}
	for name := range s.Environment {
		if !known[name] {
			t.Errorf("hatchet-worker sets %s, which is not in the README's configuration table (the service does not read it)", name)
		}
	}
}

// TestHatchetTokenHandOff: the file hatchet-token writes is the file
// hatchet-worker reads, on a volume both mount.
func TestHatchetTokenHandOff(t *testing.T) {
	p := project(t)
	minter, worker := service(t, p, "hatchet-token"), service(t, p, "hatchet-worker")
	file := env(minter, "TOKEN_FILE")
	if file == "" {
		t.Fatal("hatchet-token sets no TOKEN_FILE")
	}
	if cmd := strings.Join(worker.Entrypoint, " "); !strings.Contains(cmd, file) || !strings.Contains(cmd, "HATCHET_CLIENT_TOKEN") {
		t.Errorf("hatchet-worker entrypoint %q does not load %s into HATCHET_CLIENT_TOKEN", cmd, file)
	}
	volumeAt := func(s types.ServiceConfig, dir string) string {
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeVolume && strings.HasPrefix(file, v.Target+"/") && v.Target == dir {
				return v.Source
			}
		}
		return ""
	}
	dir := filepath.Dir(file)
	if a, b := volumeAt(minter, dir), volumeAt(worker, dir); a == "" || a != b {
		t.Errorf("volume at %s: hatchet-token %q, hatchet-worker %q; want the same named volume", dir, a, b)
	}
}

// TestBindMountsExist: every file compose.yaml mounts from the repository is
// there (a rename would otherwise surface only at `docker compose up`).
func TestBindMountsExist(t *testing.T) {
	p := project(t)
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s mounts %s: %v", name, v.Source, err)
			}
		}
		if s.Build != nil {
			paths := []string{s.Build.Context}
			for _, c := range s.Build.AdditionalContexts {
				paths = append(paths, c)
			}
			for _, path := range paths {
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s builds from %s: %v", name, path, err)
				}
			}
		}
	}
}

// finalStage returns the instructions of the Dockerfile's last stage, one per
// logical line (continuations joined), comments dropped.
func finalStage(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	var cur strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if body, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(trimmed)
		if s := strings.TrimSpace(cur.String()); s != "" {
			lines = append(lines, s)
		}
		cur.Reset()
	}
	start := -1
	for i, l := range lines {
		if strings.EqualFold(strings.Fields(l)[0], "FROM") {
			start = i
		}
	}
	if start < 0 {
		t.Fatalf("%s has no FROM", path)
	}
	return lines[start:]
}

func TestDockerfile(t *testing.T) {
	stage := finalStage(t, filepath.Join(root, "Dockerfile"))
	var exposes, nonRoot, entrypoint bool
	for _, l := range stage {
		f := strings.Fields(l)
		switch strings.ToUpper(f[0]) {
		case "EXPOSE":
			exposes = exposes || slices.ContainsFunc(f[1:], func(p string) bool { return p == "8090" || p == "8090/tcp" })
		case "USER":
			nonRoot = len(f) > 1 && f[1] != "root" && !strings.HasPrefix(f[1], "0")
		case "ENTRYPOINT":
			entrypoint = strings.Contains(l, `"/hatchet-worker"`)
		}
	}
	if !exposes {
		t.Error("the Dockerfile's final stage does not EXPOSE 8090")
	}
	if !nonRoot {
		t.Error("the Dockerfile's final stage does not switch to a non-root USER")
	}
	if !entrypoint {
		t.Error(`the Dockerfile's final stage has no ENTRYPOINT ["/hatchet-worker"]`)
	}
}

// TestHatchetWorkerReadsMinIO: the worker's storage variables are what the
// service accepts and name the compose MinIO with its own root keys, and the
// bucket the one-shot creates is the prefixes' bucket.
func TestHatchetWorkerReadsMinIO(t *testing.T) {
	p := project(t)
	worker, minio, bucket := service(t, p, "hatchet-worker"), service(t, p, "minio"), service(t, p, "minio-bucket")
	environ := []string{"SHIM_API_TOKEN=t"}
	for k, v := range worker.Environment {
		if v != nil && (strings.Contains(k, "STORAGE") || strings.HasSuffix(k, "_DIR_PREFIX")) {
			environ = append(environ, k+"="+*v)
		}
	}
	cfg, err := config.Load(environ)
	if err != nil {
		t.Fatalf("the service refuses compose's storage settings: %v", err)
	}
	for name, fs := range map[string]config.FileStorage{"execution": cfg.Documents.ExecutionStorage, "api": cfg.Documents.APIStorage} {
		if fs.Provider != config.ProviderMinIO || fs.EndpointURL != "http://minio:9000" ||
			fs.Key != env(minio, "MINIO_ROOT_USER") || fs.Secret != env(minio, "MINIO_ROOT_PASSWORD") {
			t.Errorf("%s storage = %+v, want the compose MinIO with its root keys", name, fs)
		}
	}
	for _, prefix := range []string{cfg.Documents.ExecutionPrefix, cfg.Documents.APIPrefix} {
		b, _, _ := strings.Cut(prefix, "/")
		if cmd := strings.Join(bucket.Entrypoint, " "); !strings.Contains(cmd, "mb --ignore-existing platform/"+b) {
			t.Errorf("minio-bucket (%s) does not create bucket %q of prefix %q", cmd, b, prefix)
		}
	}
}

// TestHatchetWorkerRunsEveryWorkflow: compose gives the worker what each
// workflow needs, in settings the service accepts: the platform database
// (created by the init script, on the compose Postgres), the LLM adapters and
// x2text passed through from the operator's environment, a mounted documents
// directory that DOCUMENTS_ROOTS names, and the dashboard link.
func TestHatchetWorkerRunsEveryWorkflow(t *testing.T) {
	adapters := `{"default": {"base_url": "http://host.docker.internal:11434/v1", "model": "llama3.2"}}`
	p, err := loadProject(t, append(requiredEnv, "LLM_ADAPTERS="+adapters, "X2TEXT_URL=http://x2text:3004")...)
	if err != nil {
		t.Fatal(err)
	}
	worker := service(t, p, "hatchet-worker")
	var environ []string
	for k, v := range worker.Environment {
		if v != nil {
			environ = append(environ, k+"="+*v)
		}
	}
	cfg, err := config.Load(environ, config.UseHelpers, config.UseShim)
	if err != nil {
		t.Fatalf("the service refuses compose's settings: %v", err)
	}
	if a, ok := cfg.Helpers.Adapters["default"]; !ok || a.BaseURL != "http://host.docker.internal:11434/v1" {
		t.Errorf("LLM adapters = %+v, want the operator's LLM_ADAPTERS", cfg.Helpers.Adapters)
	}
	if cfg.Helpers.X2TextURL != "http://x2text:3004" {
		t.Errorf("X2TEXT_URL = %q, want the operator's", cfg.Helpers.X2TextURL)
	}
	for name, raw := range map[string]string{"PLATFORM_DATABASE_URL": cfg.Platform.DatabaseURL, "DATABASE_URL": cfg.Embedded.DatabaseURL} {
		host, db := databaseOf(t, raw)
		if _, ok := p.Services[host]; !ok || !initCreates(t, db) {
			t.Errorf("%s = %s: want a database the init script creates on a compose service", name, raw)
		}
	}
	if !mounts(worker, cfg.Documents.Roots) {
		t.Errorf("DOCUMENTS_ROOTS=%s is not a directory mounted into hatchet-worker", cfg.Documents.Roots)
	}
	if cfg.Shim.DashboardURL != "http://localhost:"+publishedPort(t, service(t, p, "hatchet-lite"), 8888) {
		t.Errorf("HATCHET_DASHBOARD_URL = %q, want hatchet-lite's published dashboard", cfg.Shim.DashboardURL)
	}
}

// databaseOf returns the host and database name of a Postgres URL.
func databaseOf(t *testing.T, raw string) (host, db string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname(), strings.TrimPrefix(u.Path, "/")
}

// initCreates reports whether deploy/postgres-init.sql creates database db.
func initCreates(t *testing.T, db string) bool {
	t.Helper()
	sql, err := os.ReadFile("postgres-init.sql")
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`(?m)^CREATE DATABASE ` + regexp.QuoteMeta(db) + `;`).Match(sql)
}

// mounts reports whether s mounts a volume or directory at target.
func mounts(s types.ServiceConfig, target string) bool {
	return slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == target })
}

// publishedPort returns the host port s publishes its container port on.
func publishedPort(t *testing.T, s types.ServiceConfig, container uint32) string {
	t.Helper()
	for _, p := range s.Ports {
		if p.Target == container {
			return p.Published
		}
	}
	t.Fatalf("%s publishes no port %d", s.Name, container)
	return ""
}

// TestComposeReplicas loads compose.replicas.yaml over compose.yaml: the
// replicas publish no port of their own, shim-proxy is the way in once they
// are healthy, and the replicas believe its X-Forwarded-For.
func TestComposeReplicas(t *testing.T) {
	for _, tt := range []struct {
		env  []string
		want int
	}{{nil, 3}, {[]string{"HATCHET_WORKER_REPLICAS=5"}, 5}} {
		p, err := loadFiles(t, []string{"compose.yaml", "compose.replicas.yaml"}, append(requiredEnv, tt.env...)...)
		if err != nil {
			t.Fatalf("load compose.yaml with compose.replicas.yaml: %v", err)
		}
		w := service(t, p, "hatchet-worker")
		if w.Deploy == nil || w.Deploy.Replicas == nil || *w.Deploy.Replicas != tt.want {
			t.Errorf("env %v: hatchet-worker deploy %+v, want %d replicas", tt.env, w.Deploy, tt.want)
		}
		if len(w.Ports) != 0 {
			t.Errorf("replicas publish ports %+v; only one of them could bind a fixed host port", w.Ports)
		}
		if _, err := (config.Shim{TrustedProxies: env(w, "SHIM_TRUSTED_PROXIES")}).Proxies(); err != nil || env(w, "SHIM_TRUSTED_PROXIES") == "" {
			t.Errorf("SHIM_TRUSTED_PROXIES=%q: %v", env(w, "SHIM_TRUSTED_PROXIES"), err)
		}
		proxy := service(t, p, "shim-proxy")
		if d, ok := proxy.DependsOn["hatchet-worker"]; !ok || d.Condition != types.ServiceConditionHealthy {
			t.Errorf("shim-proxy depends on %+v, want hatchet-worker healthy", proxy.DependsOn)
		}
		if len(proxy.Ports) != 1 || proxy.Ports[0].Target != 8090 || proxy.Ports[0].Published != "8090" {
			t.Errorf("shim-proxy ports %+v, want 8090:8090", proxy.Ports)
		}
		if proxy.HealthCheck == nil || len(proxy.HealthCheck.Test) == 0 || !strings.Contains(proxy.Image, ":") || strings.HasSuffix(proxy.Image, ":latest") {
			t.Errorf("shim-proxy: image %q (want a pinned tag), health check %+v", proxy.Image, proxy.HealthCheck)
		}
		for _, v := range proxy.Volumes {
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("shim-proxy mounts %s: %v", v.Source, err)
			}
		}
	}
}
