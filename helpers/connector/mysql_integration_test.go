//go:build integration

package connector

import (
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/unstract/hatchet-worker/internal/testenv"
)

// mysqlUser creates a password-protected user on the test server for the
// duration of t and returns settings that log in as it.
func mysqlUser(t *testing.T) Settings {
	t.Helper()
	dsn := testenv.MariaDBDSN(t)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })

	user := fmt.Sprintf("connector_check_%d", os.Getpid())
	exec := func(query string) {
		t.Helper()
		if _, err := db.Exec(query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	exec(fmt.Sprintf("CREATE OR REPLACE USER '%s'@'%%' IDENTIFIED BY '%s'", user, secret))
	t.Cleanup(func() { exec(fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", user)) })

	host, portText, _ := net.SplitHostPort(cfg.Addr)
	port, _ := strconv.Atoi(portText)
	return Settings{Type: "mariadb", Host: host, Port: port, User: user, Password: secret}
}

func TestValidateMySQL(t *testing.T) {
	good := mysqlUser(t)
	wrong := good
	wrong.Password = secret + "-wrong"
	unknownDB := good
	unknownDB.Database = "no_such_database"
	asURL := Settings{Type: TypeMySQL, URL: (&url.URL{Scheme: "mysql",
		User: url.UserPassword(good.User, secret), Host: good.addr(), Path: "/"}).String()}
	wrongURL := asURL
	wrongURL.URL = (&url.URL{Scheme: "mysql", User: url.UserPassword(good.User, wrong.Password), Host: good.addr()}).String()

	tests := []check{
		{"fields", good, ""},
		{"url", asURL, ""},
		{"wrong password", wrong, "authentication failed: Error 1045"},
		{"wrong password in url", wrongURL, "authentication failed: Error 1045"},
		{"database not granted", unknownDB, "authentication failed: Error 1044"},
	}
	runChecks(t, tests)
}
