package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/hatchet-dev/hatchet/pkg/config/loader/loaderutils"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/helpers/llm"
	"github.com/unstract/hatchet-worker/internal/jsonerr"
)

// Config is the whole configuration of the service.
type Config struct {
	Hatchet   Hatchet
	Embedded  Embedded
	Celery    Celery
	Service   Service
	Worker    Worker
	Log       Log
	Routing   Routing
	Shim      Shim
	Helpers   Helpers
	Documents Documents
	Platform  Platform
	FrontDoor FrontDoor
}

// FrontDoor configures the Celery front door: the platform's queues whose
// task messages the service takes, to run them on Hatchet or pass them on
// to each queue's legacy twin.
type FrontDoor struct {
	// Pairs is "queue:task,…"; empty turns the front door off.
	Pairs string `env:"FRONT_DOOR"`
	// TwinSuffix names a queue's legacy twin: the queue's name and this.
	TwinSuffix string `env:"FRONT_DOOR_TWIN_SUFFIX" envDefault:".legacy"`
	// Prefetch bounds the messages of one queue in the front door at once.
	Prefetch int `env:"FRONT_DOOR_PREFETCH" envDefault:"64"`
	// SettingsFile holds the document settings of the platform's
	// workflows, by workflow_id (WORKFLOW_SETTINGS_FILE).
	SettingsFile string `env:"WORKFLOW_SETTINGS_FILE"`
}

// Enabled reports whether the front door takes any queue.
func (f FrontDoor) Enabled() bool { return strings.TrimSpace(f.Pairs) != "" }

// Queues returns the queues FRONT_DOOR names, each once, in order, and the
// tasks named for each.
func (f FrontDoor) Queues() (map[string][]string, []string, error) {
	tasks := map[string][]string{}
	var order []string
	for _, pair := range strings.Split(f.Pairs, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		queue, task, ok := strings.Cut(pair, ":")
		queue, task = strings.TrimSpace(queue), strings.TrimSpace(task)
		if !ok || queue == "" || task == "" {
			return nil, nil, fmt.Errorf("FRONT_DOOR entry %q: want queue:task", pair)
		}
		if _, seen := tasks[queue]; !seen {
			order = append(order, queue)
		}
		tasks[queue] = append(tasks[queue], task)
	}
	return tasks, order, nil
}

// Hatchet configures the connection to an external Hatchet engine. With no
// token the service runs its own engine in-process (see Embedded).
type Hatchet struct {
	Token       string `env:"HATCHET_CLIENT_TOKEN"`
	HostPort    string `env:"HATCHET_CLIENT_HOST_PORT"`
	TLSStrategy string `env:"HATCHET_CLIENT_TLS_STRATEGY" envDefault:"tls"`
	Namespace   string `env:"HATCHET_CLIENT_NAMESPACE"`
}

// SplitHostPort splits HATCHET_CLIENT_HOST_PORT into host and port.
func (h Hatchet) SplitHostPort() (string, int, error) {
	host, p, err := net.SplitHostPort(h.HostPort)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("port %q: want 1-65535", p)
	}
	return host, port, nil
}

// External reports whether the service joins an external engine.
func (h Hatchet) External() bool { return h.Token != "" }

// Embedded configures the in-process Hatchet engine used when no token is set.
type Embedded struct {
	DatabaseURL string `env:"DATABASE_URL" envDefault:"postgres://postgres@127.0.0.1:5432/hatchet?sslmode=disable"`
	GRPCPort    int    `env:"HATCHET_EMBEDDED_GRPC_PORT" envDefault:"7077"`
	APIPort     int    `env:"HATCHET_EMBEDDED_API_PORT" envDefault:"8080"`
	TokenFile   string `env:"HATCHET_EMBEDDED_TOKEN_FILE"`
	EngineLog   string `env:"HATCHET_EMBEDDED_LOG_LEVEL" envDefault:"warn"`
	// MsgQueue is the engine's internal message queue: MsgQueuePostgres (in
	// DATABASE_URL, no other dependency) or MsgQueueRabbitMQ (at
	// MsgQueueURL), which keeps the engine's messages through a Postgres
	// outage (see README, Known limits).
	MsgQueue string `env:"HATCHET_EMBEDDED_MSGQUEUE" envDefault:"postgres"`
	// MsgQueueURL is the RabbitMQ of MsgQueueRabbitMQ; empty means
	// CELERY_BROKER_URL.
	MsgQueueURL string `env:"HATCHET_EMBEDDED_MSGQUEUE_URL"`
}

