//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unstract/hatchet-worker/internal/testenv"
)

// Burst shape: outageClients senders of one organisation send
// outagePerClient connector-validation requests (one organisation: its
// concurrency limit of 5 keeps most runs waiting for a slot, where Hatchet's
// in-memory concurrency index lost some across a restart); Postgres restarts when each
// share of outageRestartsAt of them is accepted (a restart still under way
// delays the next).
const (
	outageClients   = 8
	outagePerClient = 150
	// outageSettleTime bounds the wait for every execution to finish. It
	// exceeds connector-validation's task timeout (2m15s): a worker whose
	// completion report meets the restart loses it (Hatchet's dispatcher
	// answers the database error with InvalidArgument, which the SDK does
	// not retry), and the engine reruns the task only once it times out.
	outageSettleTime = 4 * time.Minute
	// outageLostAfter is SHIM_LOST_AFTER: longer than the engine's
	// reclaimer needs to requeue a lost trigger (two minutes at most), and
	// short enough that a run the engine never makes shows as unknown before
	// the test stops waiting.
	outageLostAfter = 3 * time.Minute
)

// outageRestartsAt are the shares of accepted requests at which Postgres
// restarts. A loss needs a restart to meet one of the engine's commits in
// flight (see the embedded engine's concurrency setting), which is rare:
// each restart is another chance.
var outageRestartsAt = []float64{0.2, 0.45, 0.7}

// TestPostgresRestartUnderBurst restarts the Postgres server that holds the
// embedded engine and the shim's execution records (in the default set-up
// they are one server) three times during a burst of Hatchet-routed requests,
// once for each of the engine's message queues. Every request is retried
// with its idempotency key until it is accepted. Then every accepted
// execution must succeed, and no answer may be a 500 or lack the JSON error
// body.
func TestPostgresRestartUnderBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a throwaway PostgreSQL cluster, RabbitMQ vhosts and the service; skipped with -short")
	}
	t.Parallel() // a long fault test on instances of its own: beside the others, CI stays short
	for _, queue := range []string{"rabbitmq", "postgres"} {
		t.Run(queue, func(t *testing.T) {
			env := []string{"HATCHET_EMBEDDED_MSGQUEUE=" + queue}
			if queue == "rabbitmq" {
				env = append(env, "HATCHET_EMBEDDED_MSGQUEUE_URL="+testenv.AMQPVHost(t))
			}
			restartUnderBurst(t, env...)
		})
	}
}

// restartUnderBurst runs the service with env on a throwaway cluster,
// restarts the cluster during a burst and checks the outcome.
func restartUnderBurst(t *testing.T, env ...string) {
	pg := testenv.StartPGCluster(t)
	svc := startService(t, buildBinary(t), append([]string{
		"DATABASE_URL=" + pg.URL("hatchet"),
		"PLATFORM_DATABASE_URL=" + pg.URL("unstract"),
		"CELERY_ENABLED=false",
		"LOG_LEVEL=warn",
		"SHIM_LOST_AFTER=" + outageLostAfter.String(),
	}, env...)...)
	b := &burst{url: "http://" + svc.addr, client: apiClient(t), codes: map[int]int{}}
	total := outageClients * outagePerClient
	restarts := make(chan struct{}, len(outageRestartsAt))
	restarted := make(chan time.Duration, len(outageRestartsAt))
	go func() {
		for range restarts {
			began := time.Now()
			if err := pg.Restart(); err != nil {
				t.Errorf("restart postgres: %v", err)
			}
			restarted <- time.Since(began)
		}
	}()
	defer close(restarts)
	b.onAccepted = func(n int64) {
		for _, share := range outageRestartsAt {
			if n == int64(float64(total)*share) {
				restarts <- struct{}{}
			}
		}
	}
	began := time.Now()
	b.send(t, outageClients, outagePerClient)
	sent := time.Since(began)
	var took []time.Duration
	for range outageRestartsAt {
		select {
		case d := <-restarted:
			took = append(took, d.Round(time.Millisecond))
		case <-time.After(time.Minute):
			t.Fatalf("postgres restarted %d of %d times: %d of %d requests accepted", len(took), len(outageRestartsAt), b.count.Load(), total)
		}
	}
	left := b.settle(t, outageSettleTime)

	t.Logf("%d executions accepted in %s (postgres restarts took %v); answers by status: %v; final states: %v",
		len(b.accepted), sent.Round(time.Millisecond), took, b.codes, b.states)
	if len(b.accepted) != total {
		t.Errorf("accepted %d of %d requests", len(b.accepted), total)
	}
	if n := b.codes[http.StatusInternalServerError]; n > 0 {
		t.Errorf("%d answers were 500; an outage must answer 503", n)
	}
	if b.notJSON > 0 {
		t.Errorf("%d error answers lacked the JSON error body", b.notJSON)
	}
	if n := unknownCounted(t, svc); n != float64(b.states["unknown"]) {
		t.Errorf("shim_executions_unknown_total = %g, but %d executions read unknown", n, b.states["unknown"])
	}
	if bad := b.notSucceeded(); len(bad) > 0 {
		t.Errorf("%d of %d accepted executions did not succeed (%d not terminal after %s):\n%s",
			len(bad), total, len(left), outageSettleTime, explainLost(pg, bad))
	}
	if t.Failed() {
		t.Logf("service log (tail):\n%s", tailLines(svc.log.String(), 40))
	}
}

