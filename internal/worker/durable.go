//lint:file-ignore SA1019 durable tasks wait through the SDK's v0 DurableTaskListener, as the SDK's own worker does.

package worker

import (
	"context"
	"sync"

	"github.com/rs/zerolog"

	v0client "github.com/hatchet-dev/hatchet/pkg/client" //nolint:staticcheck // see the file comment
	pkgworker "github.com/hatchet-dev/hatchet/pkg/worker"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
)

// durableStreams holds the durable-task stream of each registration of
// the worker, opened on its first durable task, as the SDK's own worker
// does (without its eviction manager: no workflow sets an eviction policy).
type durableStreams struct {
	dispatcher v0client.DispatcherClient
	log        *zerolog.Logger

	mu        sync.Mutex // guards the fields below
	listeners map[string]*v0client.DurableTaskListener
	eviction  *bool // whether the engine supports durable eviction; nil until asked
	stopped   bool
}

func newDurableStreams(d v0client.DispatcherClient, log *zerolog.Logger) *durableStreams {
	return &durableStreams{dispatcher: d, log: log, listeners: map[string]*v0client.DurableTaskListener{}}
}

// run runs the durable task fn with the stream of the registration that
// received it.
func (d *durableStreams) run(ctx pkgworker.HatchetContext, fn func(pkgworker.HatchetContext) (any, error)) (any, error) {
	listener, eviction := d.listener(ctx, ctx.WorkerId())
	pkgworker.SetContextDurableHooks(ctx, nil, listener, eviction)
	defer pkgworker.SetContextDurableHooks(ctx, nil, nil, false)
	return fn(ctx)
}

// listener returns the stream of workerID, opening it the first time.
func (d *durableStreams) listener(ctx context.Context, workerID string) (*v0client.DurableTaskListener, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.eviction == nil {
		d.eviction = d.supportsEviction(ctx)
	}
	if workerID == "" || d.stopped {
		return nil, false
	}
	l, ok := d.listeners[workerID]
	if !ok {
		l = v0client.NewDurableTaskListener(workerID, d.dispatcher.DurableTaskStream, d.log)
		l.Start(context.Background())
		d.listeners[workerID] = l
	}
	return l, *d.eviction
}

// supportsEviction asks the engine's version, as the SDK's worker does at
// start; an engine that cannot say is taken not to.
func (d *durableStreams) supportsEviction(ctx context.Context) *bool {
	ok := false
	if v, err := d.dispatcher.GetVersion(ctx); err == nil && v != "" {
		ok, _ = hatchet.SupportsDurableEviction(v)
	}
	return &ok
}

// stop closes every stream.
func (d *durableStreams) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	for id, l := range d.listeners {
		l.Stop()
		delete(d.listeners, id)
	}
}
