package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresBinDir holds Debian's PostgreSQL server programs (initdb, pg_ctl).
const PostgresBinDir = "/usr/lib/postgresql/15/bin"

// pgClusterUser runs the server when the test runs as root: PostgreSQL
// refuses to run as root.
const pgClusterUser = "postgres"

// PGCluster is a throwaway PostgreSQL server owned by one test: its own data
// directory and port, so a test can restart or stop it without disturbing
// the machine's shared server.
type PGCluster struct {
	// Port is the TCP port it listens on (loopback only).
	Port int
	dir  string
	log  string
	asPG bool // run the server programs as pgClusterUser
}

// StartPGCluster initialises a cluster in a fresh temporary directory,
// starts it on a free loopback port and removes it in t.Cleanup. Trust
// authentication, user postgres; fsync is off (only an OS crash could lose
// data, and the test's restarts are clean). It skips the test with -short.
func StartPGCluster(t testing.TB) *PGCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a throwaway PostgreSQL cluster; skipped with -short")
	}
	if _, err := os.Stat(filepath.Join(PostgresBinDir, "initdb")); err != nil {
		t.Fatalf("testenv: PostgreSQL server programs not found in %s (run scripts/setup.sh): %v", PostgresBinDir, err)
	}
	c, err := newPGCluster()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { c.remove(t) })
	if err := c.initdb(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if err := c.pgctl("start", "-o", c.serverOptions()); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return c
}

func newPGCluster() (*PGCluster, error) {
	root, err := os.MkdirTemp("", "pgcluster")
	if err != nil {
		return nil, fmt.Errorf("cluster directory: %w", err)
	}
	port, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	c := &PGCluster{Port: port, dir: filepath.Join(root, "data"), log: filepath.Join(root, "server.log"), asPG: os.Geteuid() == 0}
	if c.asPG {
		if err := chownTo(root, pgClusterUser); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// chownTo gives path to the named user, so initdb run as that user can write.
func chownTo(path, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("user %s (PostgreSQL will not run as root): %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}

// URL returns a connection URL for database name (user postgres, no TLS).
func (c *PGCluster) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, name)
}

// Restart stops the server with fast shutdown (open connections are cut,
// as in a failover or `pg_ctlcluster … restart`) and starts it again.
func (c *PGCluster) Restart() error {
	return c.pgctl("restart", "-m", "fast", "-o", c.serverOptions())
}

// Stop stops the server with fast shutdown; Start brings it back.
func (c *PGCluster) Stop() error { return c.pgctl("stop", "-m", "fast") }

// Start starts a stopped server.
func (c *PGCluster) Start() error { return c.pgctl("start", "-o", c.serverOptions()) }

// Exec runs sql on database name.
func (c *PGCluster) Exec(ctx context.Context, name, sql string) error {
	conn, err := pgx.Connect(ctx, c.URL(name))
	if err != nil {
		return fmt.Errorf("connect to throwaway cluster: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("exec on throwaway cluster: %w", err)
	}
	return nil
}

// Log returns the server's log so far.
func (c *PGCluster) Log() string {
	b, _ := os.ReadFile(c.log)
	return string(b)
}

func (c *PGCluster) serverOptions() string {
	return fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c max_connections=300", c.Port)
}

func (c *PGCluster) initdb() error {
	return c.run(filepath.Join(PostgresBinDir, "initdb"), "-D", c.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
}

// pgctl runs pg_ctl with action and waits for it to finish (-w, 60 s).
func (c *PGCluster) pgctl(action string, args ...string) error {
	full := append([]string{action, "-D", c.dir, "-l", c.log, "-w", "-t", "60"}, args...)
	return c.run(filepath.Join(PostgresBinDir, "pg_ctl"), full...)
}

// run executes a server program, as pgClusterUser when the test is root.
func (c *PGCluster) run(prog string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	if c.asPG {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", pgClusterUser, "--", prog}, args...)...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %v: %w\n%s", filepath.Base(prog), args, err, out)
	}
	return nil
}

// remove stops the server at once and deletes its directory.
func (c *PGCluster) remove(t testing.TB) {
	_ = c.pgctl("stop", "-m", "immediate")
	if t.Failed() {
		t.Logf("throwaway postgres log:\n%s", tail(c.Log(), 4000))
	}
	_ = os.RemoveAll(filepath.Dir(c.dir))
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