// burst drives the shim's execute and status endpoints from many clients.
type burst struct {
	url        string
	client     *http.Client
	onAccepted func(n int64)

	mu       sync.Mutex
	codes    map[int]int       // every answer, by HTTP status
	notJSON  int               // error answers without {"error": {"code", "message"}}
	accepted []string          // execution ids
	states   map[string]int    // final status of each accepted execution
	count    atomic.Int64      // accepted so far
	last     map[string]status // last status read of each execution
}

// status is the part of the status endpoint's answer the test reads.
type status struct {
	Status        string `json:"status"`
	BackendStatus string `json:"backend_status"`
	BackendRef    string `json:"backend_ref"`
}

// send runs clients senders of perClient requests each and waits for them.
func (b *burst) send(t *testing.T, clients, perClient int) {
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				if id := b.execute(t, c, i); id != "" {
					b.mu.Lock()
					b.accepted = append(b.accepted, id)
					b.mu.Unlock()
					b.onAccepted(b.count.Add(1))
				}
			}
		})
	}
	wg.Wait()
}

// execute sends one request, retrying every non-2xx answer and transport
// error with the same idempotency key for up to a minute.
func (b *burst) execute(t *testing.T, client, i int) string {
	body, _ := json.Marshal(map[string]any{
		"workflow":        "connector-validation",
		"organization_id": "org-burst",
		"idempotency_key": fmt.Sprintf("burst-%d-%d", client, i),
		"input":           map[string]any{"settings": map[string]any{"type": "filesystem", "path": os.TempDir()}},
	})
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		code, raw, err := b.call(http.MethodPost, "/api/v2/workflows/execute", body)
		if err == nil && code/100 == 2 {
			var out struct {
				ID string `json:"execution_id"`
			}
			if json.Unmarshal(raw, &out) == nil && out.ID != "" {
				return out.ID
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("request %d of client %d never accepted", i, client)
	return ""
}

// call sends one request and records its status; error answers must carry
// the JSON error body.
func (b *burst) call(method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, b.url+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+shimToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := b.client.Do(req.WithContext(ctx))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.codes[resp.StatusCode]++
	if resp.StatusCode >= 400 && !isErrorBody(raw) {
		b.notJSON++
	}
	return resp.StatusCode, raw, nil
}

func isErrorBody(raw []byte) bool {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	return json.Unmarshal(raw, &e) == nil && e.Error.Code != "" && e.Error.Message != ""
}

// settle polls every accepted execution until it is terminal or wait
// passes, and returns the ones still not terminal.
func (b *burst) settle(t *testing.T, wait time.Duration) map[string]status {
	b.states, b.last = map[string]int{}, map[string]status{}
	pending := map[string]bool{}
	for _, id := range b.accepted {
		pending[id] = true
	}
	deadline := time.Now().Add(wait)
	for len(pending) > 0 && time.Now().Before(deadline) {
		for id := range pending {
			st, ok := b.read(id)
			if !ok {
				continue
			}
			b.last[id] = st
			if terminal(st.Status) {
				b.states[st.Status]++
				delete(pending, id)
			}
		}
		if len(pending) > 0 {
			time.Sleep(time.Second)
		}
	}
	left := map[string]status{}
	for id := range pending {
		left[id] = b.last[id]
		b.states["not terminal: "+b.last[id].Status]++
	}
	return left
}

// notSucceeded returns the executions whose last status read was not
// succeeded.
func (b *burst) notSucceeded() map[string]status {
	out := map[string]status{}
	for _, id := range b.accepted {
		if st := b.last[id]; st.Status != "succeeded" {
			out[id] = st
		}
	}
	return out
}

func (b *burst) read(id string) (status, bool) {
	code, raw, err := b.call(http.MethodGet, "/api/v2/workflows/executions/"+id, nil)
	var st status
	if err != nil || code != http.StatusOK || json.Unmarshal(raw, &st) != nil {
		return st, false
	}
	return st, true
}

func terminal(state string) bool {
	switch state {
	case "succeeded", "failed", "cancelled", "unknown":
		return true
	}
	return false
}

// explainLost says, for each execution left behind, whether the engine's
// core tables (v1_lookup_table) and its read model (v1_lookup_table_olap)
// know its run, and what the engine's Postgres message queue still holds.
func explainLost(pg *testenv.PGCluster, left map[string]status) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.URL("hatchet"))
	if err != nil {
		return "cannot inspect the engine database: " + err.Error()
	}
	defer conn.Close(ctx)
	var lines []string
	for id, st := range left {
		var core, olap bool
		_ = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM v1_lookup_table WHERE external_id = $1::uuid)`, st.BackendRef).Scan(&core)
		_ = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM v1_lookup_table_olap WHERE external_id = $1::uuid)`, st.BackendRef).Scan(&olap)
		lines = append(lines, fmt.Sprintf("  execution %s: status %s/%s, run %s: in core tables %t, in read model %t; %s",
			id, st.Status, st.BackendStatus, st.BackendRef, core, olap, whereTasks(ctx, conn, st.BackendRef)))
	}
	sort.Strings(lines)
	lines = append(lines, strategies(ctx, conn)...)
	lines = append(lines, filledSlots(ctx, conn)...)
	rows, err := conn.Query(ctx, `SELECT "queueId", status::text, count(*) FROM "MessageQueueItem" GROUP BY 1, 2 ORDER BY 1, 2`)
	if err == nil {
		for rows.Next() {
			var queue, state string
			var n int
			if rows.Scan(&queue, &state, &n) == nil {
				lines = append(lines, fmt.Sprintf("  message queue %s: %d %s", queue, n, state))
			}
		}
		rows.Close()
	}
	return strings.Join(lines, "\n")
}

