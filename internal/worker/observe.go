//lint:file-ignore SA1019 the worker's client is the SDK's v0 client (pkg/client).

package worker

import (
	"context"

	v0client "github.com/hatchet-dev/hatchet/pkg/client" //nolint:staticcheck // see the file comment
)

// observedClient is the SDK client the worker runs on, with its dispatcher
// replaced by one that reports each registration.
type observedClient struct {
	v0client.Client
	dispatcher observedDispatcher
}

// Dispatcher returns the observed dispatcher.
func (c *observedClient) Dispatcher() v0client.DispatcherClient { return c.dispatcher }

// observedDispatcher tells listening the outcome of every registration
// (GetActionListener), so the worker knows locally, without asking the
// engine, whether it is registered.
type observedDispatcher struct {
	v0client.DispatcherClient
	listening func(workerID string, err error)
}

// GetActionListener registers the worker and reports the outcome.
func (d observedDispatcher) GetActionListener(ctx context.Context, req *v0client.GetActionListenerRequest) (v0client.WorkerActionListener, *string, error) {
	l, id, err := d.DispatcherClient.GetActionListener(ctx, req)
	if err == nil && ctx.Err() == nil {
		d.listening(deref(id), nil)
	} else if ctx.Err() == nil {
		d.listening("", err)
	}
	return l, id, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
