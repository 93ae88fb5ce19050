package connector

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// MySQL error numbers that mean the server refused the credentials:
// ER_DBACCESS_DENIED_ERROR, ER_ACCESS_DENIED_ERROR and
// ER_ACCESS_DENIED_NO_PASSWORD_ERROR.
var mysqlAuthErrors = map[uint16]bool{1044: true, 1045: true, 1698: true}

// checkMySQL connects to MySQL or MariaDB and returns VERSION().
func checkMySQL(ctx context.Context, s Settings) (string, error) {
	cfg, err := mysqlConfig(s)
	if err != nil {
		return "", err
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return "", fmt.Errorf("mysql settings: %w", err)
	}
	db := sql.OpenDB(connector)
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(1)

	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return "", mysqlError(err)
	}
	return version, nil
}

// mysqlConfig builds the driver configuration from fields or URL, bounded by
// the check's timeout and with the driver's own logging silenced (every
// error is returned instead).
func mysqlConfig(s Settings) (*mysql.Config, error) {
	cfg, err := mysqlBaseConfig(s)
	if err != nil {
		return nil, err
	}
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = s.timeout(), s.timeout(), s.timeout()
	cfg.Logger = &mysql.NopLogger{}
	return cfg, nil
}

// mysqlBaseConfig reads the connection target and credentials.
func mysqlBaseConfig(s Settings) (*mysql.Config, error) {
	if s.URL != "" {
		return mysqlConfigFromURL(s.URL)
	}
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", s.addr()
	cfg.User, cfg.Passwd, cfg.DBName = s.User, s.Password, s.Database
	cfg.TLSConfig = "preferred"
	if s.TLS {
		cfg.TLSConfig = "true"
	}
	return cfg, nil
}

// mysqlConfigFromURL reads mysql://user:password@host:port/db?param=value,
// whose query takes the driver's DSN parameters (tls=true, …).
func mysqlConfigFromURL(raw string) (*mysql.Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("mysql settings: url is not a valid URL")
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	password, _ := u.User.Password()
	dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s?%s",
		u.User.Username(), password, addr, strings.TrimPrefix(u.Path, "/"), u.RawQuery)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql settings: %w", err)
	}
	return cfg, nil
}

// mysqlError marks credential refusals with errAuth.
func mysqlError(err error) error {
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) && mysqlAuthErrors[myErr.Number] {
		return fmt.Errorf("%w: %w", errAuth, err)
	}
	return err
}