// whereTasks says where the engine holds the tasks of run runID: waiting
// for or holding a concurrency slot, in a queue, assigned to a worker, or
// waiting to be retried.
func whereTasks(ctx context.Context, conn *pgx.Conn, runID string) string {
	var queued, waiting, filled, assigned, retrying, runWaiting, runFilled int
	err := conn.QueryRow(ctx, `WITH tasks AS (
			SELECT task_id FROM v1_lookup_table WHERE external_id = $1::uuid AND task_id IS NOT NULL
			UNION SELECT dt.task_id FROM v1_lookup_table l JOIN v1_dag_to_task dt ON dt.dag_id = l.dag_id WHERE l.external_id = $1::uuid)
		SELECT (SELECT count(*) FROM v1_queue_item WHERE task_id IN (SELECT task_id FROM tasks)),
			(SELECT count(*) FROM v1_concurrency_slot WHERE task_id IN (SELECT task_id FROM tasks) AND NOT is_filled),
			(SELECT count(*) FROM v1_concurrency_slot WHERE task_id IN (SELECT task_id FROM tasks) AND is_filled),
			(SELECT count(*) FROM v1_task_runtime WHERE task_id IN (SELECT task_id FROM tasks)),
			(SELECT count(*) FROM v1_retry_queue_item WHERE task_id IN (SELECT task_id FROM tasks)),
			(SELECT count(*) FROM v1_workflow_concurrency_slot WHERE workflow_run_id = $1::uuid AND NOT is_filled),
			(SELECT count(*) FROM v1_workflow_concurrency_slot WHERE workflow_run_id = $1::uuid AND is_filled)`, runID).
		Scan(&queued, &waiting, &filled, &assigned, &retrying, &runWaiting, &runFilled)
	if err != nil {
		return "tasks: " + err.Error()
	}
	return fmt.Sprintf("run: %d waiting for a workflow concurrency slot, %d holding one; "+
		"tasks: %d queue items, %d waiting for a concurrency slot, %d holding one, %d assigned to a worker, %d waiting to retry; %s",
		runWaiting, runFilled, queued, waiting, filled, assigned, retrying, taskSlot(ctx, conn, runID)+"; "+slotHolders(ctx, conn, runID))
}

