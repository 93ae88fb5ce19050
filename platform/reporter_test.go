package platform_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/platform"
)

// memResults is an in-memory ResultStore.
type memResults struct {
	mu    sync.Mutex
	lists map[string][][]byte
}

func (m *memResults) Has(_ context.Context, key, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.lists[key] {
		var r platform.APIResult
		if json.Unmarshal(e, &r) == nil && r.FileExecutionID == id {
			return true, nil
		}
	}
	return false, nil
}

func (m *memResults) Push(_ context.Context, key string, entry []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lists == nil {
		m.lists = map[string][][]byte{}
	}
	m.lists[key] = append(m.lists[key], entry)
	return nil
}

// events collects what the observer is told.
type events struct {
	mu  sync.Mutex
	all []platform.Event
}

func (e *events) observe(ev platform.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) list() []platform.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]platform.Event(nil), e.all...)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newReporter(t *testing.T, p *testenv.PlatformAPI, key string, opts ...platform.ReporterOption) *platform.Reporter {
	t.Helper()
	c, err := platform.NewClient(p.URL, key, platform.WithRetryFor(20*time.Second), platform.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	return platform.NewReporter(c, append([]platform.ReporterOption{platform.WithReporterLogger(quiet)}, opts...)...)
}

var files = []platform.File{{Name: "a.txt", Path: "/d/a.txt", Hash: "ha"}, {Name: "b.txt", Path: "/d/b.txt", Hash: "hb"}, {Name: "fail.txt", Path: "/d/fail.txt", Hash: "hf"}}

// runExecution reports a whole execution of files, fail.txt failing.
func runExecution(ctx context.Context, r *platform.Reporter, ex platform.Execution) error {
	if err := r.Started(ctx, ex, 1, files); err != nil {
		return err
	}
	s := platform.Summary{Total: len(files)}
	for _, f := range files {
		if err := r.FileStarted(ctx, ex, f); err != nil {
			return err
		}
		o := platform.FileOutcome{Result: map[string]any{"text": f.Name}, Took: 1500 * time.Millisecond}
		if strings.HasPrefix(f.Name, "fail") {
			o = platform.FileOutcome{Error: "extract-text: boom", Took: time.Second}
			s.Failed++
		} else {
			s.Successful++
		}
		if err := r.FileFinished(ctx, ex, f, o); err != nil {
			return err
		}
	}
	return r.Finished(ctx, ex, s)
}

// writes are the calls that change the platform, as "METHOD path-shape status".
func writes(calls []testenv.PlatformCall) []string {
	var out []string
	for _, c := range calls {
		if c.Method == "GET" || (c.Method == "POST" && c.Path == "v1/file-execution/") {
			continue
		}
		var body struct {
			Status string `json:"status"`
		}
		_ = json.Unmarshal(c.Body, &body)
		shape := c.Path
		switch {
		case strings.HasSuffix(c.Path, "/update_status/"):
			shape = "update_status"
		case strings.HasSuffix(c.Path, "/status/"):
			shape = "file status"
		case strings.HasPrefix(c.Path, "v1/pipeline/"):
			shape = "pipeline"
		}
		out = append(out, c.Method+" "+shape+" "+body.Status)
	}
	return out
}

func TestReporterReportsAsTheWorkers(t *testing.T) {
	p := testenv.StartPlatformAPI(t)
	ev := &events{}
	res := &memResults{}
	r := newReporter(t, p, p.Key, platform.WithObserver(ev.observe), platform.WithResults(res))
	ex := platform.Execution{Key: "shim-1", OrganizationID: "org_a", WorkflowID: "wf-1", API: true}
	ex.ExecutionID = p.CreateExecution("org_a", "wf-1")
	ex.PipelineID = p.CreatePipeline("org_a")
	ctx := context.Background()
	if err := runExecution(ctx, r, ex); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"POST update_status EXECUTING", "POST v1/workflow-manager/file-batch/ ", "POST update_status EXECUTING",
		"POST file status EXECUTING", "POST file status COMPLETED",
		"POST file status EXECUTING", "POST file status COMPLETED",
		"POST file status EXECUTING", "POST file status ERROR", "POST v1/workflow-manager/increment-files/ ",
		"POST update_status COMPLETED", "PUT pipeline SUCCESS",
	}
	if got := writes(p.Calls()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("writes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, c := range p.Calls() {
		if c.Org != "org_a" || c.Status >= 300 {
			t.Errorf("%s %s: org %q, answered %d", c.Method, c.Path, c.Org, c.Status)
		}
	}
	e, _ := p.Execution(ex.ExecutionID)
	if e.Status != "COMPLETED" || e.Attempts != 1 || *e.TotalFiles != 3 || *e.SuccessfulFiles != 2 || *e.FailedFiles != 1 || e.FailedIncrements != 1 || len(e.Files) != 3 {
		t.Errorf("execution at the platform: %+v", e)
	}
	for _, f := range e.Files {
		want := "COMPLETED"
		if f.Name == "fail.txt" {
			want = "ERROR"
		}
		if f.Status != want {
			t.Errorf("file %s %s, want %s", f.Name, f.Status, want)
		}
	}
	if pl, _ := p.Pipeline(ex.PipelineID); pl.LastRunStatus != "SUCCESS" || pl.RunCount != 1 {
		t.Errorf("pipeline %+v", pl)
	}
	list := res.lists[platform.APIResultsKey("wf-1", ex.ExecutionID)]
	if len(list) != 3 {
		t.Fatalf("%d API results, want 3", len(list))
	}
	var failed platform.APIResult
	_ = json.Unmarshal(list[2], &failed)
	if failed.File != "fail.txt" || failed.Status != platform.ResultFailed || failed.Error == nil || *failed.Error != "extract-text: boom" || failed.FileExecutionID == "" {
		t.Errorf("failed file's API result %+v", failed)
	}
	last := ev.list()[len(ev.list())-1]
	if !last.Final || last.Err != nil || last.Execution.Key != "shim-1" || last.Report != "COMPLETED" {
		t.Errorf("last event %+v", last)
	}
}

func TestReporterRepeatedChangesNothing(t *testing.T) {
	p := testenv.StartPlatformAPI(t)
	res := &memResults{}
	r := newReporter(t, p, p.Key, platform.WithResults(res))
	ex := platform.Execution{OrganizationID: "org_a", WorkflowID: "wf-1", API: true, ExecutionID: p.CreateExecution("org_a", "wf-1", testenv.Guarded())}
	ctx := context.Background()
	if err := runExecution(ctx, r, ex); err != nil {
		t.Fatal(err)
	}
	first := len(writes(p.Calls()))
	// A retried step reports everything again; so does a late failure.
	if err := runExecution(ctx, r, ex); err != nil {
		t.Fatal(err)
	}
	if err := r.Failed(ctx, ex, errors.New("late")); err != nil {
		t.Fatal(err)
	}
	if got := writes(p.Calls()); len(got) != first {
		t.Errorf("repeating wrote %v", got[first:])
	}
	e, _ := p.Execution(ex.ExecutionID)
	if e.Status != "COMPLETED" || e.FailedIncrements != 1 || len(e.Files) != 3 || len(res.lists[platform.APIResultsKey("wf-1", ex.ExecutionID)]) != 3 {
		t.Errorf("after repeating: %+v", e)
	}
}

func TestReporterRetriesAnOutage(t *testing.T) {
	p := testenv.StartPlatformAPI(t)
	ev := &events{}
	r := newReporter(t, p, p.Key, platform.WithObserver(ev.observe))
	ex := platform.Execution{OrganizationID: "org_a", WorkflowID: "wf-1", ExecutionID: p.CreateExecution("org_a", "wf-1")}
	p.Unavailable(2 * time.Second)
	start := time.Now()
	if err := runExecution(context.Background(), r, ex); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 2*time.Second {
		t.Errorf("finished in %v, before the outage ended", time.Since(start))
	}
	if e, _ := p.Execution(ex.ExecutionID); e.Status != "COMPLETED" || len(e.Files) != 3 {
		t.Errorf("after the outage: %+v", e)
	}
	var retried bool
	for _, e := range ev.list() {
		if e.Retrying && errors.Is(e.Err, platform.ErrUnavailable) && strings.Contains(e.Err.Error(), "503") {
			retried = true
		}
	}
	if !retried {
		t.Error("the observer was not told of the retries")
	}
}

func TestReporterErrors(t *testing.T) {
	cases := []struct {
		name     string
		key      string
		retryFor time.Duration
		down     time.Duration
		want     error
		wantText string
		maxCalls int
	}{
		{"wrong key", "wrong", 20 * time.Second, 0, platform.ErrRefused, "401 Invalid internal service API key: API key does not match configured value (check PLATFORM_INTERNAL_API_KEY)", 1},
		{"outage longer than the retries", "", 1500 * time.Millisecond, time.Minute, platform.ErrUnavailable, "503 Service Unavailable (after", 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := testenv.StartPlatformAPI(t)
			key := c.key
			if key == "" {
				key = p.Key
			}
			cl, err := platform.NewClient(p.URL, key, platform.WithRetryFor(c.retryFor), platform.WithLogger(quiet))
			if err != nil {
				t.Fatal(err)
			}
			r := platform.NewReporter(cl, platform.WithReporterLogger(quiet))
			ex := platform.Execution{OrganizationID: "org_a", WorkflowID: "wf-1", ExecutionID: p.CreateExecution("org_a", "wf-1")}
			p.Unavailable(c.down)
			err = r.Started(context.Background(), ex, 1, files)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.wantText) {
				t.Fatalf("error %v, want %v saying %q", err, c.want, c.wantText)
			}
			if n := len(p.Calls()); n < 1 || n > c.maxCalls {
				t.Errorf("%d calls, want 1 to %d", n, c.maxCalls)
			}
		})
	}
}

