package connector

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Type names the kind of system a connector talks to.
type Type string

// The connector types Validate knows. Aliases ("postgresql", "mariadb",
// "rabbitmq") are accepted in Settings.Type and mapped to these.
const (
	TypePostgres   Type = "postgres"
	TypeMySQL      Type = "mysql"
	TypeRedis      Type = "redis"
	TypeAMQP       Type = "amqp"
	TypeFilesystem Type = "filesystem"
)

// Timeout bounds for one check.
const (
	DefaultTimeout = 10 * time.Second
	MaxTimeout     = 2 * time.Minute
)

// typeNames maps every accepted spelling to its Type.
var typeNames = map[string]Type{
	"postgres": TypePostgres, "postgresql": TypePostgres,
	"mysql": TypeMySQL, "mariadb": TypeMySQL,
	"redis":      TypeRedis,
	"amqp":       TypeAMQP,
	"rabbitmq":   TypeAMQP,
	"filesystem": TypeFilesystem,
}

// defaultPorts is the port used when Settings.Port is zero.
var defaultPorts = map[Type]int{TypePostgres: 5432, TypeMySQL: 3306, TypeRedis: 6379, TypeAMQP: 5672}

// urlSchemes lists the URL schemes each network type accepts.
var urlSchemes = map[Type][]string{
	TypePostgres: {"postgres", "postgresql"},
	TypeMySQL:    {"mysql", "mariadb"},
	TypeRedis:    {"redis", "rediss"},
	TypeAMQP:     {"amqp", "amqps"},
}

// Settings describe one connector as the platform sends them. A network
// connector is named either by URL or by the Host, Port, User, Password,
// Database, VHost and TLS fields, never both; a filesystem connector by Path.
type Settings struct {
	// Type is one of the Type constants or an alias of one.
	Type Type `json:"type"`
	// URL is a connection URL: postgres://, mysql://, redis:// or rediss://,
	// amqp:// or amqps://. It carries its own credentials and TLS choice.
	URL string `json:"url,omitempty"`
	// Host is the server's host name or IP address.
	Host string `json:"host,omitempty"`
	// Port is the server's TCP port; zero means the type's default.
	Port int `json:"port,omitempty"`
	// User is the user name to authenticate as.
	User string `json:"user,omitempty"`
	// Password is the secret that goes with User. It is never echoed.
	Password string `json:"password,omitempty"`
	// Database is the database name (PostgreSQL, MySQL) or number (Redis).
	Database string `json:"database,omitempty"`
	// VHost is the AMQP virtual host; empty means "/".
	VHost string `json:"vhost,omitempty"`
	// TLS requires an encrypted connection with a verified certificate.
	// Without it PostgreSQL and MySQL still use TLS when the server offers it.
	TLS bool `json:"tls,omitempty"`
	// Path is the absolute directory a filesystem connector points at.
	Path string `json:"path,omitempty"`
	// Writable also requires that a file can be created in Path.
	Writable bool `json:"writable,omitempty"`
	// TimeoutMS bounds the whole check; zero means DefaultTimeout.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
}

// String describes the connector without its secrets.
func (s Settings) String() string {
	return fmt.Sprintf("%s connector %s", s.Type, s.target())
}

// LogValue describes the connector to log/slog without its secrets.
func (s Settings) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", string(s.Type)), slog.String("target", s.target()))
}

// target names what the settings point at, with secrets masked.
func (s Settings) target() string {
	switch {
	case s.URL != "":
		return newRedactor(s).redact(s.URL)
	case s.Path != "":
		return s.Path
	default:
		return s.User + "@" + s.withDefaultPort().addr()
	}
}

// timeout is the check's time budget; call it on normalized settings.
func (s Settings) timeout() time.Duration {
	return time.Duration(s.TimeoutMS) * time.Millisecond
}

// normalized returns s with its type canonical and defaults filled in, or an
// error saying why s cannot describe a connection. The error never quotes a
// URL, which may hold a password.
func (s Settings) normalized() (Settings, error) {
	t, ok := typeNames[strings.ToLower(strings.TrimSpace(string(s.Type)))]
	if !ok {
		return s, fmt.Errorf("unknown type %q", s.Type)
	}
	s.Type = t
	if s.TimeoutMS < 0 || s.timeout() > MaxTimeout {
		return s, fmt.Errorf("timeout_ms must be between 0 and %d", MaxTimeout.Milliseconds())
	}
	if s.TimeoutMS == 0 {
		s.TimeoutMS = DefaultTimeout.Milliseconds()
	}
	switch {
	case t == TypeFilesystem:
		return s, s.checkPath()
	case s.URL != "":
		return s, s.checkURL()
	default:
		s = s.withDefaultPort()
		return s, s.checkFields()
	}
}

// checkPath validates a filesystem connector.
func (s Settings) checkPath() error {
	if s.Path == "" {
		return errors.New("path is required")
	}
	if !filepath.IsAbs(s.Path) {
		return errors.New("path must be absolute")
	}
	return nil
}

// checkURL validates a network connector named by URL.
func (s Settings) checkURL() error {
	if s.Host != "" || s.Port != 0 || s.User != "" || s.Password != "" ||
		s.Database != "" || s.VHost != "" || s.TLS {
		return errors.New("url excludes host, port, user, password, database, vhost and tls")
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return errors.New("url is not a valid URL")
	}
	if !schemeAllowed(s.Type, u.Scheme) {
		return fmt.Errorf("url scheme %q does not fit type %s", u.Scheme, s.Type)
	}
	if u.Hostname() == "" {
		return errors.New("url has no host")
	}
	if p := u.Port(); p != "" {
		return checkPort(p)
	}
	return nil
}

// schemeAllowed reports whether scheme names a URL for type t.
func schemeAllowed(t Type, scheme string) bool {
	for _, s := range urlSchemes[t] {
		if strings.EqualFold(s, scheme) {
			return true
		}
	}
	return false
}

// checkFields validates a network connector named by fields.
func (s Settings) checkFields() error {
	if s.Host == "" {
		return errors.New("host is required")
	}
	if strings.ContainsAny(s.Host, "/@ \t\r\n") {
		return fmt.Errorf("host %q is not a host name or address", s.Host)
	}
	if s.Port < 1 || s.Port > 65535 {
		return fmt.Errorf("port %d is out of range 1-65535", s.Port)
	}
	if s.Type == TypeRedis && s.Database != "" {
		if n, err := strconv.Atoi(s.Database); err != nil || n < 0 {
			return fmt.Errorf("redis database %q must be a number", s.Database)
		}
	}
	return nil
}

// checkPort validates a port given as text.
func checkPort(p string) error {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is out of range 1-65535", p)
	}
	return nil
}

// withDefaultPort fills in the type's port when none is given.
func (s Settings) withDefaultPort() Settings {
	if s.Port != 0 {
		return s
	}
	s.Port = defaultPorts[s.Type]
	if s.Type == TypeAMQP && s.TLS {
		s.Port = 5671
	}
	return s
}

// addr is host:port for field-based settings.
func (s Settings) addr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}
