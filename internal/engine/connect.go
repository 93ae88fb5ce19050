//lint:file-ignore SA1019 hatchet.NewClient (sdks/go) accepts only the v0 client options; the SDK offers no other way to pass a token, logger or namespace.

package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/rs/zerolog"

	v0client "github.com/hatchet-dev/hatchet/pkg/client" //nolint:staticcheck // the SDK's options are v0 client options
	clientloader "github.com/hatchet-dev/hatchet/pkg/client/loader"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/internal/logging"
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
}

// Connect joins the engine named by cfg.Hatchet, or starts an embedded one
// when no token is configured.
func Connect(ctx context.Context, cfg config.Config, log *slog.Logger) (*Conn, error) {
	if cfg.Hatchet.External() {
		client, err := NewClient(cfg.Hatchet.Token, cfg.Hatchet.Namespace, log)
		if err != nil {
			return nil, err
		}
		log.Info("joined external hatchet engine", "host_port", hostPortOf(cfg.Hatchet))
		return &Conn{Client: client}, nil
	}
	e, err := StartEmbedded(ctx, cfg.Embedded, log)
	if err != nil {
		return nil, fmt.Errorf("start embedded engine: %w", err)
	}
	if err := os.Setenv("HATCHET_CLIENT_TLS_STRATEGY", "none"); err != nil {
		return nil, errors.Join(err, e.Stop(context.WithoutCancel(ctx)))
	}
	client, err := NewClient(e.Token, cfg.Hatchet.Namespace, log)
	if err != nil {
		return nil, errors.Join(err, e.Stop(context.WithoutCancel(ctx)))
	}
	return &Conn{Client: client, Embedded: e}, nil
}

// NewClient returns an SDK client for token. Unlike hatchet.NewClient it
// checks the token first and reports a bad one as an error wrapping
// ErrBadToken instead of panicking.
func NewClient(token, namespace string, log *slog.Logger) (client *hatchet.Client, err error) {
	if _, err := (&clientloader.ConfigLoader{}).LoadClientConfig(&token); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	defer func() {
		if r := recover(); r != nil {
			client, err = nil, fmt.Errorf("%w: hatchet client: %v", ErrBadToken, r)
		}
	}()
	opts := []v0client.ClientOpt{
		v0client.WithToken(token),
		v0client.WithLogger(logging.Zerolog(log, "hatchet-sdk", zerolog.WarnLevel)),
	}
	if namespace != "" {
		opts = append(opts, v0client.WithNamespace(namespace))
	}
	client, err = hatchet.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("hatchet client: %w", err)
	}
	return client, nil
}

// Close closes the client and stops an embedded engine.
func (c *Conn) Close(ctx context.Context) error {
	var errs []error
	if err := c.Client.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	if c.Embedded != nil {
		if err := c.Embedded.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Ready reports whether the engine answers.
func (c *Conn) Ready(ctx context.Context) error {
	if c.Embedded != nil {
		return c.Embedded.Ready(ctx)
	}
	_, err := c.Client.Workers().List(ctx)
	return err
}

func hostPortOf(h config.Hatchet) string {
	if h.HostPort != "" {
		return h.HostPort
	}
	return "(from token)"
}
