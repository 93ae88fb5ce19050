//go:build integration && !hatchet_external

package engine_test

import (
	"net"
	"testing"

	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
)

// TestEmbeddedListensOnLoopbackOnly lists this process's listening TCP
// sockets while the embedded engine runs and finds none beyond loopback. It
// first checks the list holds the engine's gRPC and API ports, so an empty
// or misread list cannot pass.
func TestEmbeddedListensOnLoopbackOnly(t *testing.T) {
	conn := hatchettest.Engine(t)
	listening := listeningAddrs(t)
	for _, addr := range []string{conn.Embedded.GRPCAddr, hostPort(t, conn.Embedded.APIURL)} {
		_, port, _ := net.SplitHostPort(addr)
		if !hasPort(listening, port) {
			t.Fatalf("no listener on port %s of %s among %v: the socket list is misread", port, addr, listening)
		}
	}
	for _, a := range listening {
		if !a.IP.IsLoopback() {
			t.Errorf("listening on %s: beyond loopback", a)
		}
	}
	t.Logf("listening: %v", listening)
}
