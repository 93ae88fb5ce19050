//go:build integration

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
)

// namedWithin is how soon an unreachable dependency must be named, in the
// log and in /readyz, and how soon SIGTERM must end the process.
const namedWithin = 10 * time.Second

// TestUnreachableEngineNamed starts the service against external engines
// it cannot use: a closed port, and a plain engine reached with TLS. Within
// 10 s the log and the /readyz engine check name the address and the
// reason (with a hint for TLS); the service keeps running, and SIGTERM
// during that wait ends it cleanly within 10 s.
func TestUnreachableEngineNamed(t *testing.T) {
	bin := buildBinary(t)
	closed, plain := testenv.FreeAddr(t), testenv.NotTLSServer(t, 5*time.Second)
	tests := []struct {
		name, addr, strategy string
		want                 []string
	}{
		{"closed port", closed, "none", []string{"connection refused"}},
		{"plain engine, TLS client", plain, "tls", []string{"first record does not look like a TLS handshake", "set HATCHET_CLIENT_TLS_STRATEGY=none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := launchService(t, bin, "HATCHET_CLIENT_TOKEN="+testenv.FakeHatchetToken(tt.addr),
				"HATCHET_CLIENT_TLS_STRATEGY="+tt.strategy, "DATABASE_URL="+database(t, "hw_test_noengine"))
			want := append([]string{tt.addr}, tt.want...)
			svc.waitNamed(t, "engine", "hatchet engine unreachable", want...)
			svc.stopWithin(t, namedWithin)
		})
	}
}

// TestUnreachableResultBackendNamed starts the service while its database
// or Redis result backend is not there: within 10 s the log and the
// /readyz result_backend check name its address; the service starts
// anyway, and becomes ready once the backend appears.
func TestUnreachableResultBackendNamed(t *testing.T) {
	bin := buildBinary(t)
	t.Setenv("HATCHET_CLIENT_TLS_STRATEGY", "none")
	redisURL, err := testenv.CeleryRedisBackend(t.Context(), testenv.RedisAddr(t), 12)
	if err != nil {
		t.Fatal(err)
	}
	for name, backendURL := range map[string]string{"postgres": testenv.CeleryPostgresBackend(t), "redis": redisURL} {
		t.Run(name, func(t *testing.T) {
			late := testenv.Late(t, backendURL)
			svc := launchService(t, bin, "CELERY_RESULT_BACKEND="+late.URL,
				"DATABASE_URL="+database(t, "hw_test_nobackend_"+name))
			svc.waitNamed(t, "result_backend", "result backend unreachable", late.Addr)
			late.Appear(t)
			svc.waitReady(t)
			svc.stopWithin(t, namedWithin)
		})
	}
}

// waitNamed waits, at most namedWithin from now, until the /readyz check
// called check and a log line with msg both contain every one of want.
func (s *service) waitNamed(t *testing.T, check, msg string, want ...string) {
	t.Helper()
	s.within(t, namedWithin, func() bool { return containsAll(s.check(check), want) && containsAll(s.logLine(msg), want) },
		func() string {
			return fmt.Sprintf("/readyz %s = %q and log line %q; want both to name %q", check, s.check(check), s.logLine(msg), want)
		})
	t.Logf("/readyz %s: %s", check, s.check(check))
}

// waitCheck waits, at most namedWithin from now, until the /readyz check
// called check contains every one of want.
func (s *service) waitCheck(t *testing.T, check string, want ...string) {
	t.Helper()
	s.within(t, namedWithin, func() bool { return containsAll(s.check(check), want) },
		func() string { return fmt.Sprintf("/readyz %s = %q; want it to name %q", check, s.check(check), want) })
}

// within polls cond until it holds, failing with what's explanation (and
// the log) after d.
func (s *service) within(t *testing.T, d time.Duration, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("within %v: %s\n%s", d, what(), s.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// check returns the /readyz answer of one check ("" if absent).
func (s *service) check(name string) string {
	resp, err := http.Get("http://" + s.addr + "/readyz")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var body struct {
		Checks map[string]string `json:"checks"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return body.Checks[name]
}

// logLine returns the first log line containing msg ("" if none).
func (s *service) logLine(msg string) string {
	for _, line := range strings.Split(s.log.String(), "\n") {
		if strings.Contains(line, msg) {
			return line
		}
	}
	return ""
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return s != ""
}

// stopWithin sends SIGTERM and checks that the process exits 0 within d.
func (s *service) stopWithin(t *testing.T, d time.Duration) {
	t.Helper()
	began := time.Now()
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d\n%s", code, s.log.String())
	}
	if took := time.Since(began); took > d {
		t.Errorf("SIGTERM took %v to stop the service, want under %v", took, d)
	}
}
