package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestValidateRejectsInvalidSettings(t *testing.T) {
	tests := []struct {
		name string
		s    Settings
		want string
	}{
		{"unknown type", Settings{Type: "oracle", Host: "db"}, "unknown type"},
		{"empty type", Settings{Host: "db"}, "unknown type"},
		{"missing host", Settings{Type: "postgres", Password: secret}, "host is required"},
		{"host with path", Settings{Type: "redis", Host: "db/0"}, "not a host name"},
		{"port too big", Settings{Type: "mysql", Host: "db", Port: 70000}, "out of range"},
		{"negative port", Settings{Type: "amqp", Host: "db", Port: -1}, "out of range"},
		{"redis database not a number", Settings{Type: "redis", Host: "db", Database: "zero"}, "must be a number"},
		{"negative timeout", Settings{Type: "redis", Host: "db", TimeoutMS: -1}, "timeout_ms"},
		{"timeout too long", Settings{Type: "redis", Host: "db", TimeoutMS: MaxTimeout.Milliseconds() + 1}, "timeout_ms"},
		{"url and fields", Settings{Type: "postgres", URL: "postgres://db/x", Host: "db"}, "url excludes"},
		{"url and tls", Settings{Type: "postgres", URL: "postgres://db/x", TLS: true}, "url excludes"},
		{"url scheme of another type", Settings{Type: "mysql", URL: "postgres://u:" + secret + "@db/x"}, "does not fit"},
		{"url without host", Settings{Type: "redis", URL: "redis://:" + secret + "@/0"}, "no host"},
		{"url port out of range", Settings{Type: "amqp", URL: "amqp://u:" + secret + "@db:99999/"}, "out of range"},
		{"url not parseable", Settings{Type: "postgres", URL: "postgres://u:" + secret + "@db:port/x"}, "not a valid URL"},
		{"url with raw @ in password", Settings{Type: "postgres", URL: "postgres://u:" + secret + "@x@db:bad/x"}, "not a valid URL"},
		{"missing path", Settings{Type: "filesystem"}, "path is required"},
		{"relative path", Settings{Type: "filesystem", Path: "data/in"}, "must be absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Validate(context.Background(), tt.s)
			checkNoSecret(t, res, err)
			if !errors.Is(err, ErrInvalidSettings) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want ErrInvalidSettings mentioning %q, got %v", tt.want, err)
			}
			if res != (Result{}) {
				t.Errorf("want zero result, got %+v", res)
			}
		})
	}
}

func TestNormalizedFillsDefaults(t *testing.T) {
	tests := []struct {
		in       Settings
		wantType Type
		wantPort int
	}{
		{Settings{Type: "PostgreSQL", Host: "db"}, TypePostgres, 5432},
		{Settings{Type: "mariadb", Host: "db"}, TypeMySQL, 3306},
		{Settings{Type: " redis ", Host: "db"}, TypeRedis, 6379},
		{Settings{Type: "rabbitmq", Host: "db"}, TypeAMQP, 5672},
		{Settings{Type: "amqp", Host: "db", TLS: true}, TypeAMQP, 5671},
		{Settings{Type: "amqp", Host: "db", Port: 1234, TLS: true}, TypeAMQP, 1234},
	}
	for _, tt := range tests {
		t.Run(string(tt.in.Type), func(t *testing.T) {
			got, err := tt.in.normalized()
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != tt.wantType || got.Port != tt.wantPort || got.timeout() != DefaultTimeout {
				t.Errorf("got type %q port %d timeout %s, want %q %d %s",
					got.Type, got.Port, got.timeout(), tt.wantType, tt.wantPort, DefaultTimeout)
			}
		})
	}
}

func TestSettingsDescriptionsHideThePassword(t *testing.T) {
	tests := []struct {
		name string
		s    Settings
		want string
	}{
		{"fields", Settings{Type: TypeMySQL, Host: "db", Port: 3306, User: "app", Password: secret}, "app@db:3306"},
		{"url", Settings{Type: TypeRedis, URL: "redis://app:" + secret + "@cache:6379/0"}, "redis://app:xxxxx@cache:6379/0"},
		{"path", Settings{Type: TypeFilesystem, Path: "/data"}, "/data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logged bytes.Buffer
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("check", "settings", tt.s)
			outputs := map[string]string{
				//lint:ignore S1025 the %s verb itself is under test
				"%v": fmt.Sprintf("%v", tt.s), "%+v": fmt.Sprintf("%+v", tt.s), "%s": fmt.Sprintf("%s", tt.s),
				"slog": logged.String(),
			}
			for form, out := range outputs {
				if strings.Contains(out, secret) || !strings.Contains(out, tt.want) {
					t.Errorf("%s = %q: want %q and no password", form, out, tt.want)
				}
			}
		})
	}
}

func TestSettingsJSON(t *testing.T) {
	in := `{"type":"mariadb","host":"db","port":3307,"user":"app","password":"pw","database":"unstract","tls":true,"timeout_ms":2500}`
	var s Settings
	if err := json.Unmarshal([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	want := Settings{Type: "mariadb", Host: "db", Port: 3307, User: "app", Password: "pw", Database: "unstract", TLS: true, TimeoutMS: 2500}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
}
