//go:build integration

package connector

import (
	"net"
	"net/url"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/unstract/hatchet-worker/internal/testenv"
)

// postgresSettings returns field-based settings for the test server.
func postgresSettings(t *testing.T) Settings {
	t.Helper()
	u, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	password, _ := u.User.Password()
	return Settings{Type: TypePostgres, Host: u.Hostname(), Port: port, User: u.User.Username(),
		Password: password, Database: u.Path[1:]}
}

// The test server trusts every local connection, so it cannot refuse a
// password; refusals are exercised against refusingPostgres instead.
func TestValidatePostgres(t *testing.T) {
	fields := postgresSettings(t)
	wrongDB := fields
	wrongDB.Database = "no_such_database"
	tests := []struct {
		name string
		s    Settings
		want string // empty for success
	}{
		{"fields", fields, ""},
		{"url", Settings{Type: "postgresql", URL: testenv.PostgresURL(t)}, ""},
		{"unknown database", wrongDB, `database "no_such_database" does not exist`},
		{"wrong password", Settings{Type: TypePostgres, Host: "127.0.0.1", Port: refusingPostgres(t),
			User: "app", Password: secret}, "authentication failed"},
		{"worker's PGPASSWORD is not sent", Settings{Type: TypePostgres, Host: "127.0.0.1", Port: refusingPostgres(t),
			User: "app"}, "authentication failed"},
		{"wrong password in url", Settings{Type: TypePostgres,
			URL: "postgres://app:" + url.QueryEscape(secret) + "@127.0.0.1:" + strconv.Itoa(refusingPostgres(t)) + "/app"},
			"authentication failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PGPASSWORD", secret) // must never reach a connector's server
			res := mustValidate(t, tt.s)
			if tt.want == "" {
				wantOK(t, res)
			} else {
				wantFailure(t, res, tt.want)
			}
		})
	}
}

// refusingPostgres starts a PostgreSQL look-alike that asks for a cleartext
// password and refuses it, quoting it back in the error message as a careless
// server or proxy might. It returns the port it listens on.
func refusingPostgres(t *testing.T) int {
	t.Helper()
	return testenv.ServeTCP(t, refusePassword).Port
}

// refusePassword plays one failed login on conn.
func refusePassword(conn net.Conn) {
	defer func() { _ = conn.Close() }()
	backend := pgproto3.NewBackend(conn, conn)
	msg, err := backend.ReceiveStartupMessage()
	if _, ok := msg.(*pgproto3.SSLRequest); ok {
		if _, err := conn.Write([]byte("N")); err != nil {
			return
		}
		msg, err = backend.ReceiveStartupMessage()
	}
	if _, ok := msg.(*pgproto3.StartupMessage); !ok || err != nil {
		return
	}
	backend.Send(&pgproto3.AuthenticationCleartextPassword{})
	if backend.Flush() != nil || backend.SetAuthType(pgproto3.AuthTypeCleartextPassword) != nil {
		return
	}
	pw, ok := receive(backend).(*pgproto3.PasswordMessage)
	if !ok {
		return
	}
	backend.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: pgInvalidPassword,
		Message: "password authentication failed: " + pw.Password + " is wrong"})
	_ = backend.Flush()
}

// receive returns the next frontend message, or nil.
func receive(b *pgproto3.Backend) pgproto3.FrontendMessage {
	msg, err := b.Receive()
	if err != nil {
		return nil
	}
	return msg
}
