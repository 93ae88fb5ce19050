//go:build !hatchet_external

package engine_test

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func hostPort(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func hasPort(addrs []*net.TCPAddr, port string) bool {
	for _, a := range addrs {
		if strconv.Itoa(a.Port) == port {
			return true
		}
	}
	return false
}

// listeningAddrs returns the local addresses of this process's listening TCP
// sockets: the LISTEN entries of /proc/self/net/tcp and tcp6 whose inodes are
// among this process's open files.
func listeningAddrs(t *testing.T) []*net.TCPAddr {
	t.Helper()
	mine := socketInodes(t)
	var addrs []*net.TCPAddr
	for _, table := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		for _, s := range listenEntries(t, table) {
			if mine[s.inode] {
				addrs = append(addrs, s.addr)
			}
		}
	}
	return addrs
}

// socketInodes returns the inodes of the sockets this process has open.
func socketInodes(t *testing.T) map[string]bool {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd (not Linux?): %v", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	return inodes
}

type procSocket struct {
	addr  *net.TCPAddr
	inode string
}

// tcpListen is the state column's value for LISTEN in /proc/net/tcp.
const tcpListen = "0A"

func listenEntries(t *testing.T, table string) []procSocket {
	t.Helper()
	f, err := os.Open(table)
	if err != nil {
		t.Fatalf("read sockets: %v", err)
	}
	defer f.Close()
	var out []procSocket
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != tcpListen {
			continue
		}
		addr, err := parseProcAddr(fields[1])
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		out = append(out, procSocket{addr: addr, inode: fields[9]})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return out
}

// parseProcAddr parses /proc/net/tcp's "IP:PORT" in hex: the IP as 32-bit
// words in host byte order (little-endian here), the port big-endian.
func parseProcAddr(s string) (*net.TCPAddr, error) {
	ipHex, portHex, ok := strings.Cut(s, ":")
	raw, err := hex.DecodeString(ipHex)
	if !ok || err != nil || (len(raw) != 4 && len(raw) != 16) {
		return nil, fmt.Errorf("bad address %q", s)
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port in %q: %w", s, err)
	}
	ip := make(net.IP, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(ip[i:], binary.LittleEndian.Uint32(raw[i:]))
	}
	return &net.TCPAddr{IP: ip, Port: int(port)}, nil
}

// TestParseProcAddr checks the decoding of /proc/net/tcp addresses.
func TestParseProcAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0100007F:1F90", "127.0.0.1:8080"},
		{"00000000:1BA5", "0.0.0.0:7077"},
		{"00000000000000000000000001000000:0050", "[::1]:80"},
		{"00000000000000000000000000000000:2231", "[::]:8753"},
		{"0000000000000000FFFF00000100007F:1F90", "127.0.0.1:8080"},
	}
	for _, tt := range tests {
		got, err := parseProcAddr(tt.in)
		if err != nil || got.String() != tt.want {
			t.Errorf("parseProcAddr(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}
