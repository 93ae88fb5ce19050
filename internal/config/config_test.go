package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/helpers/llm"
	"github.com/unstract/hatchet-worker/internal/testenv"
)

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load([]string{"HOME=/home/op", "SHIM_API_TOKEN=t"})
	if err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
	if cfg.Hatchet.External() {
		t.Error("no token must mean the embedded engine")
	}
	checks := map[string][2]any{
		"DATABASE_URL":                  {cfg.Embedded.DatabaseURL, "postgres://postgres@127.0.0.1:5432/hatchet?sslmode=disable"},
		"SERVICE_ADDR":                  {cfg.Service.Addr, ":8090"},
		"TASK_QUEUE_BACKEND":            {cfg.Routing.Backend, featureflag.BackendHatchet},
		"LOG_FORMAT":                    {cfg.Log.Format, "text"},
		"token file":                    {cfg.Embedded.TokenFile, "/home/op/.local/state/hatchet-worker/hatchet-token"},
		"CELERY_RESULT":                 {cfg.Celery.ResultBackend, "rpc://"},
		"HATCHET_WORKER_SLOTS":          {cfg.Worker.Slots, 100},
		"HATCHET_EMBEDDED_MSGQUEUE":     {cfg.Embedded.MsgQueue, MsgQueuePostgres},
		"HATCHET_EMBEDDED_MSGQUEUE_URL": {cfg.Embedded.MsgQueueURL, ""},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %v, want %v", name, c[0], c[1])
		}
	}
}

// TestTokenFilePerDatabase checks that the default token file is named
// after the embedded engine's database: two instances sharing a state
// directory on different databases never write the same file.
func TestTokenFilePerDatabase(t *testing.T) {
	tests := map[string]string{
		"postgres://postgres@127.0.0.1:5432/hatchet?sslmode=disable": "hatchet-token",
		"postgres://other@127.0.0.1/hatchet":                         "hatchet-token",
		"postgres://postgres@127.0.0.1:5432/hatchet2":                "hatchet-token-127.0.0.1-5432-hatchet2",
		"postgresql://u:p@db.example:5433/h":                         "hatchet-token-db.example-5433-h",
		"postgres:///hatchet?host=/run/postgresql":                   "hatchet-token-_run_postgresql-5432-hatchet",
	}
	for dbURL, want := range tests {
		cfg, err := Load([]string{"XDG_STATE_HOME=/state", "DATABASE_URL=" + dbURL}, UseEngine)
		if err != nil {
			t.Fatalf("%s: %v", dbURL, err)
		}
		if want = "/state/hatchet-worker/" + want; cfg.Embedded.TokenFile != want {
			t.Errorf("DATABASE_URL=%s: token file %s, want %s", dbURL, cfg.Embedded.TokenFile, want)
		}
	}
	cfg, err := Load([]string{"DATABASE_URL=postgres://h/other", "HATCHET_EMBEDDED_TOKEN_FILE=/run/tok"}, UseEngine)
	if err != nil || cfg.Embedded.TokenFile != "/run/tok" {
		t.Errorf("an explicit token file became %s (%v)", cfg.Embedded.TokenFile, err)
	}
}