// Celery configures the legacy Celery side: its broker and result backend.
type Celery struct {
	Enabled       bool   `env:"CELERY_ENABLED" envDefault:"true"`
	BrokerURL     string `env:"CELERY_BROKER_URL" envDefault:"amqp://guest:guest@127.0.0.1:5672//"`
	ResultBackend string `env:"CELERY_RESULT_BACKEND" envDefault:"rpc://"`
}

// Service configures the process itself: its HTTP listener and shutdown.
type Service struct {
	Addr            string        `env:"SERVICE_ADDR" envDefault:":8090"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"30s"`
}

// Worker configures the Hatchet worker this process registers.
type Worker struct {
	Name  string `env:"HATCHET_WORKER_NAME" envDefault:"hatchet-worker"`
	Slots int    `env:"HATCHET_WORKER_SLOTS" envDefault:"100"`
}

// Log configures the service's own structured log.
type Log struct {
	Level  string `env:"LOG_LEVEL" envDefault:"info"`
	Format string `env:"LOG_FORMAT" envDefault:"text"`
}

// Routing configures where requests go during the migration.
type Routing struct {
	Backend              featureflag.Backend `env:"TASK_QUEUE_BACKEND" envDefault:"hatchet"`
	UseTaskAbstraction   bool                `env:"USE_TASK_ABSTRACTION" envDefault:"false"`
	Percentage           float64             `env:"TASK_ABSTRACTION_PERCENT" envDefault:"0"`
	FlagsFile            string              `env:"FEATURE_FLAGS_FILE"`
	AllowRequestOverride bool                `env:"FEATURE_FLAGS_ALLOW_REQUEST_OVERRIDE" envDefault:"false"`
	Fallback             bool                `env:"ROUTING_FALLBACK" envDefault:"false"`
}

// Shim configures the HTTP API the backend calls.
type Shim struct {
	APIToken     string `env:"SHIM_API_TOKEN"`
	InsecureDev  bool   `env:"SHIM_INSECURE_DEV" envDefault:"false"`
	MaxBodyBytes int64  `env:"SHIM_MAX_BODY_BYTES" envDefault:"1048576"`
	// Retention is how long execution records (status lookups, idempotency
	// keys) are kept; 0 keeps them forever.
	Retention time.Duration `env:"SHIM_RETENTION" envDefault:"720h"`
	// LostAfter is how long after acceptance a Hatchet execution the engine
	// has no record of is reported queued before it is reported unknown.
	LostAfter time.Duration `env:"SHIM_LOST_AFTER" envDefault:"5m"`
	// DashboardURL is the Hatchet dashboard's base URL; when set, the
	// status of a Hatchet execution links to its run there.
	DashboardURL string `env:"HATCHET_DASHBOARD_URL"`
	// TrackInterval is the time between two passes of outcome tracking.
	TrackInterval time.Duration `env:"SHIM_TRACK_INTERVAL" envDefault:"5s"`
	// TrackBatch is how many unfinished executions per backend one pass
	// of outcome tracking reads at most.
	TrackBatch int `env:"SHIM_TRACK_BATCH" envDefault:"500"`
	// TrustedProxies are the networks (comma-separated CIDRs) of the
	// proxies in front of the service, whose X-Forwarded-For the console's
	// login limit believes.
	TrustedProxies string `env:"SHIM_TRUSTED_PROXIES"`
}

