//lint:file-ignore SA1019 hatchet.NewClient (sdks/go) accepts only the v0 client options; the SDK offers no other way to pass a token, logger or namespace.

package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/rs/zerolog"
	"google.golang.org/grpc"

	v0client "github.com/hatchet-dev/hatchet/pkg/client" //nolint:staticcheck // the SDK's options are v0 client options
	clientloader "github.com/hatchet-dev/hatchet/pkg/client/loader"
	"github.com/hatchet-dev/hatchet/pkg/config/loader/loaderutils"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/internal/logging"
	"github.com/unstract/hatchet-worker/internal/sdkconn"
)

// ErrBadToken reports a Hatchet token the SDK cannot use.
var ErrBadToken = errors.New("invalid HATCHET_CLIENT_TOKEN")

// Conn is a connected Hatchet client and, in embedded mode, the engine it
// talks to.
type Conn struct {
	// Client is the Hatchet SDK client.
	Client *hatchet.Client
	// Embedded is the in-process engine, nil when joined to an external one.
	Embedded *Embedded
	// TenantID is the Hatchet tenant the client's token belongs to.
	TenantID string

	grpc  *grpc.ClientConn // the client's own connection
	probe config.Hatchet   // how to probe the engine's gRPC address
	log   *slog.Logger
}

// Connect joins the engine named by cfg.Hatchet, or starts an embedded one
// when no token is configured.
func Connect(ctx context.Context, cfg config.Config, log *slog.Logger) (*Conn, error) {
	if cfg.Hatchet.External() {
		client, err := NewClient(cfg.Hatchet, log)
		if err != nil {
			return nil, err
		}
		log.Info("joined external hatchet engine", "host_port", hostPortOf(cfg.Hatchet))
		return newConn(client, nil, cfg.Hatchet, log)
	}
	e, err := StartEmbedded(ctx, cfg.Embedded, log)
	if err != nil {
		return nil, fmt.Errorf("start embedded engine: %w", err)
	}
	// The embedded engine's token names its loopback gRPC address; it speaks
	// plain gRPC.
	h := config.Hatchet{Token: e.Token, TLSStrategy: "none", Namespace: cfg.Hatchet.Namespace}
	client, err := NewClient(h, log)
	if err == nil {
		var c *Conn
		if c, err = newConn(client, e, h, log); err == nil {
			return c, nil
		}
	}
	return nil, errors.Join(err, e.Stop(context.WithoutCancel(ctx)))
}

// newConn wraps client, reaching its gRPC connection.
func newConn(client *hatchet.Client, e *Embedded, h config.Hatchet, log *slog.Logger) (*Conn, error) {
	_, conn, err := sdkconn.Of(client)
	if err != nil {
		return nil, err
	}
	return &Conn{Client: client, Embedded: e, TenantID: tenantOf(h.Token), grpc: conn, probe: h, log: log}, nil
}

// tenantOf reads the tenant from a token the SDK has already accepted.
func tenantOf(token string) string {
	conf, err := loaderutils.GetConfFromJWT(token)
	if err != nil {
		return ""
	}
	return conf.TenantId
}

// NewClient returns an SDK client for the engine h names: its token,
// namespace, gRPC address (HATCHET_CLIENT_HOST_PORT, else the token's) and
// TLS strategy are passed to the SDK as options. Unlike hatchet.NewClient it
// checks the token first and reports a bad one as an error wrapping
// ErrBadToken instead of panicking.
func NewClient(h config.Hatchet, log *slog.Logger) (client *hatchet.Client, err error) {
	loaded, err := (&clientloader.ConfigLoader{}).LoadClientConfig(&h.Token)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	opts, err := clientOptions(h, loaded.GRPCBroadcastAddress, loaded.TLSConfig, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			client, err = nil, fmt.Errorf("%w: hatchet client: %v", ErrBadToken, r)
		}
	}()
	client, err = hatchet.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("hatchet client: %w", err)
	}
	return client, nil
}

// clientOptions turns h into SDK options. tokenAddr is the gRPC address the
// token names, used when h sets none; base is the TLS configuration the SDK
// loaded (root CAs), given the server name of the address used.
func clientOptions(h config.Hatchet, tokenAddr string, base *tls.Config, log *slog.Logger) ([]v0client.ClientOpt, error) {
	opts := []v0client.ClientOpt{
		v0client.WithToken(h.Token),
		v0client.WithLogger(logging.Zerolog(log, "hatchet-sdk", zerolog.WarnLevel)),
	}
	if h.Namespace != "" {
		opts = append(opts, v0client.WithNamespace(h.Namespace))
	}
	addr := tokenAddr
	if h.HostPort != "" {
		host, port, err := h.SplitHostPort()
		if err != nil {
			return nil, fmt.Errorf("HATCHET_CLIENT_HOST_PORT: %w", err)
		}
		opts, addr = append(opts, v0client.WithHostPort(host, port)), h.HostPort
	}
	switch h.TLSStrategy {
	case "none":
		opts = append(opts, v0client.WithTLSConfig(nil))
	case "tls":
		conf := &tls.Config{MinVersion: tls.VersionTLS12}
		if base != nil {
			conf = base.Clone()
		}
		if host, _, err := net.SplitHostPort(addr); err == nil {
			conf.ServerName = host
		}
		opts = append(opts, v0client.WithTLSConfig(conf))
	}
	// "mtls" keeps the SDK's own TLS settings: its certificates come from
	// HATCHET_CLIENT_TLS_CERT_FILE and friends, which this service does not
	// read.
	return opts, nil
}

// Close closes the client and its gRPC connection (ending every stream of
// it), then stops an embedded engine.
func (c *Conn) Close(ctx context.Context) error {
	var errs []error
	if err := c.Client.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := c.grpc.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close gRPC connection: %w", err))
	}
	if c.Embedded != nil {
		if err := c.Embedded.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func hostPortOf(h config.Hatchet) string {
	if h.HostPort != "" {
		return h.HostPort
	}
	return "(from token)"
}
