//go:build integration

package shim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hatchetbackend "github.com/unstract/hatchet-worker/shim/backend/hatchet"

	celerybackend "github.com/unstract/hatchet-worker/shim/backend/celery"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/helpers/extract"
	"github.com/unstract/hatchet-worker/internal/engine"
	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
	"github.com/unstract/hatchet-worker/shim/route"
	"github.com/unstract/hatchet-worker/workflows"
)

// sameKeyRequests is how many requests with one idempotency key race.
const sameKeyRequests = 30

// TestConcurrentRequestsOneExecution races 30 requests with one
// idempotency key on each route: one execution id for all, exactly one
// message on the legacy queue, or exactly one Hatchet run.
func TestConcurrentRequestsOneExecution(t *testing.T) {
	tests := []struct {
		name    string
		backend featureflag.Backend
		setup   func(t *testing.T) (idemShim, func(t *testing.T, id string) int)
	}{
		{"celery", featureflag.BackendCelery, func(t *testing.T) (idemShim, func(*testing.T, string) int) { return celeryRoute(t) }},
		{"hatchet", featureflag.BackendHatchet, hatchetRoute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, submissions := tt.setup(t)
			key := "upload-" + uuid.NewString()
			results := s.race(t, key)
			id := checkOneExecution(t, results, tt.backend)
			s.checkReplay(t, key, id)
			if n := submissions(t, id); n != 1 {
				t.Errorf("%d submissions to %s for one idempotency key, want exactly 1", n, tt.backend)
			}
		})
	}
}

// TestStaleClaimResubmittedOnce leaves a claim whose process died before the
// broker accepted its message (lease over, no backend ref); 30 retries with
// its key race, and exactly one of them takes it over and submits it.
func TestStaleClaimResubmittedOnce(t *testing.T) {
	s, submissions := celeryRoute(t)
	key, id := "upload-"+uuid.NewString(), uuid.NewString()
	testenv.ExecSQL(t, s.dbURL, `INSERT INTO hatchet_worker.executions
		(id, workflow, organization_id, idempotency_key, backend, reason, created_at, claim_token, lease_until)
		VALUES ($1, $2, $3, $4, 'celery', 'backend-pinned', now() - interval '1 hour', $5, now() - interval '1 minute')`,
		id, s.route.Name, s.org, key, uuid.NewString())
	results := s.race(t, key)
	if got := checkOneExecution(t, results, featureflag.BackendCelery); got != id {
		t.Errorf("execution id %s, want the stale claim's %s", got, id)
	}
	s.checkReplay(t, key, id)
	if n := submissions(t, id); n != 1 {
		t.Errorf("stale claim submitted %d times, want exactly once", n)
	}
}

// idemShim is a shim with one route, for idempotency tests.
type idemShim struct {
	url   string
	dbURL string
	org   string
	route route.Route
	input map[string]any
}

// newIdemShim serves route on a fresh store for an idempotency test.
func newIdemShim(t *testing.T, rt route.Route, backends map[featureflag.Backend]shim.Backend) idemShim {
	t.Helper()
	url, dbURL := serveRoute(t, rt, backends)
	return idemShim{url: url, dbURL: dbURL, org: "org-" + uuid.NewString()[:8], route: rt}
}

// reply is one answer to an execute request.
type reply struct {
	code int
	body map[string]any
}

// race sends sameKeyRequests execute requests with key at once.
func (s idemShim) race(t *testing.T, key string) []reply {
	t.Helper()
	body, err := json.Marshal(map[string]any{"workflow": s.route.Name, "organization_id": s.org,
		"idempotency_key": key, "input": s.input})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]reply, sameKeyRequests)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			<-start
			out[i] = executeRaw(s.url, body)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// checkReplay sends key once more after the race: the answer is the
// execution, replayed.
func (s idemShim) checkReplay(t *testing.T, key, id string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"workflow": s.route.Name, "organization_id": s.org,
		"idempotency_key": key, "input": s.input})
	r := executeRaw(s.url, body)
	if r.code != http.StatusOK || r.body["execution_id"] != id || r.body["replayed"] != true {
		t.Errorf("retry after the race = %d %v, want 200 replaying %s", r.code, r.body, id)
	}
}

// checkOneExecution checks that exactly one reply is a 202 on backend, the
// others replays of it (200) or "being submitted" (409), and returns its id.
func checkOneExecution(t *testing.T, results []reply, backend featureflag.Backend) string {
	t.Helper()
	ids := map[string]bool{}
	accepted := 0
	for _, r := range results {
		switch r.code {
		case http.StatusAccepted:
			accepted++
			fallthrough
		case http.StatusOK:
			ids[r.body["execution_id"].(string)] = true
			if r.body["backend"] != string(backend) {
				t.Errorf("reply %v, want backend %s", r.body, backend)
			}
		case http.StatusConflict:
		default:
			t.Errorf("reply %d %v, want 202, 200 or 409", r.code, r.body)
		}
	}
	if accepted != 1 || len(ids) != 1 {
		t.Fatalf("%d accepted, execution ids %v; want exactly one of each", accepted, ids)
	}
	for id := range ids {
		return id
	}
	return ""
}

// executeRaw posts body to the execute endpoint; safe in any goroutine.
func executeRaw(base string, body []byte) reply {
	req, err := http.NewRequest(http.MethodPost, base+"/api/v2/workflows/execute", bytes.NewReader(body))
	if err != nil {
		return reply{body: map[string]any{"error": err.Error()}}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{body: map[string]any{"error": err.Error()}}
	}
	defer resp.Body.Close()
	r := reply{code: resp.StatusCode}
	_ = json.NewDecoder(resp.Body).Decode(&r.body)
	return r
}