// Proxies parses TrustedProxies.
func (s Shim) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for v := range strings.SplitSeq(s.TrustedProxies, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return nil, fmt.Errorf("%q is not a network such as 10.0.0.0/8: %w", v, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Tokens are the accepted shim tokens: SHIM_API_TOKEN split at commas, so
// "new,old" accepts both while clients move to the new one.
func (s Shim) Tokens() []string {
	var out []string
	for t := range strings.SplitSeq(s.APIToken, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// Helpers configures the document helpers: text extraction and the LLM.
type Helpers struct {
	X2TextURL    string `env:"X2TEXT_URL"`
	X2TextAPIKey string `env:"X2TEXT_API_KEY"`
	LLMAdapters  string `env:"LLM_ADAPTERS"`
	// Adapters is LLM_ADAPTERS parsed by Load.
	Adapters      map[string]llm.Adapter `env:"-"`
	LLMTimeout    time.Duration          `env:"LLM_TIMEOUT" envDefault:"2m"`
	LLMMaxRetries int                    `env:"LLM_MAX_RETRIES" envDefault:"3"`
}

// Documents configures where document-processing-v2 reads documents: local
// directories, and the platform's object storages under their prefixes.
type Documents struct {
	// Roots lists the directories local document paths may resolve into,
	// separated by commas or colons; empty refuses every local path.
	Roots       string        `env:"DOCUMENTS_ROOTS"`
	MaxBytes    int64         `env:"DOCUMENTS_MAX_BYTES" envDefault:"104857600"`
	ReadTimeout time.Duration `env:"DOCUMENTS_READ_TIMEOUT" envDefault:"5m"`
	// ExecutionCredentials and APICredentials are the platform's storage
	// variables as JSON; Load parses them into ExecutionStorage and
	// APIStorage.
	ExecutionCredentials string `env:"WORKFLOW_EXECUTION_FILE_STORAGE_CREDENTIALS"`
	ExecutionPrefix      string `env:"WORKFLOW_EXECUTION_DIR_PREFIX" envDefault:"unstract/execution"`
	APICredentials       string `env:"API_FILE_STORAGE_CREDENTIALS"`
	APIPrefix            string `env:"API_EXECUTION_DIR_PREFIX" envDefault:"unstract/api"`
	// ExecutionStorage is ExecutionCredentials parsed.
	ExecutionStorage FileStorage `env:"-"`
	// APIStorage is APICredentials parsed.
	APIStorage FileStorage `env:"-"`
}

// RootDirs returns Roots split at commas and colons, blanks dropped.
func (d Documents) RootDirs() []string {
	var out []string
	for _, dir := range strings.FieldsFunc(d.Roots, func(r rune) bool { return r == ',' || r == os.PathListSeparator }) {
		if dir = strings.TrimSpace(dir); dir != "" {
			out = append(out, dir)
		}
	}
	return out
}

// FileStorage is one of the platform's storage credential variables,
// {"provider": "minio", "credentials": {"endpoint_url", "key", "secret",
// "region_name"}}, parsed. Provider is empty when the variable is unset or
// names the platform's "local" provider: then there is no object storage.
type FileStorage struct {
	Provider    string
	EndpointURL string
	Key         string
	Secret      string
	Region      string
}

// Configured reports whether the variable names an object storage.
func (f FileStorage) Configured() bool { return f.Provider != "" }

// Providers accepted in the storage credential variables.
const (
	ProviderMinIO = "minio"
	ProviderS3    = "s3"
	ProviderLocal = "local"
)

// fileStorageJSON is the platform's JSON shape; other credential fields
// (fsspec options) are ignored.
type fileStorageJSON struct {
	Provider    string `json:"provider"`
	Credentials struct {
		EndpointURL string `json:"endpoint_url"`
		Key         string `json:"key"`
		Secret      string `json:"secret"`
		Region      string `json:"region_name"`
	} `json:"credentials"`
}

// parseFileStorage parses the variable name holding raw. Its problems never
// quote raw, which holds the secret.
func parseFileStorage(add func(string, ...any), name, raw string) FileStorage {
	if strings.TrimSpace(raw) == "" {
		return FileStorage{}
	}
	var j fileStorageJSON
	if err := json.Unmarshal([]byte(raw), &j); err != nil {
		add("%s: not valid JSON of the form {\"provider\": \"minio\", \"credentials\": {\"endpoint_url\", \"key\", \"secret\"}}", name)
		return FileStorage{}
	}
	c := j.Credentials
	fs := FileStorage{Provider: strings.ToLower(j.Provider), EndpointURL: c.EndpointURL, Key: c.Key, Secret: c.Secret, Region: c.Region}
	switch fs.Provider {
	case ProviderLocal:
		return FileStorage{}
	case ProviderMinIO, ProviderS3:
	default:
		add("%s: provider %q not supported (want %s, %s or %s)", name, j.Provider, ProviderMinIO, ProviderS3, ProviderLocal)
		return FileStorage{}
	}
	if fs.Key == "" || fs.Secret == "" {
		add("%s: credentials need a key and a secret", name)
	}
	switch {
	case fs.EndpointURL == "" && fs.Provider == ProviderMinIO:
		add("%s: minio credentials need an endpoint_url", name)
	case fs.EndpointURL != "":
		validURL(add, name+" endpoint_url", fs.EndpointURL, true, "http", "https")
	}
	return fs
}

// parse validates the documents settings and fills the parsed storages.
func (d *Documents) parse(add func(string, ...any)) {
	for _, dir := range d.RootDirs() {
		if !filepath.IsAbs(dir) {
			add("DOCUMENTS_ROOTS: %q is not an absolute path", dir)
		}
	}
	if d.MaxBytes <= 0 {
		add("DOCUMENTS_MAX_BYTES=%d: must be positive", d.MaxBytes)
	}
	if d.ReadTimeout <= 0 {
		add("DOCUMENTS_READ_TIMEOUT=%s: must be positive", d.ReadTimeout)
	}
	validPrefix(add, "WORKFLOW_EXECUTION_DIR_PREFIX", d.ExecutionPrefix)
	validPrefix(add, "API_EXECUTION_DIR_PREFIX", d.APIPrefix)
	d.ExecutionStorage = parseFileStorage(add, "WORKFLOW_EXECUTION_FILE_STORAGE_CREDENTIALS", d.ExecutionCredentials)
	d.APIStorage = parseFileStorage(add, "API_FILE_STORAGE_CREDENTIALS", d.APICredentials)
}

// validPrefix accepts "bucket" or "bucket/key-prefix" without empty, "."
// or ".." segments.
func validPrefix(add func(string, ...any), name, prefix string) {
	trimmed := strings.Trim(prefix, "/")
	for seg := range strings.SplitSeq(trimmed, "/") {
		if seg == "" || seg == "." || seg == ".." {
			add("%s=%q: want bucket or bucket/key-prefix", name, prefix)
			return
		}
	}
}

// Platform names the platform's own services: its database, where user
// onboarding provisions organisations, users and memberships; the backend's
// internal API, which workflow-execution tells what an execution did; and
// its Redis, where API deployments read their results.
type Platform struct {
	DatabaseURL string `env:"PLATFORM_DATABASE_URL" envDefault:"postgres://postgres@127.0.0.1:5432/unstract?sslmode=disable"`
	// InternalAPIURL is the backend's INTERNAL_API_BASE_URL (…/internal);
	// empty reports nothing to the platform.
	InternalAPIURL string `env:"PLATFORM_INTERNAL_API_URL"`
	// InternalAPIKey is the backend's INTERNAL_SERVICE_API_KEY.
	InternalAPIKey string `env:"PLATFORM_INTERNAL_API_KEY"`
	// RedisURL is the platform's Redis, where API deployment results are
	// pushed; empty pushes none.
	RedisURL string `env:"PLATFORM_REDIS_URL"`
	// ResultTTL is how long pushed API results are kept: the platform's
	// EXECUTION_RESULT_TTL_SECONDS.
	ResultTTL time.Duration `env:"PLATFORM_RESULT_TTL" envDefault:"24h"`
}

// Reports says whether executions are reported to the platform.
func (p Platform) Reports() bool { return p.InternalAPIURL != "" }

// validate checks the internal API and Redis settings: both URL and key or
// neither, and Redis only with the internal API (results are pushed as
// their files are reported).
func (p Platform) validate(add func(string, ...any)) {
	if p.InternalAPIURL != "" {
		validURL(add, "PLATFORM_INTERNAL_API_URL", p.InternalAPIURL, true, "http", "https")
	}
	switch {
	case p.InternalAPIURL != "" && strings.TrimSpace(p.InternalAPIKey) == "":
		add("PLATFORM_INTERNAL_API_KEY is required with PLATFORM_INTERNAL_API_URL (the backend's INTERNAL_SERVICE_API_KEY)")
	case p.InternalAPIURL == "" && p.InternalAPIKey != "":
		add("PLATFORM_INTERNAL_API_KEY is set without PLATFORM_INTERNAL_API_URL")
	}
	if p.RedisURL != "" {
		validURL(add, "PLATFORM_REDIS_URL", p.RedisURL, true, "redis", "rediss")
		if p.InternalAPIURL == "" {
			add("PLATFORM_REDIS_URL needs PLATFORM_INTERNAL_API_URL: API results are pushed as their files are reported")
		}
	}
	if p.ResultTTL < time.Minute {
		add("PLATFORM_RESULT_TTL=%s: must be at least 1m", p.ResultTTL)
	}
}

// Message queues accepted by HATCHET_EMBEDDED_MSGQUEUE.
const (
	MsgQueuePostgres = "postgres"
	MsgQueueRabbitMQ = "rabbitmq"
)

// Use names a part of the configuration. A command loads only the parts it
// uses, so it is neither stopped by nor needs settings it never reads.
type Use uint

// The parts of the configuration.
const (
	// UseEngine: the Hatchet engine (external, or embedded on DATABASE_URL)
	// and this process's worker.
	UseEngine Use = 1 << iota
	// UseCelery: the legacy broker and result backend.
	UseCelery
	// UseHelpers: what the workflows call: x2text, the LLM adapters and the
	// platform database.
	UseHelpers
	// UseShim: the HTTP service, the shim API, its store and its routing
	// (feature flags file included).
	UseShim
	// UseAll is everything: what the service uses.
	UseAll = UseEngine | UseCelery | UseHelpers | UseShim
)

// parts maps each group of Config to the part that reads it; Log belongs to
// every part.
var parts = map[string]Use{
	"Hatchet": UseEngine, "Embedded": UseEngine | UseShim, "Worker": UseEngine,
	"Celery": UseCelery | UseShim, "Helpers": UseHelpers, "Platform": UseHelpers, "Documents": UseHelpers,
	"Service": UseShim, "Routing": UseShim, "Shim": UseShim, "Log": UseAll,
}

// Load parses the given environment (os.Environ() form) into a Config and
// checks the parts in uses (all when none is given), files and URLs
// included, before anything is started with it. The error lists every
// problem found, one per line.
func Load(environ []string, uses ...Use) (Config, error) {
	use := UseAll
	if len(uses) > 0 {
		use = 0
		for _, u := range uses {
			use |= u
		}
	}
	vars := env.ToMap(environ)
	cfg, err := env.ParseAsWithOptions[Config](env.Options{Environment: vars})
	var problems []error
	if err != nil {
		var failed []string
		problems, failed = describe(err, vars, use)
		// Validate the rest as if the unparsable variables were unset, so
		// each problem is reported once.
		for _, k := range failed {
			delete(vars, k)
		}
		cfg, err = env.ParseAsWithOptions[Config](env.Options{Environment: vars})
		if err != nil {
			return cfg, &Error{Problems: append(problems, err)}
		}
	}
	problems = append(problems, cfg.validate(use)...)
	if cfg.Embedded.TokenFile == "" {
		cfg.Embedded.TokenFile = defaultTokenFile(vars, cfg.Embedded.DatabaseURL)
	}
	if cfg.Embedded.MsgQueue == MsgQueueRabbitMQ && cfg.Embedded.MsgQueueURL == "" {
		cfg.Embedded.MsgQueueURL = cfg.Celery.BrokerURL
	}
	if len(problems) > 0 {
		return cfg, &Error{Problems: problems}
	}
	return cfg, nil
}

// Error is returned by Load when the configuration is invalid.
type Error struct {
	Problems []error
}

// Error lists every problem on its own line.
func (e *Error) Error() string {
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("invalid configuration (%s):", plural(len(e.Problems), "problem")))
	for _, p := range e.Problems {
		lines = append(lines, "  - "+p.Error())
	}
	return strings.Join(lines, "\n")
}

// plural renders "1 problem", "2 problems".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// describe turns env's parse errors into "VAR=value: reason" problems for
// the variables of the parts in use, and returns every variable that failed.
func describe(err error, vars map[string]string, use Use) ([]error, []string) {
	errs := []error{err}
	var agg env.AggregateError
	if errors.As(err, &agg) {
		errs = agg.Errors
	}
	keys := fieldKeys(reflect.TypeFor[Config]())
	used := usedKeys(use)
	var problems []error
	var failed []string
	for _, e := range errs {
		var pe env.ParseError
		key, ok := "", false
		if errors.As(e, &pe) {
			key, ok = keys[pe.Name]
		}
		if !ok {
			problems = append(problems, e)
			continue
		}
		failed = append(failed, key)
		if used[key] {
			problems = append(problems, fmt.Errorf("%s=%q: %w", key, vars[key], pe.Err))
		}
	}
	return problems, failed
}

// usedKeys returns the variables of the parts in use.
func usedKeys(use Use) map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if f := t.Field(i); parts[f.Name]&use != 0 {
			walkEnv(f.Type, func(_, key string) { keys[key] = true })
		}
	}
	return keys
}

// Variables returns the names of every environment variable Config reads.
func Variables() []string {
	var names []string
	walkEnv(reflect.TypeFor[Config](), func(_, key string) { names = append(names, key) })
	slices.Sort(names)
	return names
}

// fieldKeys maps a field name to its variable, for naming the variable in a
// parse error (env reports only the field name). Names shared by two structs
// (DatabaseURL) are strings, which never fail to parse.
func fieldKeys(t reflect.Type) map[string]string {
	keys := map[string]string{}
	walkEnv(t, func(field, key string) { keys[field] = key })
	return keys
}

// walkEnv calls visit with the field name and variable of every env-tagged
// field of t, nested structs included.
func walkEnv(t reflect.Type, visit func(field, key string)) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Duration]() {
			walkEnv(f.Type, visit)
			continue
		}
		if key, ok := f.Tag.Lookup("env"); ok && key != "-" {
			visit(f.Name, strings.Split(key, ",")[0])
		}
	}
}