func TestReporterFailed(t *testing.T) {
	p := testenv.StartPlatformAPI(t)
	r := newReporter(t, p, p.Key)
	ex := platform.Execution{OrganizationID: "org_a", WorkflowID: "wf-1", ExecutionID: p.CreateExecution("org_a", "wf-1"), PipelineID: p.CreatePipeline("org_a")}
	ctx := context.Background()
	if err := r.Started(ctx, ex, 1, files); err != nil {
		t.Fatal(err)
	}
	if err := r.Failed(ctx, ex, errors.New("plan-batches: files a and b are both named x")); err != nil {
		t.Fatal(err)
	}
	e, _ := p.Execution(ex.ExecutionID)
	if e.Status != "ERROR" || e.ErrorMessage != "plan-batches: files a and b are both named x" {
		t.Errorf("execution %+v", e)
	}
	if pl, _ := p.Pipeline(ex.PipelineID); pl.LastRunStatus != "FAILURE" || pl.RunCount != 1 {
		t.Errorf("pipeline %+v", pl)
	}
}

func TestFinalStatus(t *testing.T) {
	cases := []struct {
		expected int
		s        platform.Summary
		want     string
	}{
		{3, platform.Summary{Total: 3, Successful: 2, Failed: 1}, "COMPLETED"},
		{3, platform.Summary{Total: 3, Successful: 3}, "COMPLETED"},
		{3, platform.Summary{Total: 3, Failed: 3}, "ERROR"},
		{3, platform.Summary{Total: 3}, "ERROR"},
		{0, platform.Summary{}, "COMPLETED"},
	}
	for _, c := range cases {
		if got := platform.FinalStatus(c.expected, c.s); got != c.want {
			t.Errorf("FinalStatus(%d, %+v) = %s, want %s", c.expected, c.s, got, c.want)
		}
	}
}

