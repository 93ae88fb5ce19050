// Package shutdown catches SIGINT and SIGTERM from the moment the process
// starts: its init subscribes to them before the heavier packages of the
// binary initialise, so a signal during start-up is a clean stop rather
// than the runtime's default (the process killed by the signal).
package shutdown

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// signals holds the first stop signals, received from init on.
var signals = make(chan os.Signal, 2)

func init() { signal.Notify(signals, os.Interrupt, syscall.SIGTERM) }

// Context returns a context that ends, with the signal as its cause, at
// the first SIGINT or SIGTERM, including one received before Context was
// called. stop releases the context; a later signal then ends the process
// as the runtime's default does.
func Context(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-signals:
			cancel(signalError{sig})
		case <-done:
		}
	}()
	return ctx, func() {
		close(done)
		signal.Stop(signals)
		cancel(context.Canceled)
	}
}

// signalError is the cause of a context ended by a signal.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return e.sig.String() + " signal received" }
