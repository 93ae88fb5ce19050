package engine

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/internal/testenv"
)

// TestProbe checks that an external engine that cannot be reached is named
// with its address and the reason within seconds, with a hint on a TLS
// mismatch, and that engines that answer pass.
func TestProbe(t *testing.T) {
	tlsSrv := httptest.NewUnstartedServer(nil)
	tlsSrv.EnableHTTP2 = true // gRPC's protocol
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	plain := testenv.NotTLSServer(t, 10*time.Second)
	refused := testenv.FreeAddr(t)
	tests := []struct {
		name, addr, strategy string
		want                 []string // empty: reachable
	}{
		{"refused", refused, "none", []string{refused, "connection refused"}},
		{"refused with tls", refused, "tls", []string{refused, "connection refused"}},
		{"plain engine, tls client", plain, "tls", []string{plain, "first record does not look like a TLS handshake", "HATCHET_CLIENT_TLS_STRATEGY=none"}},
		{"plain engine, plain client", plain, "none", nil},
		{"tls engine, tls client", tlsSrv.Listener.Addr().String(), "tls", nil},
		{"mtls: connection only", plain, "mtls", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			began := time.Now()
			err := Probe(context.Background(), config.Hatchet{Token: "unused", HostPort: tt.addr, TLSStrategy: tt.strategy})
			if took := time.Since(began); took > probeTimeout+time.Second {
				t.Errorf("took %v", took)
			}
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Probe = %v, want reachable", err)
				}
				return
			}
			if !errors.Is(err, ErrUnreachable) {
				t.Fatalf("Probe = %v, want ErrUnreachable", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Probe = %v, want it to say %q", err, w)
				}
			}
		})
	}
}