// taskSlot describes the concurrency slot of run runID's task: its key,
// strategy (and parent), retry and schedule timeout.
func taskSlot(ctx context.Context, conn *pgx.Conn, runID string) string {
	slot := "no task slot"
	_ = conn.QueryRow(ctx, `SELECT format('task slot: key %s, strategy %s (parent %s), retry %s of task at retry %s, schedule timeout %s',
			cs.key, cs.strategy_id, cs.parent_strategy_id, cs.task_retry_count, t.retry_count, cs.schedule_timeout_at)
		FROM v1_concurrency_slot cs JOIN v1_task t ON t.id = cs.task_id AND t.inserted_at = cs.task_inserted_at
		WHERE cs.workflow_run_id = $1::uuid LIMIT 1`, runID).Scan(&slot)
	return slot
}

// slotHolders says which runs hold the workflow concurrency slots of run
// runID's key (its organisation), and whether their tasks still hold a task
// slot or a worker.
func slotHolders(ctx context.Context, conn *pgx.Conn, runID string) string {
	rows, err := conn.Query(ctx, `SELECT wcs.workflow_run_id::text, wcs.key,
			(SELECT count(*) FROM v1_concurrency_slot cs WHERE cs.workflow_run_id = wcs.workflow_run_id),
			(SELECT count(*) FROM v1_concurrency_slot cs WHERE cs.workflow_run_id = wcs.workflow_run_id AND cs.is_filled),
			(SELECT count(*) FROM v1_task_runtime rt JOIN v1_concurrency_slot cs ON cs.task_id = rt.task_id WHERE cs.workflow_run_id = wcs.workflow_run_id)
		FROM v1_workflow_concurrency_slot wcs
		WHERE wcs.is_filled AND wcs.key = (SELECT key FROM v1_concurrency_slot WHERE workflow_run_id = $1::uuid LIMIT 1)`, runID)
	if err != nil {
		return "holders: " + err.Error()
	}
	defer rows.Close()
	var holders []string
	for rows.Next() {
		var run, key string
		var slots, filled, running int
		if err := rows.Scan(&run, &key, &slots, &filled, &running); err != nil {
			return "holders: " + err.Error()
		}
		holders = append(holders, fmt.Sprintf("%s (key %s: %d task slots, %d filled, %d on a worker)", run, key, slots, filled, running))
	}
	return fmt.Sprintf("%d runs hold its key's workflow slots: %s", len(holders), strings.Join(holders, ", "))
}

// strategies describes each concurrency strategy with slots left: whether
// the engine counts it active, its scheduler lease, and its task and
// workflow slots, filled and waiting.
func strategies(ctx context.Context, conn *pgx.Conn) []string {
	rows, err := conn.Query(ctx, `SELECT format('  strategy %s (parent %s, %s, max %s): active %s since %s; lease %s; task slots %s filled of %s; workflow slots %s filled of %s',
			sc.id, sc.parent_strategy_id, sc.strategy, sc.max_concurrency, sc.is_active, sc.last_active_at,
			coalesce((SELECT string_agg(l."expiresAt"::text, ',') FROM "Lease" l WHERE l.kind = 'CONCURRENCY_STRATEGY' AND l."resourceId" = sc.id::text), 'none'),
			(SELECT count(*) FROM v1_concurrency_slot cs WHERE cs.strategy_id = sc.id AND cs.is_filled),
			(SELECT count(*) FROM v1_concurrency_slot cs WHERE cs.strategy_id = sc.id),
			(SELECT count(*) FROM v1_workflow_concurrency_slot w WHERE w.strategy_id = sc.parent_strategy_id AND w.is_filled),
			(SELECT count(*) FROM v1_workflow_concurrency_slot w WHERE w.strategy_id = sc.parent_strategy_id))
		FROM v1_step_concurrency sc
		WHERE EXISTS (SELECT 1 FROM v1_concurrency_slot cs WHERE cs.strategy_id = sc.id)
		ORDER BY sc.id`)
	return lines("strategies", rows, err)
}

