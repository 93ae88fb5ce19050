package featureflag

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// eventually polls cond for up to five seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// watched starts Watch on a fresh flags file holding data.
func watched(t *testing.T, data string, opts ...Option) (*Flags, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flags.yaml")
	writeFile(t, path, data)
	f, err := New(context.Background(), Config{File: path}, append(opts, quiet)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Watch(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch returned %v", err)
		}
	})
	return f, path
}

func TestWatchPicksUpRenameOver(t *testing.T) {
	tests := []struct {
		name string
		poll time.Duration
	}{
		{"notification", time.Hour},
		{"poll", 20 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, path := watched(t, "use_task_abstraction: false\n", WithPollInterval(tt.poll))
			req := Request{Workflow: "wf"}
			writeFile(t, path, "use_task_abstraction: true\n")
			eventually(t, "reload to hatchet", func() bool { return f.Decide(req).Backend == BackendHatchet })
			writeFile(t, path, "use_task_abstraction: [\n")
			eventually(t, "bad file reported", func() bool { return f.Snapshot().LastError != nil })
			if f.Decide(req).Backend != BackendHatchet {
				t.Fatal("bad file replaced the last good flags")
			}
			writeFile(t, path, "use_task_abstraction: false\n")
			eventually(t, "recovery", func() bool {
				return f.Decide(req).Backend == BackendCelery && f.Snapshot().LastError == nil
			})
		})
	}
}

func TestReloadIfChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flags.json")
	writeFile(t, path, `{"percentage":10}`)
	f, err := New(context.Background(), Config{File: path}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		data    string
		tried   bool
		wantErr bool
	}{
		{`{"percentage":10}`, false, false},
		{`{"percentage":20}`, true, false},
		{`{"percentage":20}`, false, false},
		{`{"percentage":200}`, true, true},
		{`{"percentage":200}`, false, false},
		{`{"percentage":10}`, true, false},
	}
	for i, s := range steps {
		writeFile(t, path, s.data)
		tried, err := f.reloadIfChanged(context.Background())
		if tried != s.tried || (err != nil) != s.wantErr {
			t.Errorf("step %d (%s): tried %v err %v, want tried %v err %v", i, s.data, tried, err, s.tried, s.wantErr)
		}
	}
}

func TestWatchWithoutFileReturns(t *testing.T) {
	f, err := New(context.Background(), Config{}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Watch(context.Background()); err != nil {
		t.Fatalf("Watch = %v", err)
	}
}

func TestConcurrentDecideDuringReloads(t *testing.T) {
	f, path := watched(t, "percentage: 0\n", WithPollInterval(5*time.Millisecond))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				d := f.Decide(Request{Workflow: "wf", Key: "k"})
				if d.Reason != ReasonPercentage && d.Reason != ReasonGlobal {
					t.Errorf("unexpected decision %v", d)
					return
				}
				_ = f.Snapshot()
			}
		})
	}
	for i := range 50 {
		data := "percentage: 100\n"
		if i%2 == 0 {
			data = "percentage: [\n"
		}
		writeFile(t, path, data)
		_ = f.Reload(context.Background())
	}
	close(stop)
	wg.Wait()
}
