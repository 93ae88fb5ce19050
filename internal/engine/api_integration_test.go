//go:build integration && !hatchet_external

package engine_test

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/config/loader/loaderutils"

	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
)

// TestEmbeddedAPILoopbackOnly calls the embedded engine's REST API with its
// token, once through loopback and once through each of this host's other
// addresses: only loopback gets an answer; elsewhere nothing listens.
func TestEmbeddedAPILoopbackOnly(t *testing.T) {
	conn := hatchettest.Engine(t)
	tenant, err := loaderutils.GetConfFromJWT(conn.Embedded.Token)
	if err != nil {
		t.Fatal(err)
	}
	api, err := url.Parse(conn.Embedded.APIURL)
	if err != nil {
		t.Fatal(err)
	}
	since := url.Values{"since": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "only_tasks": {"false"}}
	path := "/api/v1/stable/tenants/" + tenant.TenantId + "/workflow-runs?" + since.Encode()
	if got := status(t, "http://"+api.Host+path, conn.Embedded.Token); got != http.StatusOK {
		t.Fatalf("loopback: status %d, want 200", got)
	}
	others := nonLoopbackAddrs(t)
	if len(others) == 0 {
		t.Skip("this host has no non-loopback address to call from")
	}
	for _, ip := range others {
		addr := net.JoinHostPort(ip.String(), api.Port())
		if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
			c.Close()
			t.Errorf("%s accepts connections, want nothing listening there", addr)
		}
	}
}

func status(t *testing.T, u, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	t.Logf("%s: %d %s", u, resp.StatusCode, b)
	return resp.StatusCode
}

// nonLoopbackAddrs lists this host's up IPv4 addresses other than loopback.
func nonLoopbackAddrs(t *testing.T) []net.IP {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatalf("interface addresses: %v", err)
	}
	var ips []net.IP
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if ok && !n.IP.IsLoopback() && n.IP.To4() != nil && !strings.HasPrefix(n.IP.String(), "169.254.") {
			ips = append(ips, n.IP)
		}
	}
	return ips
}
