//go:build hatchet_external

package engine

import (
	"context"
	"errors"
	"log/slog"

	"github.com/unstract/hatchet-worker/internal/config"
)

// errNoEmbeddedEngine is StartEmbedded's answer in this build.
var errNoEmbeddedEngine = errors.New("this binary was built without the embedded Hatchet engine " +
	"(-tags hatchet_external): set HATCHET_CLIENT_TOKEN to join an external engine")

// Embedded stands in for the in-process engine, which a build with the
// hatchet_external tag leaves out: the engine's code is most of the binary,
// and mapping it costs a worker joined to an external engine about 20 MB of
// resident memory. StartEmbedded always fails in this build.
type Embedded struct {
	// Token is a tenant API token for this engine.
	Token string
	// GRPCAddr is the engine's gRPC address (host:port, loopback).
	GRPCAddr string
	// APIURL is the engine's REST API base URL (loopback).
	APIURL string
	// TokenFile is where Token was written.
	TokenFile string
}

// StartEmbedded reports that this build has no embedded engine.
func StartEmbedded(context.Context, config.Embedded, *slog.Logger) (*Embedded, error) {
	return nil, errNoEmbeddedEngine
}

// Stop does nothing: no engine runs.
func (e *Embedded) Stop(context.Context) error { return nil }

// Ready reports that no engine runs.
func (e *Embedded) Ready(context.Context) error { return errNoEmbeddedEngine }

// WorkerReleased reports that no engine runs.
func (e *Embedded) WorkerReleased(context.Context, string) (bool, error) {
	return false, errNoEmbeddedEngine
}