// problems collects validation problems.
type problems []error

// add records one problem.
func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Errorf(format, args...)) }

// validate checks the parts in use.
func (c *Config) validate(use Use) []error {
	var p problems
	oneOf(p.add, "LOG_LEVEL", c.Log.Level, "debug", "info", "warn", "error")
	oneOf(p.add, "LOG_FORMAT", c.Log.Format, "text", "json")
	// The embedded engine and the shim's store both live in DATABASE_URL.
	if use&UseShim != 0 || use&UseEngine != 0 && !c.Hatchet.External() {
		validURL(p.add, "DATABASE_URL", c.Embedded.DatabaseURL, false, "postgres", "postgresql")
	}
	if use&UseEngine != 0 {
		c.validateEngine(&p)
	}
	if use&UseCelery != 0 {
		c.validateCelery(&p)
	}
	if use&UseHelpers != 0 {
		c.validateHelpers(&p)
	}
	if use&UseShim != 0 {
		c.validateShim(&p)
		c.validateFrontDoor(&p)
	}
	return p
}

// validateFrontDoor checks the front door's queues and what it needs: the
// broker, a twin that differs from each queue, and the settings file.
func (c *Config) validateFrontDoor(p *problems) {
	if !c.FrontDoor.Enabled() {
		return
	}
	if _, _, err := c.FrontDoor.Queues(); err != nil {
		p.add("%v", err)
	}
	if !c.Celery.Enabled {
		p.add("FRONT_DOOR needs the broker: CELERY_ENABLED=false")
	}
	if strings.TrimSpace(c.FrontDoor.TwinSuffix) == "" {
		p.add("FRONT_DOOR_TWIN_SUFFIX must not be empty: the twin would be the queue itself")
	}
	if c.FrontDoor.Prefetch < 1 || c.FrontDoor.Prefetch > 10000 {
		p.add("FRONT_DOOR_PREFETCH=%d: want 1 to 10000", c.FrontDoor.Prefetch)
	}
	if c.FrontDoor.SettingsFile == "" {
		p.add("FRONT_DOOR needs WORKFLOW_SETTINGS_FILE: a task message carries no document settings")
	}
}