func TestLoadEveryVariable(t *testing.T) {
	flagsFile := filepath.Join(t.TempDir(), "flags.yaml")
	if err := os.WriteFile(flagsFile, []byte("use_task_abstraction: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const (
		execCreds = `{"provider":"minio","credentials":{"endpoint_url":"http://minio:9000","key":"mk","secret":"ms"}}`
		apiCreds  = `{"provider":"s3","credentials":{"key":"ak","secret":"as","region_name":"eu-west-1","use_ssl":true}}`
	)
	environ := []string{
		"HATCHET_CLIENT_TOKEN=" + testToken,
		"HATCHET_CLIENT_HOST_PORT=hatchet:7077",
		"HATCHET_CLIENT_TLS_STRATEGY=none",
		"HATCHET_CLIENT_NAMESPACE=staging",
		"DATABASE_URL=postgresql://u:p@db:5433/h",
		"HATCHET_EMBEDDED_GRPC_PORT=7100",
		"HATCHET_EMBEDDED_API_PORT=7101",
		"HATCHET_EMBEDDED_TOKEN_FILE=/run/tok",
		"HATCHET_EMBEDDED_LOG_LEVEL=error",
		"HATCHET_EMBEDDED_MSGQUEUE=rabbitmq",
		"HATCHET_EMBEDDED_MSGQUEUE_URL=amqp://u:p@mq:5672/hatchet",
		"CELERY_BROKER_URL=amqp://u:p@mq:5672/vh",
		"FRONT_DOOR=celery:async_execute_bin",
		"FRONT_DOOR_TWIN_SUFFIX=.old",
		"FRONT_DOOR_PREFETCH=16",
		"WORKFLOW_SETTINGS_FILE=/etc/settings.yaml",
		"CELERY_RESULT_BACKEND=db+postgresql://u:p@db/celery",
		"SERVICE_ADDR=127.0.0.1:9000",
		"SHUTDOWN_TIMEOUT=45s",
		"HATCHET_WORKER_NAME=w1",
		"HATCHET_WORKER_SLOTS=7",
		"LOG_LEVEL=debug",
		"LOG_FORMAT=json",
		"TASK_QUEUE_BACKEND=hatchet",
		"USE_TASK_ABSTRACTION=true",
		"TASK_ABSTRACTION_PERCENT=12.5",
		"FEATURE_FLAGS_FILE=" + flagsFile,
		"FEATURE_FLAGS_ALLOW_REQUEST_OVERRIDE=true",
		"ROUTING_FALLBACK=true",
		"SHIM_API_TOKEN=secret",
		"SHIM_INSECURE_DEV=true",
		"SHIM_MAX_BODY_BYTES=4096",
		"SHIM_RETENTION=168h",
		"SHIM_LOST_AFTER=90s",
		"HATCHET_DASHBOARD_URL=https://hatchet.example",
		"SHIM_TRACK_INTERVAL=2s",
		"SHIM_TRACK_BATCH=250",
		"SHIM_TRUSTED_PROXIES=10.0.0.0/8, 172.16.0.0/12",
		"CELERY_ENABLED=true",
		"X2TEXT_URL=http://x2text:3004",
		"X2TEXT_API_KEY=xk",
		`LLM_ADAPTERS={"gpt":{"base_url":"https://api.openai.com/v1","model":"gpt-4o-mini","api_key":"k","max_concurrency":16}}`,
		"LLM_TIMEOUT=90s",
		"LLM_MAX_RETRIES=5",
		"PLATFORM_DATABASE_URL=postgres://u@db/unstract",
		"PLATFORM_INTERNAL_API_URL=http://unstract-backend:8000/internal",
		"PLATFORM_INTERNAL_API_KEY=ik",
		"PLATFORM_REDIS_URL=redis://redis:6379/1",
		"PLATFORM_RESULT_TTL=12h",
		"DOCUMENTS_ROOTS=/data/docs,/srv/uploads",
		"DOCUMENTS_MAX_BYTES=2048",
		"DOCUMENTS_READ_TIMEOUT=30s",
		"WORKFLOW_EXECUTION_FILE_STORAGE_CREDENTIALS=" + execCreds,
		"WORKFLOW_EXECUTION_DIR_PREFIX=docs/execution",
		"API_FILE_STORAGE_CREDENTIALS=" + apiCreds,
		"API_EXECUTION_DIR_PREFIX=docs/api",
	}
	cfg, err := Load(environ)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		Hatchet: Hatchet{Token: testToken, HostPort: "hatchet:7077", TLSStrategy: "none", Namespace: "staging"},
		Embedded: Embedded{DatabaseURL: "postgresql://u:p@db:5433/h", GRPCPort: 7100, APIPort: 7101, TokenFile: "/run/tok", EngineLog: "error",
			MsgQueue: MsgQueueRabbitMQ, MsgQueueURL: "amqp://u:p@mq:5672/hatchet"},
		Celery:  Celery{Enabled: true, BrokerURL: "amqp://u:p@mq:5672/vh", ResultBackend: "db+postgresql://u:p@db/celery"},
		Service: Service{Addr: "127.0.0.1:9000", ShutdownTimeout: 45 * time.Second},
		Worker:  Worker{Name: "w1", Slots: 7},
		Log:     Log{Level: "debug", Format: "json"},
		Routing: Routing{Backend: "hatchet", UseTaskAbstraction: true, Percentage: 12.5, FlagsFile: flagsFile, AllowRequestOverride: true, Fallback: true},
		Shim: Shim{APIToken: "secret", InsecureDev: true, MaxBodyBytes: 4096, Retention: 168 * time.Hour, LostAfter: 90 * time.Second, DashboardURL: "https://hatchet.example",
			TrackInterval: 2 * time.Second, TrackBatch: 250, TrustedProxies: "10.0.0.0/8, 172.16.0.0/12"},
		Helpers: Helpers{X2TextURL: "http://x2text:3004", X2TextAPIKey: "xk",
			LLMAdapters: `{"gpt":{"base_url":"https://api.openai.com/v1","model":"gpt-4o-mini","api_key":"k","max_concurrency":16}}`,
			Adapters:    map[string]llm.Adapter{"gpt": {BaseURL: "https://api.openai.com/v1", Model: "gpt-4o-mini", APIKey: "k", MaxConcurrency: 16}},
			LLMTimeout:  90 * time.Second, LLMMaxRetries: 5},
		Documents: Documents{Roots: "/data/docs,/srv/uploads", MaxBytes: 2048, ReadTimeout: 30 * time.Second,
			ExecutionCredentials: execCreds,
			ExecutionPrefix:      "docs/execution",
			APICredentials:       apiCreds,
			APIPrefix:            "docs/api",
			ExecutionStorage:     FileStorage{Provider: ProviderMinIO, EndpointURL: "http://minio:9000", Key: "mk", Secret: "ms"},
			APIStorage:           FileStorage{Provider: ProviderS3, Key: "ak", Secret: "as", Region: "eu-west-1"}},
		Platform: Platform{DatabaseURL: "postgres://u@db/unstract", InternalAPIURL: "http://unstract-backend:8000/internal", InternalAPIKey: "ik",
			RedisURL: "redis://redis:6379/1", ResultTTL: 12 * time.Hour},
		FrontDoor: FrontDoor{Pairs: "celery:async_execute_bin", TwinSuffix: ".old", Prefetch: 16, SettingsFile: "/etc/settings.yaml"},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load =\n%+v\nwant\n%+v", cfg, want)
	}
	// Every variable the struct reads appears in this test.
	params, err := env.GetFieldParams(&Config{})
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(environ, "\n")
	if got := Variables(); len(got) != len(params) {
		t.Errorf("Variables() lists %d names, the struct reads %d", len(got), len(params))
	}
	for _, p := range params {
		if !slices.Contains(Variables(), p.Key) {
			t.Errorf("Variables() lacks %s", p.Key)
		}
		if !strings.Contains(joined, p.Key+"=") {
			t.Errorf("variable %s is not covered by this test", p.Key)
		}
	}
}

