package testenv

import (
	"io"
	"net"
	"testing"
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