// validateEngine checks the engine connection and the worker.
func (c *Config) validateEngine(p *problems) {
	oneOf(p.add, "HATCHET_CLIENT_TLS_STRATEGY", c.Hatchet.TLSStrategy, "tls", "mtls", "none")
	oneOf(p.add, "HATCHET_EMBEDDED_LOG_LEVEL", c.Embedded.EngineLog, "debug", "info", "warn", "error")
	if !c.Hatchet.External() && c.Hatchet.HostPort != "" {
		p.add("HATCHET_CLIENT_HOST_PORT is set but HATCHET_CLIENT_TOKEN is not: an external engine needs a token (unset HATCHET_CLIENT_HOST_PORT to run the embedded engine)")
	}
	if c.Hatchet.External() {
		if _, err := loaderutils.GetConfFromJWT(c.Hatchet.Token); err != nil {
			p.add("invalid HATCHET_CLIENT_TOKEN: %v (want the API token the engine issued)", err)
		}
	}
	if c.Hatchet.HostPort != "" {
		if _, _, err := c.Hatchet.SplitHostPort(); err != nil {
			p.add("HATCHET_CLIENT_HOST_PORT=%q: want host:port", c.Hatchet.HostPort)
		}
	}
	if !c.Hatchet.External() {
		validPort(p.add, "HATCHET_EMBEDDED_GRPC_PORT", c.Embedded.GRPCPort)
		validPort(p.add, "HATCHET_EMBEDDED_API_PORT", c.Embedded.APIPort)
		if c.Embedded.GRPCPort != 0 && c.Embedded.GRPCPort == c.Embedded.APIPort {
			p.add("HATCHET_EMBEDDED_GRPC_PORT and HATCHET_EMBEDDED_API_PORT are both %d", c.Embedded.GRPCPort)
		}
		oneOf(p.add, "HATCHET_EMBEDDED_MSGQUEUE", c.Embedded.MsgQueue, MsgQueuePostgres, MsgQueueRabbitMQ)
		if c.Embedded.MsgQueueURL != "" {
			validURL(p.add, "HATCHET_EMBEDDED_MSGQUEUE_URL", c.Embedded.MsgQueueURL, false, "amqp", "amqps")
		}
	}
	if strings.TrimSpace(c.Worker.Name) == "" {
		p.add("HATCHET_WORKER_NAME must not be empty")
	}
	if c.Worker.Slots < 1 || c.Worker.Slots > 10000 {
		p.add("HATCHET_WORKER_SLOTS=%d: must be between 1 and 10000", c.Worker.Slots)
	}
}