// TestRabbitMQQueueUsesTheBroker checks that the embedded engine's RabbitMQ
// queue defaults to the Celery broker.
func TestRabbitMQQueueUsesTheBroker(t *testing.T) {
	cfg, err := Load([]string{"SHIM_API_TOKEN=t", "HATCHET_EMBEDDED_MSGQUEUE=rabbitmq", "CELERY_BROKER_URL=amqp://u:p@mq:5672/vh"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Embedded.MsgQueueURL != "amqp://u:p@mq:5672/vh" {
		t.Errorf("HATCHET_EMBEDDED_MSGQUEUE_URL = %q, want CELERY_BROKER_URL", cfg.Embedded.MsgQueueURL)
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    []string // substrings, one per expected problem
	}{
		{"bad enum values", []string{"LOG_FORMAT=xml", "LOG_LEVEL=loud", "HATCHET_CLIENT_TLS_STRATEGY=maybe"},
			[]string{`LOG_FORMAT="xml"`, `LOG_LEVEL="loud"`, `HATCHET_CLIENT_TLS_STRATEGY="maybe"`}},
		{"unparsable numbers", []string{"HATCHET_WORKER_SLOTS=many", "SHUTDOWN_TIMEOUT=soon", "USE_TASK_ABSTRACTION=perhaps"},
			[]string{"HATCHET_WORKER_SLOTS", "SHUTDOWN_TIMEOUT", "USE_TASK_ABSTRACTION"}},
		{"host port without token", []string{"HATCHET_CLIENT_HOST_PORT=hatchet:7077"},
			[]string{"needs a token"}},
		{"celery backend with abstraction on", []string{"TASK_QUEUE_BACKEND=celery", "USE_TASK_ABSTRACTION=true"},
			[]string{"TASK_QUEUE_BACKEND=celery pins"}},
		{"unknown backend", []string{"TASK_QUEUE_BACKEND=kafka"}, []string{`TASK_QUEUE_BACKEND="kafka"`}},
		{"bad urls", []string{"CELERY_BROKER_URL=redis://x", "CELERY_RESULT_BACKEND=mongodb://x", "DATABASE_URL=mysql://x/y"},
			[]string{"CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "DATABASE_URL"}},
		{"ports", []string{"HATCHET_EMBEDDED_GRPC_PORT=70000", "HATCHET_EMBEDDED_API_PORT=70000"},
			[]string{"HATCHET_EMBEDDED_GRPC_PORT=70000", "HATCHET_EMBEDDED_API_PORT=70000", "both 70000"}},
		{"engine message queue", []string{"HATCHET_EMBEDDED_MSGQUEUE=kafka", "HATCHET_EMBEDDED_MSGQUEUE_URL=redis://x"},
			[]string{`HATCHET_EMBEDDED_MSGQUEUE="kafka"`, "HATCHET_EMBEDDED_MSGQUEUE_URL"}},
		{"percent and slots out of range", []string{"TASK_ABSTRACTION_PERCENT=101", "HATCHET_WORKER_SLOTS=0"},
			[]string{"TASK_ABSTRACTION_PERCENT=101", "HATCHET_WORKER_SLOTS=0"}},
		{"service addr", []string{"SERVICE_ADDR=8090"}, []string{"SERVICE_ADDR"}},
		{"front door", []string{"FRONT_DOOR=celery:async_execute_bin,celery", "FRONT_DOOR_TWIN_SUFFIX= ", "FRONT_DOOR_PREFETCH=0"},
			[]string{`FRONT_DOOR entry "celery"`, "FRONT_DOOR_TWIN_SUFFIX must not be empty", "FRONT_DOOR_PREFETCH=0", "needs WORKFLOW_SETTINGS_FILE"}},
		{"front door without the broker", []string{"FRONT_DOOR=celery:async_execute_bin", "WORKFLOW_SETTINGS_FILE=/s.json", "CELERY_ENABLED=false"},
			[]string{"FRONT_DOOR needs the broker"}},
		{"body limit", []string{"SHIM_MAX_BODY_BYTES=10"}, []string{"SHIM_MAX_BODY_BYTES=10"}},
		{"retention too short", []string{"SHIM_RETENTION=5m"}, []string{"SHIM_RETENTION=5m0s"}},
		{"lost-after too short", []string{"SHIM_LOST_AFTER=1s"}, []string{"SHIM_LOST_AFTER=1s"}},
		{"trusted proxies not networks", []string{"SHIM_TRUSTED_PROXIES=10.0.0.0/8,proxy.local"},
			[]string{"proxy.local"}},
		{"tracking out of bounds", []string{"SHIM_TRACK_INTERVAL=1ms", "SHIM_TRACK_BATCH=0"},
			[]string{"SHIM_TRACK_INTERVAL=1ms", "SHIM_TRACK_BATCH=0"}},
		{"shim without token", []string{"SHIM_API_TOKEN="}, []string{"SHIM_API_TOKEN is required"}},
		{"celery pinned but disabled", []string{"TASK_QUEUE_BACKEND=celery", "CELERY_ENABLED=false"}, []string{"CELERY_ENABLED=true"}},
		{"helpers", []string{"X2TEXT_URL=ftp://x", "LLM_ADAPTERS={", "LLM_MAX_RETRIES=11", "PLATFORM_DATABASE_URL=redis://x"},
			[]string{"X2TEXT_URL", "LLM_ADAPTERS", "LLM_MAX_RETRIES=11", "PLATFORM_DATABASE_URL"}},
		{"documents", []string{"DOCUMENTS_ROOTS=/data,relative/dir", "DOCUMENTS_MAX_BYTES=0", "DOCUMENTS_READ_TIMEOUT=0s",
			"WORKFLOW_EXECUTION_DIR_PREFIX=unstract/../x", "API_EXECUTION_DIR_PREFIX=/"},
			[]string{`"relative/dir" is not an absolute path`, "DOCUMENTS_MAX_BYTES=0", "DOCUMENTS_READ_TIMEOUT=0s",
				"WORKFLOW_EXECUTION_DIR_PREFIX", "API_EXECUTION_DIR_PREFIX"}},
		{"storage credentials", []string{`WORKFLOW_EXECUTION_FILE_STORAGE_CREDENTIALS={"provider":"minio"`,
			`API_FILE_STORAGE_CREDENTIALS={"provider":"gcs","credentials":{}}`},
			[]string{"WORKFLOW_EXECUTION_FILE_STORAGE_CREDENTIALS: not valid JSON", `provider "gcs" not supported`}},
		{"platform key without url", []string{"PLATFORM_INTERNAL_API_KEY=k"}, []string{"PLATFORM_INTERNAL_API_KEY is set without"}},
		{"platform url without key", []string{"PLATFORM_INTERNAL_API_URL=http://backend:8000/internal"}, []string{"PLATFORM_INTERNAL_API_KEY is required"}},
		{"platform bad urls", []string{"PLATFORM_INTERNAL_API_URL=ftp://backend/internal", "PLATFORM_INTERNAL_API_KEY=k", "PLATFORM_REDIS_URL=http://redis", "PLATFORM_RESULT_TTL=1s"},
			[]string{"PLATFORM_INTERNAL_API_URL: scheme", "PLATFORM_REDIS_URL: scheme", "PLATFORM_RESULT_TTL=1s"}},
		{"platform redis without the api", []string{"PLATFORM_REDIS_URL=redis://redis:6379/1"}, []string{"PLATFORM_REDIS_URL needs PLATFORM_INTERNAL_API_URL"}},
		{"incomplete minio credentials", []string{`WORKFLOW_EXECUTION_FILE_STORAGE_CREDENTIALS={"provider":"minio","credentials":{"key":"k"}}`,
			`API_FILE_STORAGE_CREDENTIALS={"provider":"minio","credentials":{"endpoint_url":"minio:9000","key":"k","secret":"s"}}`},
			[]string{"need a key and a secret", "need an endpoint_url", "API_FILE_STORAGE_CREDENTIALS endpoint_url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(append([]string{"SHIM_API_TOKEN=t"}, tt.environ...))
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Load(%v) = %v, want *Error", tt.environ, err)
			}
			if len(cerr.Problems) != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(cerr.Problems), len(tt.want), err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestResultBackendSchemes(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"rpc://", true},
		{"db+postgresql://u:p@db/celery", true},
		{"redis://:p@cache:6379/0", true},
		{"rediss://cache:6380/1?ssl_cert_reqs=required", true},
		{"amqp://guest@mq//", false},
		{"cache+memcached://x", false},
		{"mongodb://x", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := Load([]string{"SHIM_API_TOKEN=t", "CELERY_RESULT_BACKEND=" + tt.url})
			if ok := err == nil; ok != tt.ok || !ok && !strings.Contains(err.Error(), "CELERY_RESULT_BACKEND") {
				t.Errorf("Load(CELERY_RESULT_BACKEND=%s) = %v, want accepted=%v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestErrorNeverShowsPasswords(t *testing.T) {
	_, err := Load([]string{"SHIM_INSECURE_DEV=true", "CELERY_BROKER_URL=amqp://user:hunter2@%zz/", "DATABASE_URL=postgres://u:hunter2@h:99999999/x y",
		`WORKFLOW_EXECUTION_FILE_STORAGE_CREDENTIALS={"provider":"minio","credentials":{"endpoint_url":"http://minio:9000","secret":"hunter2"`,
		`API_FILE_STORAGE_CREDENTIALS={"provider":"minio","credentials":{"endpoint_url":"http://x:hunter2@%zz","key":"k","secret":"hunter2"}}`})
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks a password: %v", err)
	}
}

// TestREADMETable keeps the README's configuration table and Config in step.
func TestREADMETable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z0-9_]+)` \\|").FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = true
	}
	params, err := env.GetFieldParams(&Config{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range params {
		keys = append(keys, p.Key)
		if !documented[p.Key] {
			t.Errorf("%s is read but not in the README's configuration table", p.Key)
		}
	}
	for k := range documented {
		if !slices.Contains(keys, k) {
			t.Errorf("README documents %s, which the service does not read", k)
		}
	}
}

func TestShimTokens(t *testing.T) {
	tests := []struct {
		raw  string
		want []string
	}{
		{"", nil},
		{"one", []string{"one"}},
		{"new, old ,", []string{"new", "old"}},
		{" , ", nil},
	}
	for _, tt := range tests {
		if got := (Shim{APIToken: tt.raw}).Tokens(); !slices.Equal(got, tt.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
	if _, err := Load([]string{"SHIM_API_TOKEN= , "}); err == nil || !strings.Contains(err.Error(), "SHIM_API_TOKEN is required") {
		t.Errorf("Load with only separators = %v, want the token required", err)
	}
}

// TestLoadChecksWhatIsUsed checks each command's part of the configuration
// alone: a CLI command needs no shim token, and is not stopped by settings
// it never reads.
func TestLoadChecksWhatIsUsed(t *testing.T) {
	tests := []struct {
		name    string
		uses    []Use
		environ []string
		want    string // "" accepts
	}{
		{"service needs a shim token", nil, nil, "SHIM_API_TOKEN is required"},
		{"celery call needs no shim token", []Use{UseCelery}, nil, ""},
		{"engine commands need no shim token", []Use{UseEngine}, nil, ""},
		{"celery call ignores a bad slot count", []Use{UseCelery}, []string{"HATCHET_WORKER_SLOTS=many"}, ""},
		{"celery call checks the broker", []Use{UseCelery}, []string{"CELERY_BROKER_URL=redis://x"}, "CELERY_BROKER_URL"},
		{"engine commands check the engine", []Use{UseEngine}, []string{"HATCHET_WORKER_SLOTS=many"}, "HATCHET_WORKER_SLOTS"},
		{"workflows test checks the helpers", []Use{UseEngine, UseCelery, UseHelpers}, []string{"LLM_ADAPTERS={"}, "LLM_ADAPTERS"},
		{"engine commands ignore the flags file", []Use{UseEngine}, []string{"FEATURE_FLAGS_FILE=/nonexistent/flags.yaml"}, ""},
		{"logging is always checked", []Use{UseCelery}, []string{"LOG_LEVEL=loud"}, "LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(append([]string{"HOME=/h"}, tt.environ...), tt.uses...)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Load = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDocumentsStorage(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want FileStorage
	}{
		{"unset", "", FileStorage{}},
		{"local provider", `{"provider":"local"}`, FileStorage{}},
		{"platform sample", `{"provider": "minio", "credentials": {"endpoint_url": "http://unstract-minio:9000", "key": "minio", "secret": "minio123"}}`,
			FileStorage{Provider: ProviderMinIO, EndpointURL: "http://unstract-minio:9000", Key: "minio", Secret: "minio123"}},
		{"upper-case provider", `{"provider":"MINIO","credentials":{"endpoint_url":"https://s3.local","key":"k","secret":"s"}}`,
			FileStorage{Provider: ProviderMinIO, EndpointURL: "https://s3.local", Key: "k", Secret: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load([]string{"SHIM_API_TOKEN=t", "WORKFLOW_EXECUTION_FILE_STORAGE_CREDENTIALS=" + tt.raw})
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Documents.ExecutionStorage; got != tt.want || got.Configured() != (tt.want.Provider != "") {
				t.Errorf("ExecutionStorage = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestLoadChecksFilesAndAdapters checks what used to be found only after the
// engine had started: LLM_ADAPTERS in full, the flags file, URLs without a
// host. Each is one problem, and no API key is quoted.
func TestLoadChecksFilesAndAdapters(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.yaml")
	if err := os.WriteFile(typo, []byte("use_task_abstracton: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, env, want string
	}{
		{"adapters not JSON", `LLM_ADAPTERS={"gpt": sk-secret}`, "LLM_ADAPTERS: want one JSON object"},
		{"adapter unknown field", `LLM_ADAPTERS={"gpt":{"url":"https://x/v1","model":"m","api_key":"sk-secret"}}`, `unknown field "url"`},
		{"adapter without host", `LLM_ADAPTERS={"gpt":{"base_url":"https:///v1","model":"m","api_key":"sk-secret"}}`, `LLM_ADAPTERS["gpt"].base_url: https://… has no host`},
		{"adapter bad scheme", `LLM_ADAPTERS={"gpt":{"base_url":"ftp://x","model":"m","api_key":"sk-secret"}}`, `LLM_ADAPTERS["gpt"].base_url: scheme "ftp"`},
		{"adapter without model", `LLM_ADAPTERS={"gpt":{"base_url":"https://x/v1","api_key":"sk-secret"}}`, `LLM_ADAPTERS["gpt"].model is empty`},
		{"adapter negative max_concurrency", `LLM_ADAPTERS={"gpt":{"base_url":"https://x/v1","model":"m","api_key":"sk-secret","max_concurrency":-1}}`, `LLM_ADAPTERS["gpt"].max_concurrency -1 is negative`},
		{"flags file missing", "FEATURE_FLAGS_FILE=" + filepath.Join(dir, "missing.yaml"), "FEATURE_FLAGS_FILE: read feature flags"},
		{"flags file typo", "FEATURE_FLAGS_FILE=" + typo, `unknown field "use_task_abstracton"`},
		{"x2text without host", "X2TEXT_URL=http://", "X2TEXT_URL: http://… has no host"},
		{"dashboard not http", "HATCHET_DASHBOARD_URL=localhost:8888", `HATCHET_DASHBOARD_URL: scheme "localhost"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]string{"SHIM_API_TOKEN=t", tt.env})
			var cerr *Error
			if !errors.As(err, &cerr) || len(cerr.Problems) != 1 || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load = %v, want one problem containing %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "(1 problem)") {
				t.Errorf("message %q does not say (1 problem)", err)
			}
			if strings.Contains(err.Error(), "sk-secret") {
				t.Errorf("message leaks the API key: %v", err)
			}
		})
	}
}

func TestDocumentsRootDirs(t *testing.T) {
	tests := []struct {
		raw  string
		want []string
	}{
		{"", nil},
		{"/data", []string{"/data"}},
		{"/data,/srv/docs", []string{"/data", "/srv/docs"}},
		{"/data:/srv/docs", []string{"/data", "/srv/docs"}},
		{" /data , ,/srv/docs: ", []string{"/data", "/srv/docs"}},
	}
	for _, tt := range tests {
		if got := (Documents{Roots: tt.raw}).RootDirs(); !slices.Equal(got, tt.want) {
			t.Errorf("RootDirs(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// testToken has the form of a Hatchet API token, which validation checks.
var testToken = testenv.FakeHatchetToken("hatchet:7077")

// TestFrontDoorQueues reads FRONT_DOOR's queue:task pairs, each queue once
// and in order.
func TestFrontDoorQueues(t *testing.T) {
	f := FrontDoor{Pairs: " celery:async_execute_bin, celery_api_deployments:async_execute_bin,celery:other ,"}
	tasks, order, err := f.Queues()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"celery", "celery_api_deployments"}; !slices.Equal(order, want) {
		t.Errorf("queues %v, want %v", order, want)
	}
	if got := tasks["celery"]; !slices.Equal(got, []string{"async_execute_bin", "other"}) {
		t.Errorf("tasks on celery %v", got)
	}
	if (FrontDoor{}).Enabled() || !f.Enabled() {
		t.Error("Enabled is wrong")
	}
}