// celeryRoute serves document-processing-v2 pinned to Celery, publishing to
// a queue of its own that no worker consumes; submissions counts the
// messages waiting in it.
func celeryRoute(t *testing.T, wrap ...func(shim.Backend) shim.Backend) (idemShim, func(*testing.T, string) int) {
	t.Helper()
	ch := amqpChannel(t)
	queue := "idem_" + uuid.NewString()
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = ch.QueueDelete(queue, false, false, false) })
	celery, err := celerybridge.Dial(context.Background(), testenv.AMQPURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = celery.Close(context.Background()) })
	rt := platformRoute(t, workflows.DocumentProcessingName)
	rt.Legacy.Queue = queue
	var backend shim.Backend = celerybackend.New(celery)
	for _, w := range wrap {
		backend = w(backend)
	}
	s := newIdemShim(t, rt, map[featureflag.Backend]shim.Backend{featureflag.BackendCelery: backend})
	s.input = map[string]any{"document_path": "/data/invoice.pdf"}
	return s, func(t *testing.T, _ string) int {
		q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		return q.Messages
	}
}

// amqpChannel opens a channel on the test broker, closed with the test.
func amqpChannel(t *testing.T) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(testenv.AMQPURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// hatchetRoute serves connector-validation (Hatchet only) on the embedded
// engine; submissions counts the runs the engine lists for the execution,
// and checks the backend was asked as often.
func hatchetRoute(t *testing.T) (idemShim, func(*testing.T, string) int) {
	t.Helper()
	conn := hatchettest.Engine(t)
	startWorker(t, conn)
	counted := &countingBackend{Backend: hatchetbackend.New(conn.Client, conn.Ready)}
	rt := platformRoute(t, workflows.ConnectorValidationName)
	s := newIdemShim(t, rt, map[featureflag.Backend]shim.Backend{featureflag.BackendHatchet: counted})
	s.input = map[string]any{"settings": map[string]any{"type": "filesystem", "path": t.TempDir()}}
	return s, func(t *testing.T, id string) int {
		runs := engineRuns(t, conn, "execution_id:"+id)
		if n := int(counted.n.Load()); n != runs {
			t.Errorf("backend asked %d times, engine lists %d runs", n, runs)
		}
		return runs
	}
}

// engineRuns counts the runs the engine lists with the metadata filter,
// waiting for its run index to catch up.
func engineRuns(t *testing.T, conn *engine.Conn, filter string) int {
	t.Helper()
	runs := func() int { return len(testenv.HatchetRuns(t, conn.Embedded.APIURL, conn.Embedded.Token, filter)) }
	n := 0
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if n = runs(); n > 0 {
			break
		}
	}
	time.Sleep(time.Second) // a second run, if any, is listed by now
	return max(n, runs())
}

// startWorker runs connector-validation on the engine for the test.
func startWorker(t *testing.T, conn *engine.Conn) {
	t.Helper()
	ex, err := extract.New("", "")
	if err != nil {
		t.Fatal(err)
	}
	wfs, err := workflows.BuildAll(conn.Client, []workflows.Definition{
		workflows.ConnectorValidation(workflows.Deps{Log: slog.Default(), Extractor: ex})})
	if err != nil {
		t.Fatal(err)
	}
	hatchettest.StartWorker(t, conn, "shim-idem", 10, wfs)
}

// countingBackend counts Submit calls.
type countingBackend struct {
	shim.Backend
	n atomic.Int64
}

// Submit counts the call and submits.
func (b *countingBackend) Submit(ctx context.Context, e shim.Execution, r route.Route, input json.RawMessage) (string, error) {
	b.n.Add(1)
	return b.Backend.Submit(ctx, e, r, input)
}

// TestSlowSubmitIsNotDuplicated makes the first submission hang past the 30 s
// an older claim grace allowed, while retries with its key arrive: the hung
// attempt is abandoned within its bound and its claim released before any
// retry may submit, so the broker gets one message, not two.
func TestSlowSubmitIsNotDuplicated(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 32 s")
	}
	t.Parallel()
	s, submissions := celeryRoute(t, func(b shim.Backend) shim.Backend { return &stallFirst{Backend: b, stall: 32 * time.Second} })
	key := "upload-" + uuid.NewString()
	body, _ := json.Marshal(map[string]any{"workflow": s.route.Name, "organization_id": s.org, "idempotency_key": key, "input": s.input})
	first := make(chan reply, 1)
	go func() { first <- executeRaw(s.url, body) }()
	time.Sleep(31 * time.Second)
	results := s.race(t, key)
	if r := <-first; r.code != http.StatusServiceUnavailable {
		results = append(results, r) // accepted after all: then it must be the one execution
	}
	id := checkOneExecution(t, results, featureflag.BackendCelery)
	s.checkReplay(t, key, id)
	time.Sleep(2 * time.Second) // the stalled attempt, had it gone on, has published by now
	if n := submissions(t, id); n != 1 {
		t.Errorf("%d messages for one idempotency key, want exactly 1", n)
	}
}

// stallFirst makes the first Submit wait for stall (or its context) before
// submitting, as a broker slow to confirm would.
type stallFirst struct {
	shim.Backend
	stall time.Duration
	calls atomic.Int64
}

// Submit stalls the first call, then submits.
func (b *stallFirst) Submit(ctx context.Context, e shim.Execution, r route.Route, input json.RawMessage) (string, error) {
	if b.calls.Add(1) == 1 {
		select {
		case <-time.After(b.stall):
		case <-ctx.Done():
			return "", fmt.Errorf("%w: %w", shim.ErrUnavailable, ctx.Err())
		}
	}
	return b.Backend.Submit(ctx, e, r, input)
}
