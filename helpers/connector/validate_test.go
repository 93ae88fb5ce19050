package connector

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
)

// secret is a password distinctive enough that finding it anywhere in an
// output means it leaked.
const secret = "Zebra-s3cr3t_9fQ7!"

// networkTypes are the types that talk to a server over TCP.
var networkTypes = []Type{TypePostgres, TypeMySQL, TypeRedis, TypeAMQP}

// checkNoSecret fails t when the secret shows in res or err.
func checkNoSecret(t *testing.T, res Result, err error) {
	t.Helper()
	if strings.Contains(res.Error, secret) || strings.Contains(res.ServerVersion, secret) {
		t.Errorf("result leaks the password: %+v", res)
	}
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("error leaks the password: %v", err)
	}
}

// mustValidate runs Validate and fails t on an error or a leaked secret.
func mustValidate(t *testing.T, s Settings) Result {
	t.Helper()
	res, err := Validate(context.Background(), s)
	t.Logf("Validate(%v) = %+v", s, res)
	checkNoSecret(t, res, err)
	if err != nil {
		t.Fatalf("Validate(%v): unexpected error %v", s, err)
	}
	return res
}

// wantOK fails t unless res reports a working connection with a version.
func wantOK(t *testing.T, res Result) {
	t.Helper()
	if !res.OK || res.Error != "" || res.ServerVersion == "" || res.LatencyMS <= 0 {
		t.Errorf("want ok with version and latency, got %+v", res)
	}
}

// wantFailure fails t unless res is a failure whose message contains want.
func wantFailure(t *testing.T, res Result, want string) {
	t.Helper()
	if res.OK || !strings.Contains(res.Error, want) {
		t.Errorf("want failure containing %q, got %+v", want, res)
	}
}

// closedPort returns a local TCP port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}

func TestValidateClosedPort(t *testing.T) {
	for _, typ := range networkTypes {
		t.Run(string(typ), func(t *testing.T) {
			port := closedPort(t)
			res := mustValidate(t, Settings{Type: typ, Host: "127.0.0.1", Port: port, User: "u", Password: secret})
			wantFailure(t, res, "connection refused")

			url := string(typ) + "://u:" + secret + "@127.0.0.1:" + strconv.Itoa(port) + "/"
			res = mustValidate(t, Settings{Type: typ, URL: url})
			wantFailure(t, res, "connection refused")
		})
	}
}

func TestValidateSilentServerTimesOut(t *testing.T) {
	const timeout = 300 * time.Millisecond
	const bound = 5 * time.Second // generous: the point is "not forever"
	for _, typ := range networkTypes {
		t.Run(string(typ), func(t *testing.T) {
			s := Settings{Type: typ, Host: "127.0.0.1", Port: testenv.SilentPort(t), User: "u", Password: secret,
				TimeoutMS: timeout.Milliseconds()}
			start := time.Now()
			res := mustValidate(t, s)
			if elapsed := time.Since(start); elapsed > bound {
				t.Errorf("check took %s, want under %s", elapsed, bound)
			}
			wantFailure(t, res, "timed out after 300ms")
		})
	}
}

func TestValidateCallerContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, typ := range append(networkTypes, TypeFilesystem) {
		t.Run(string(typ), func(t *testing.T) {
			s := Settings{Type: typ, Host: "127.0.0.1", Port: testenv.SilentPort(t), Password: secret, Path: t.TempDir()}
			res, err := Validate(ctx, s)
			checkNoSecret(t, res, err)
			if !errors.Is(err, context.Canceled) || res.OK {
				t.Errorf("want context.Canceled and no verdict, got %+v, %v", res, err)
			}
		})
	}
}

// check is one connector check and the failure it must report; an empty
// want means the check must succeed.
type check struct {
	name string
	s    Settings
	want string
}

// runChecks runs each check as a subtest against the real server.
func runChecks(t *testing.T, checks []check) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			res := mustValidate(t, c.s)
			if c.want == "" {
				wantOK(t, res)
			} else {
				wantFailure(t, res, c.want)
			}
		})
	}
}
