package testenv

import (
	"io"
	"net"
	"net/url"
	"testing"
	"time"
)

// FreeAddr returns a loopback address nothing listens on (yet).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// Forward relays TCP connections arriving on addr to target until the test
// ends: a service "appearing" at addr, for tests of clients that connect
// before their server is up.
func Forward(t testing.TB, addr, target string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				_ = in.Close()
				continue
			}
			go relay(out, in)
			go relay(in, out)
		}
	}()
}

// relay copies src to dst, then closes dst so the other side sees the end.
func relay(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
}

// NotTLSServer returns the address of a server that answers every
// connection with bytes that are not TLS, as a plain gRPC server's first
// HTTP/2 frame is, and closes it after hold: what a TLS client meets at a
// plain engine.
func NotTLSServer(t testing.TB, hold time.Duration) string {
	t.Helper()
	return ServeTCP(t, func(c net.Conn) {
		_, _ = c.Write([]byte("\x00\x00\x00\x04\x00\x00\x00\x00\x00"))
		time.AfterFunc(hold, func() { _ = c.Close() })
	}).String()
}

// LateBackend is a real service moved, for a test, to an address nothing
// listens on yet.
type LateBackend struct {
	// URL is the service's URL with its host replaced by the late address.
	URL string
	// Addr is the late address (host:port).
	Addr string
	real string
}

// Late moves the service at rawURL to a free address nothing listens on
// until Appear is called.
func Late(t testing.TB, rawURL string) LateBackend {
	t.Helper()
	real, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	late := *real
	late.Host = FreeAddr(t)
	return LateBackend{URL: late.String(), Addr: late.Host, real: real.Host}
}

// Appear makes the service reachable at its late address until the test
// ends.
func (b LateBackend) Appear(t testing.TB) { Forward(t, b.Addr, b.real) }

// SilentPort returns the port of a loopback listener that accepts
// connections and never says a word, which keeps a client busy until its
// own timeout. Listener and connections close at the end of the test.
func SilentPort(t testing.TB) int {
	t.Helper()
	var conns []net.Conn // appended by the accept loop only, read after it ends
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ServeTCP(t, func(c net.Conn) { conns = append(conns, c) }).Port
}

// ServeTCP listens on a free loopback port and hands each connection it
// accepts to handle, one after another on the accept loop. At the end of the
// test it closes the listener and waits for the loop to end (so handle is
// no longer running). It returns the address.
func ServeTCP(t testing.TB, handle func(net.Conn)) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			handle(c)
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); <-done })
	return ln.Addr().(*net.TCPAddr)
}
