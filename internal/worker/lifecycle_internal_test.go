//lint:file-ignore SA1019 the fake engine implements the SDK's v0 client interfaces.

package worker

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	v0client "github.com/hatchet-dev/hatchet/pkg/client" //nolint:staticcheck // see the file comment
)

// fakeEngine is the v0 client of an engine whose registration answers as
// register says; only the methods the worker's registration calls exist.
type fakeEngine struct {
	v0client.Client
	dispatcher *fakeDispatcher
}

func (f *fakeEngine) Dispatcher() v0client.DispatcherClient { return f.dispatcher }
func (f *fakeEngine) RunnableActions() []string             { return nil }
func (f *fakeEngine) CloudRegisterID() *string              { return nil }
func (f *fakeEngine) Logger() *zerolog.Logger               { l := zerolog.Nop(); return &l }
func (f *fakeEngine) Namespace() string                     { return "" }

type fakeDispatcher struct {
	v0client.DispatcherClient
	calls    atomic.Int32
	register func(ctx context.Context, call int32) (v0client.WorkerActionListener, error)
}

func (d *fakeDispatcher) GetActionListener(ctx context.Context, _ *v0client.GetActionListenerRequest) (v0client.WorkerActionListener, *string, error) {
	l, err := d.register(ctx, d.calls.Add(1))
	id := "worker-1"
	return l, &id, err
}

// failingListener is a registered listener whose stream ends with err.
type failingListener struct{ err error }

func (l failingListener) Actions(context.Context) (<-chan *v0client.Action, <-chan error, error) {
	errs := make(chan error, 1)
	errs <- l.err
	return make(chan *v0client.Action), errs, nil
}
func (failingListener) Unregister() error { return nil }

// TestRunSurvivesTheEngine runs the worker against engines that refuse it,
// never answer before the stop, or cut its listener: Run never panics,
// registers again after a failure, Ready names why it is not registered,
// and Drain ends Run within a second.
func TestRunSurvivesTheEngine(t *testing.T) {
	refused := errors.New("rpc error: code = PermissionDenied desc = bad token")
	tests := []struct {
		name      string
		register  func(ctx context.Context, call int32) (v0client.WorkerActionListener, error)
		wantCalls int32  // registrations expected before the drain
		wantReady string // in Ready's error before the drain ("" for ready)
	}{
		{"refused", func(context.Context, int32) (v0client.WorkerActionListener, error) { return nil, refused },
			2, "PermissionDenied"},
		{"stopped mid-registration", func(ctx context.Context, _ int32) (v0client.WorkerActionListener, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}, 1, "not registered yet"},
		{"listener cut", func(_ context.Context, call int32) (v0client.WorkerActionListener, error) {
			return failingListener{errors.New("stream ended")}, nil
		}, 2, "stream ended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &fakeDispatcher{register: tt.register}
			w, err := newWorker(&fakeEngine{dispatcher: d}, "test", 1, nil, slog.Default())
			if err != nil {
				t.Fatal(err)
			}
			ran := make(chan error, 1)
			go func() { ran <- w.Run(context.Background()) }()
			deadline := time.Now().Add(5 * time.Second)
			for d.calls.Load() < tt.wantCalls && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := d.calls.Load(); got < tt.wantCalls {
				t.Fatalf("%d registrations in 5 s, want at least %d", got, tt.wantCalls)
			}
			time.Sleep(50 * time.Millisecond) // the failure is recorded
			if err := w.Ready(t.Context()); err == nil || !strings.Contains(err.Error(), tt.wantReady) {
				t.Errorf("Ready = %v, want an error containing %q", err, tt.wantReady)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if err := w.Drain(ctx); err != nil {
				t.Errorf("Drain: %v", err)
			}
			select {
			case err := <-ran:
				if err != nil {
					t.Errorf("Run = %v, want nil after Drain", err)
				}
			case <-time.After(time.Second):
				t.Fatal("Run did not return within 1 s of Drain")
			}
		})
	}
}

// TestDrainBeforeRun keeps a worker drained before Run started from ever
// registering.
func TestDrainBeforeRun(t *testing.T) {
	d := &fakeDispatcher{register: func(context.Context, int32) (v0client.WorkerActionListener, error) { return nil, nil }}
	w, err := newWorker(&fakeEngine{dispatcher: d}, "test", 1, nil, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := w.Run(t.Context()); err != nil {
		t.Fatalf("Run after Drain = %v", err)
	}
	if n := d.calls.Load(); n != 0 {
		t.Errorf("%d registrations after Drain, want 0", n)
	}
}

// TestDrainIdleAfterDeadline drains a worker with no task in flight on a
// context already ended, as a hand-over that used up the shutdown timeout
// leaves it: nothing was cut off, so the drain succeeds.
func TestDrainIdleAfterDeadline(t *testing.T) {
	d := &fakeDispatcher{register: func(context.Context, int32) (v0client.WorkerActionListener, error) { return nil, nil }}
	w, err := newWorker(&fakeEngine{dispatcher: d}, "test", 1, nil, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for range 50 { // the ended context and the finished tasks are both ready each time
		if err := w.Drain(ctx); err != nil {
			t.Fatalf("Drain of an idle worker after its deadline = %v, want nil", err)
		}
	}
}