// validateCelery checks the broker and result backend.
func (c *Config) validateCelery(p *problems) {
	validURL(p.add, "CELERY_BROKER_URL", c.Celery.BrokerURL, false, "amqp", "amqps")
	validURL(p.add, "CELERY_RESULT_BACKEND", c.Celery.ResultBackend, false, "rpc", "db+postgresql", "db+postgres", "db+postgresql+psycopg2",
		"redis", "rediss")
}

// validateHelpers checks what the workflows call: LLM_ADAPTERS in full, and
// the document roots and storages.
func (c *Config) validateHelpers(p *problems) {
	if c.Helpers.X2TextURL != "" {
		validURL(p.add, "X2TEXT_URL", c.Helpers.X2TextURL, true, "http", "https")
	}
	c.Helpers.Adapters = parseAdapters(p, c.Helpers.LLMAdapters)
	if c.Helpers.LLMTimeout <= 0 {
		p.add("LLM_TIMEOUT=%s: must be positive", c.Helpers.LLMTimeout)
	}
	if c.Helpers.LLMMaxRetries < 0 || c.Helpers.LLMMaxRetries > 10 {
		p.add("LLM_MAX_RETRIES=%d: must be between 0 and 10", c.Helpers.LLMMaxRetries)
	}
	validURL(p.add, "PLATFORM_DATABASE_URL", c.Platform.DatabaseURL, false, "postgres", "postgresql")
	c.Platform.validate(p.add)
	c.Documents.parse(p.add)
}