func TestNewClientRefusesBadSettings(t *testing.T) {
	for _, c := range []struct{ url, key string }{{"", "k"}, {"ftp://x/internal", "k"}, {"http://x/internal", ""}, {"http://", "k"}} {
		if _, err := platform.NewClient(c.url, c.key); err == nil {
			t.Errorf("NewClient(%q, %q) accepted", c.url, c.key)
		}
	}
}

// TestReporterLostAnswer loses the answer to the file batch after the
// platform created the files: the reporter finds them and does not send
// the batch again, so the platform holds each file once.
func TestReporterLostAnswer(t *testing.T) {
	p := testenv.StartPlatformAPI(t)
	r := newReporter(t, p, p.Key)
	ex := platform.Execution{OrganizationID: "org_a", WorkflowID: "wf-1", ExecutionID: p.CreateExecution("org_a", "wf-1")}
	p.LoseAnswers("POST", "/file-batch/", 1)
	if err := runExecution(context.Background(), r, ex); err != nil {
		t.Fatal(err)
	}
	batches := 0
	for _, c := range p.Calls() {
		if c.Path == "v1/workflow-manager/file-batch/" {
			batches++
		}
	}
	if e, _ := p.Execution(ex.ExecutionID); batches != 1 || len(e.Files) != 3 || e.Status != "COMPLETED" {
		t.Errorf("%d file batches sent; execution %+v", batches, e)
	}
}

