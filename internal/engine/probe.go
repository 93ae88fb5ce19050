package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/config/loader/loaderutils"

	"github.com/unstract/hatchet-worker/internal/config"
)

// ErrUnreachable reports an external engine whose gRPC address does not
// answer as configured.
var ErrUnreachable = errors.New("hatchet engine unreachable")

// probeTimeout bounds one Probe, so a silent address is named within
// seconds rather than after the SDK's own minutes of retries.
const probeTimeout = 5 * time.Second

// GRPCAddress is the gRPC address of the external engine h names:
// HATCHET_CLIENT_HOST_PORT, else the one in the token.
func GRPCAddress(h config.Hatchet) (string, error) {
	if h.HostPort != "" {
		return h.HostPort, nil
	}
	conf, err := loaderutils.GetConfFromJWT(h.Token)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	return conf.GrpcBroadcastAddress, nil
}

// Probe checks, within probeTimeout, that the external engine h names
// answers at its gRPC address: it connects and, with the tls strategy,
// completes a TLS handshake (mtls needs the SDK's client certificate, so
// only the connection is checked). Its error wraps ErrUnreachable and names
// the address and the reason, with a hint when TLS is misconfigured.
func Probe(ctx context.Context, h config.Hatchet) error {
	addr, err := GRPCAddress(h)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("%w at %s: %w", ErrUnreachable, addr, err)
	}
	defer conn.Close()
	if h.TLSStrategy != "tls" {
		return nil
	}
	if err := handshake(ctx, conn, addr); err != nil {
		return fmt.Errorf("%w at %s: TLS handshake (HATCHET_CLIENT_TLS_STRATEGY=tls): %w%s",
			ErrUnreachable, addr, err, tlsHint(err))
	}
	return nil
}

// handshake runs a TLS handshake on conn as the SDK's would, without
// checking the certificate: the probe asks whether the engine speaks TLS,
// the SDK verifies whom.
func handshake(ctx context.Context, conn net.Conn, addr string) error {
	host, _, _ := net.SplitHostPort(addr)
	tc := tls.Client(conn, &tls.Config{ServerName: host, InsecureSkipVerify: true, NextProtos: []string{"h2"}, MinVersion: tls.VersionTLS12})
	return tc.HandshakeContext(ctx)
}

// tlsHint suggests the setting behind a TLS handshake that met plain text.
func tlsHint(err error) string {
	var rec tls.RecordHeaderError
	if errors.As(err, &rec) {
		return " (the engine speaks plain gRPC: set HATCHET_CLIENT_TLS_STRATEGY=none)"
	}
	return ""
}