// validateShim checks the HTTP service, the shim, its store and routing.
func (c *Config) validateShim(p *problems) {
	if _, _, err := net.SplitHostPort(c.Service.Addr); err != nil {
		p.add("SERVICE_ADDR=%q: want [host]:port", c.Service.Addr)
	}
	if c.Service.ShutdownTimeout <= 0 {
		p.add("SHUTDOWN_TIMEOUT=%s: must be positive", c.Service.ShutdownTimeout)
	}
	c.validateRouting(p)
	if len(c.Shim.Tokens()) == 0 && !c.Shim.InsecureDev {
		p.add("SHIM_API_TOKEN is required (or SHIM_INSECURE_DEV=true for a development shim without authentication)")
	}
	if c.Shim.MaxBodyBytes < 1024 {
		p.add("SHIM_MAX_BODY_BYTES=%d: must be at least 1024", c.Shim.MaxBodyBytes)
	}
	if c.Shim.LostAfter < 10*time.Second {
		p.add("SHIM_LOST_AFTER=%s: must be at least 10s", c.Shim.LostAfter)
	}
	if c.Shim.DashboardURL != "" {
		validURL(p.add, "HATCHET_DASHBOARD_URL", c.Shim.DashboardURL, true, "http", "https")
	}
	if c.Shim.TrackInterval < 100*time.Millisecond {
		p.add("SHIM_TRACK_INTERVAL=%s: must be at least 100ms", c.Shim.TrackInterval)
	}
	if c.Shim.TrackBatch < 1 || c.Shim.TrackBatch > 10000 {
		p.add("SHIM_TRACK_BATCH=%d: must be between 1 and 10000", c.Shim.TrackBatch)
	}
	if _, err := c.Shim.Proxies(); err != nil {
		p.add("SHIM_TRUSTED_PROXIES: %v", err)
	}
	if r := c.Shim.Retention; r != 0 && r < time.Hour {
		p.add("SHIM_RETENTION=%s: must be 0 (keep forever) or at least 1h", r)
	}
}

