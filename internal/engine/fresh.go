package engine

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/connectivity"
)

// grpcReadyTimeout bounds the gRPC call of one readiness check.
const grpcReadyTimeout = 2 * time.Second

// Ready reports whether a run can be created now: the embedded engine is
// healthy, and the client's own gRPC connection answers a call within
// grpcReadyTimeout (the SDK creates runs on it; its REST API may answer
// while the connection still waits out a reconnect backoff).
func (c *Conn) Ready(ctx context.Context) error {
	if c.Embedded != nil {
		if err := c.Embedded.Ready(ctx); err != nil {
			return err
		}
	}
	if c.grpc.GetState() == connectivity.TransientFailure {
		if err := c.refresh(ctx); err != nil {
			return err // names the address and why
		}
		return fmt.Errorf("reconnecting to %s", c.grpc.Target())
	}
	ctx, cancel := context.WithTimeout(ctx, grpcReadyTimeout)
	defer cancel()
	if _, err := c.Client.GetEngineVersion(ctx); err != nil {
		return fmt.Errorf("grpc: %w", err)
	}
	return nil
}

// Connected reports, without a call to the engine, whether the client's
// gRPC connection is usable: an error while it is in transient failure.
func (c *Conn) Connected() error {
	if c.grpc.GetState() == connectivity.TransientFailure {
		return fmt.Errorf("hatchet engine connection to %s is down", c.grpc.Target())
	}
	return nil
}

// refreshInterval is how often KeepFresh probes an engine its connection
// has lost.
const refreshInterval = time.Second

// KeepFresh watches the client's gRPC connection until ctx ends: while it
// is in transient failure, it probes the engine every refreshInterval and,
// as soon as its address accepts a connection (Probe), makes the connection
// retry at once instead of waiting out gRPC's reconnect backoff (up to two
// minutes).
func (c *Conn) KeepFresh(ctx context.Context) error {
	for announced := false; ; {
		s := c.grpc.GetState()
		if s == connectivity.Shutdown {
			return nil
		}
		if s != connectivity.TransientFailure {
			announced = false
			if !c.grpc.WaitForStateChange(ctx, s) {
				return nil
			}
			continue
		}
		if c.refresh(ctx) == nil && !announced {
			announced = true
			c.log.Info("hatchet engine address accepts connections again; reconnecting now", "target", c.grpc.Target())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(refreshInterval):
		}
	}
}

// refresh cuts the connection's reconnect backoff short when the engine
// answers a probe; its error is the probe's.
func (c *Conn) refresh(ctx context.Context) error {
	if err := Probe(ctx, c.probe); err != nil {
		return err
	}
	c.grpc.ResetConnectBackoff()
	return nil
}