func TestWorkerText(t *testing.T) {
	cases := []struct {
		name string
		err  platform.APIError
		want string
	}{
		{"wrong key", platform.APIError{Status: 401, StatusLine: "401 Unauthorized", Body: `{"error":"Invalid"}`}, `Authentication failed with internal API: {"error":"Invalid"}`},
		{"refused", platform.APIError{Status: 404, StatusLine: "404 Not Found", Body: `{"error":"gone"}`}, `Client error: 404 Not Found: {"error":"gone"}`},
		{"rate limited", platform.APIError{Status: 429, StatusLine: "429 Too Many Requests", Body: "slow"}, "Request failed: 429 Too Many Requests: slow"},
		{"server error", platform.APIError{Status: 503, StatusLine: "503 Service Unavailable", Body: "down"}, "Server error: 503 Service Unavailable: down"},
		{"network", platform.APIError{Message: "dial tcp 127.0.0.1:1: connection refused"}, "Request connection error: dial tcp 127.0.0.1:1: connection refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.err.WorkerText(); got != c.want {
				t.Errorf("WorkerText() = %q, want %q", got, c.want)
			}
		})
	}
}

// TestStartedWithoutContext reports the start of an execution the
// platform does not know: the error is the platform workers' own, and
// FailedWithoutContext reports the failure of a known one without reading
// its record, as they do.
func TestStartedWithoutContext(t *testing.T) {
	p := testenv.StartPlatformAPI(t)
	r := newReporter(t, p, p.Key)
	ctx := context.Background()
	err := r.Started(ctx, platform.Execution{OrganizationID: "org_a", WorkflowID: "wf-1", ExecutionID: "8b0e3f3c-6c1e-4a8e-9a57-6b4a1e0a0b01"}, 1, files)
	want := `Failed to get execution context: Client error: 404 Not Found: {"error":"WorkflowExecution not found"}`
	var noContext *platform.ContextError
	if !errors.As(err, &noContext) || !errors.Is(err, platform.ErrRefused) || strings.TrimSpace(err.Error()) != want {
		t.Fatalf("Started of an unknown execution: %v, want a ContextError saying %q", err, want)
	}

	ex := platform.Execution{OrganizationID: "org_a", WorkflowID: "wf-1", ExecutionID: p.CreateExecution("org_a", "wf-1"), PipelineID: p.CreatePipeline("org_a")}
	before := len(p.Calls())
	if err := r.FailedWithoutContext(ctx, ex, errors.New(want)); err != nil {
		t.Fatal(err)
	}
	if e, _ := p.Execution(ex.ExecutionID); e.Status != "ERROR" || e.ErrorMessage != want {
		t.Errorf("execution %+v, want ERROR saying %q", e, want)
	}
	if pl, _ := p.Pipeline(ex.PipelineID); pl.LastRunStatus != "FAILURE" {
		t.Errorf("pipeline %+v, want its last run FAILURE", pl)
	}
	for _, c := range p.Calls()[before:] {
		if c.Method == "GET" {
			t.Errorf("FailedWithoutContext read the record: %s %s", c.Method, c.Path)
		}
	}
}

// TestFailedWithoutContextGivesUp reports a failure while the platform is
// down: it is retried only for its own budget (the platform workers' 8 s,
// 1.5 s here), not for the client's (20 s).
func TestFailedWithoutContextGivesUp(t *testing.T) {
	p := testenv.StartPlatformAPI(t)
	r := newReporter(t, p, p.Key)
	platform.SetWorkerRetryFor(r, 1500*time.Millisecond)
	ex := platform.Execution{OrganizationID: "org_a", WorkflowID: "wf-1", ExecutionID: p.CreateExecution("org_a", "wf-1")}
	p.Unavailable(time.Minute)
	start := time.Now()
	err := r.FailedWithoutContext(context.Background(), ex, errors.New("Failed to get execution context: x"))
	if !errors.Is(err, platform.ErrUnavailable) || time.Since(start) > 5*time.Second || len(p.Calls()) < 2 {
		t.Errorf("after %v and %d calls: %v, want ErrUnavailable after a few retries within 1.5 s", time.Since(start), len(p.Calls()), err)
	}
}