// validateRouting checks the backend pin, the percentages and the flags
// file (it must exist and load).
func (c *Config) validateRouting(p *problems) {
	oneOf(p.add, "TASK_QUEUE_BACKEND", string(c.Routing.Backend), string(featureflag.BackendHatchet), string(featureflag.BackendCelery))
	if c.Routing.Percentage < 0 || c.Routing.Percentage > 100 {
		p.add("TASK_ABSTRACTION_PERCENT=%g: must be between 0 and 100", c.Routing.Percentage)
	}
	if c.Routing.Backend == featureflag.BackendCelery && (c.Routing.UseTaskAbstraction || c.Routing.Percentage > 0) {
		p.add("TASK_QUEUE_BACKEND=celery pins every request to Celery, so USE_TASK_ABSTRACTION=true or TASK_ABSTRACTION_PERCENT>0 would be ignored: set TASK_QUEUE_BACKEND=hatchet to route to Hatchet")
	}
	if !c.Celery.Enabled && c.Routing.Backend == featureflag.BackendCelery {
		p.add("TASK_QUEUE_BACKEND=celery needs CELERY_ENABLED=true")
	}
	if c.Routing.FlagsFile != "" {
		if _, err := featureflag.New(context.Background(), c.Routing.Flags(), featureflag.WithLogger(slog.New(slog.DiscardHandler))); err != nil {
			p.add("FEATURE_FLAGS_FILE: %v", err)
		}
	}
}

// Flags is the environment's part of the feature flags.
func (r Routing) Flags() featureflag.Config {
	return featureflag.Config{UseTaskAbstraction: r.UseTaskAbstraction, Percentage: r.Percentage,
		AllowRequestOverride: r.AllowRequestOverride, File: r.FlagsFile}
}

// parseAdapters decodes LLM_ADAPTERS strictly and checks every adapter.
func parseAdapters(p *problems, text string) map[string]llm.Adapter {
	adapters := map[string]llm.Adapter{}
	if strings.TrimSpace(text) == "" {
		return adapters
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	err := dec.Decode(&adapters)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the object")
	}
	if err != nil {
		p.add(`LLM_ADAPTERS: want one JSON object {"id": {"base_url", "model", "api_key", "max_concurrency"}}: %s`, jsonerr.Describe(err))
		return nil
	}
	for _, id := range slices.Sorted(maps.Keys(adapters)) {
		a := adapters[id]
		validURL(p.add, fmt.Sprintf("LLM_ADAPTERS[%q].base_url", id), a.BaseURL, true, "http", "https")
		if strings.TrimSpace(a.Model) == "" {
			p.add("LLM_ADAPTERS[%q].model is empty", id)
		}
		if a.MaxConcurrency < 0 {
			p.add("LLM_ADAPTERS[%q].max_concurrency %d is negative", id, a.MaxConcurrency)
		}
	}
	return adapters
}

func oneOf(add func(string, ...any), name, value string, allowed ...string) {
	if !slices.Contains(allowed, value) {
		add("%s=%q: must be one of %s", name, value, strings.Join(allowed, ", "))
	}
}

func validPort(add func(string, ...any), name string, port int) {
	if port < 0 || port > 65535 {
		add("%s=%d: must be a TCP port (0 picks a free one)", name, port)
	}
}

// validURL checks raw is a URL with one of schemes and, when needHost, a
// host.
func validURL(add func(string, ...any), name, raw string, needHost bool, schemes ...string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		add("%s: not a URL: %v", name, redactURLError(err))
	case !slices.Contains(schemes, u.Scheme):
		add("%s: scheme %q not supported (want %s)", name, u.Scheme, strings.Join(schemes, ", "))
	case needHost && u.Hostname() == "":
		add("%s: %s://… has no host", name, u.Scheme)
	}
}

// redactURLError drops the URL text from a parse error, which may hold a password.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// defaultTokenFile is where the embedded engine on dbURL writes its token
// when HATCHET_EMBEDDED_TOKEN_FILE is unset: the token belongs to its
// database, so the file is named after it (hatchet-token-HOST-PORT-DB), and
// instances sharing a state directory on other databases never overwrite
// each other's. The default database keeps the plain name hatchet-token.
func defaultTokenFile(environ map[string]string, dbURL string) string {
	name := "hatchet-token"
	if id := databaseID(dbURL); id != databaseID(defaultDatabaseURL) {
		name += "-" + id
	}
	dir := environ["XDG_STATE_HOME"]
	if dir == "" {
		home := environ["HOME"]
		if home == "" {
			home = os.TempDir()
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "hatchet-worker", name)
}

// defaultDatabaseURL is DATABASE_URL's default.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/hatchet?sslmode=disable"

// databaseID names the Postgres database at raw by host, port and name, in
// characters safe in a file name.
func databaseID(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "invalid"
	}
	host := u.Hostname()
	if host == "" {
		host = u.Query().Get("host") // a Unix socket directory
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	return strings.Map(fileSafe, host+"-"+port+"-"+strings.TrimPrefix(u.Path, "/"))
}

// fileSafe keeps letters, digits, '.', '-' and '_', and turns anything else
// into '_'.
func fileSafe(r rune) rune {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
		return r
	}
	return '_'
}