// filledSlots describes each filled task concurrency slot of a strategy
// that also has waiting slots: the attempt it was filled for, the task's
// attempt now, and where the engine holds that attempt (queue item,
// worker, retry queue) and its events.
func filledSlots(ctx context.Context, conn *pgx.Conn) []string {
	rows, err := conn.Query(ctx, `SELECT format('  filled slot of strategy %s: task %s (run %s, created %s) attempt %s, task now at attempt %s; tasks with its external id %s, lookup names task %s; runtime %s; queue items %s, on a worker %s, waiting to retry %s; events %s',
			cs.strategy_id, cs.task_id, t.workflow_run_id, t.inserted_at, cs.task_retry_count, t.retry_count,
			(SELECT count(*) FROM v1_task t2 WHERE t2.external_id = t.external_id),
			(SELECT l.task_id FROM v1_lookup_table l WHERE l.external_id = t.external_id),
			(SELECT format('worker %s (heartbeat %s, active %s), times out at %s (now %s)', r.worker_id, w."lastHeartbeatAt", w."isActive", r.timeout_at, now()::timestamp(3))
				FROM v1_task_runtime r LEFT JOIN "Worker" w ON w.id = r.worker_id
				WHERE r.task_id = cs.task_id AND r.task_inserted_at = cs.task_inserted_at AND r.retry_count = cs.task_retry_count),
			(SELECT count(*) FROM v1_queue_item q WHERE q.task_id = cs.task_id AND q.task_inserted_at = cs.task_inserted_at AND q.retry_count = cs.task_retry_count),
			(SELECT count(*) FROM v1_task_runtime r WHERE r.task_id = cs.task_id AND r.task_inserted_at = cs.task_inserted_at AND r.retry_count = cs.task_retry_count),
			(SELECT count(*) FROM v1_retry_queue_item r WHERE r.task_id = cs.task_id AND r.task_inserted_at = cs.task_inserted_at),
			(SELECT string_agg(e.retry_count || ':' || e.event_type, ',' ORDER BY e.id) FROM v1_task_event e WHERE e.task_id = cs.task_id AND e.task_inserted_at = cs.task_inserted_at))
		FROM v1_concurrency_slot cs JOIN v1_task t ON t.id = cs.task_id AND t.inserted_at = cs.task_inserted_at
		WHERE cs.is_filled AND EXISTS (SELECT 1 FROM v1_concurrency_slot w WHERE w.strategy_id = cs.strategy_id AND NOT w.is_filled)
		ORDER BY cs.strategy_id, cs.sort_id LIMIT 20`)
	return lines("filled slots", rows, err)
}

// lines returns the one text column of each of rows, or a line saying
// why the query about what failed.
func lines(what string, rows pgx.Rows, err error) []string {
	if err == nil {
		var out []string
		if out, err = pgx.CollectRows(rows, pgx.RowTo[string]); err == nil {
			return out
		}
	}
	return []string{"  " + what + ": " + err.Error()}
}

// unknownCounted sums shim_executions_unknown_total from /metrics.
func unknownCounted(t *testing.T, svc *service) float64 {
	var sum float64
	for line := range strings.SplitSeq(svc.text(t, "/metrics"), "\n") {
		if rest, ok := strings.CutPrefix(line, "shim_executions_unknown_total{"); ok {
			var v float64
			if _, err := fmt.Sscan(rest[strings.LastIndex(rest, " ")+1:], &v); err == nil {
				sum += v
			}
		}
	}
	return sum
}

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
