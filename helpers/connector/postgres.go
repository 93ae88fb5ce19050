package connector

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQL SQLSTATEs that mean the server refused the credentials:
// invalid_password and invalid_authorization_specification.
const (
	pgInvalidPassword = "28P01"
	pgInvalidAuthSpec = "28000"
)

// checkPostgres connects, makes one round trip and returns server_version.
func checkPostgres(ctx context.Context, s Settings) (string, error) {
	cfg, err := postgresConfig(s)
	if err != nil {
		return "", err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", postgresError(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if err := conn.Ping(ctx); err != nil {
		return "", postgresError(err)
	}
	return conn.PgConn().ParameterStatus("server_version"), nil
}

// postgresConfig builds the pgx configuration. The password is set from s
// alone, so a PGPASSWORD or .pgpass meant for this worker's own database is
// never sent to the connector's server.
func postgresConfig(s Settings) (*pgx.ConnConfig, error) {
	connString, password := s.URL, ""
	if connString == "" {
		connString, password = postgresURL(s), s.Password
	} else if u, err := url.Parse(s.URL); err == nil {
		password, _ = u.User.Password()
	}
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("postgres settings: %w", err)
	}
	cfg.Password = password
	return cfg, nil
}

// postgresURL writes field-based settings as a URL without the password.
func postgresURL(s Settings) string {
	mode := "prefer"
	if s.TLS {
		mode = "verify-full"
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(s.User),
		Host:     s.addr(),
		Path:     "/" + s.Database,
		RawQuery: url.Values{"sslmode": {mode}}.Encode(),
	}
	return u.String()
}

// postgresError marks credential refusals with errAuth.
func postgresError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == pgInvalidPassword || pgErr.Code == pgInvalidAuthSpec) {
		return fmt.Errorf("%w: %w", errAuth, err)
	}
	return err
}
