//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
	"github.com/unstract/hatchet-worker/workflows"
)

// restartMessages is how many messages TestFrontDoorBrokerRestarts sends
// (FRONT_DOOR_RESTART_MESSAGES; issue 25 asks 10,000 of a run by hand).
func restartMessages(t *testing.T) int {
	n, err := strconv.Atoi(os.Getenv("FRONT_DOOR_RESTART_MESSAGES"))
	if err != nil || n < 10 {
		return 200
	}
	t.Logf("sending %d messages (FRONT_DOOR_RESTART_MESSAGES)", n)
	return n
}

// TestFrontDoorBrokerRestarts sends async_execute_bin messages to the
// platform's queue on a RabbitMQ node of the test's own, which is
// restarted three times while the front door takes them (at 20, 45 and
// 70 % done); half are for organisations the flags keep on Celery (the
// fixture worker runs them from the twin queue), half for ones they send
// to Hatchet. At 20 % the service is killed with SIGKILL and started
// again. Every task's result reaches celery_taskmeta, where
// the platform's callers read it, written by the worker or by the service;
// no task id has two Hatchet executions, and none kept on Celery has one.
// The execution's tasks may wait a backlog's time to be scheduled.
func TestFrontDoorBrokerRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a RabbitMQ node, Python Celery and the service; skipped with -short")
	}
	t.Parallel() // a long fault test on a broker of its own: beside the others, CI stays short
	total := restartMessages(t)
	node := testenv.StartRabbitNode(t)
	backend, succeededOf := restartBackend(t)
	docs, files := frontDoorFiles(t)
	for k := range files {
		if k != "hash-invoice-0.txt" {
			delete(files, k) // one file a task: the test is about messages
		}
	}
	llm := testenv.NewLLMServer(t, "")
	llm.SetDelay(50 * time.Millisecond) // the Hatchet side is still under way at the kill
	worker := testenv.StartCeleryWorker(t, testenv.WithCeleryBroker(node.URL()), testenv.WithCeleryBackend(backend), testenv.WithCeleryConcurrency(16),
		testenv.WithCeleryQueues("celery.legacy", "file_processing", "file_processing_callback"),
		testenv.WithCeleryEnv("FIXTURE_LLM_URL="+llm.BaseURL(), "FIXTURE_OUTPUTS="+frontDoorOutputs))
	flags := filepath.Join(t.TempDir(), "flags.yaml")
	if err := os.WriteFile(flags, []byte("use_task_abstraction: true\ndeny_orgs: [org_c0, org_c1, org_c2, org_c3]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dbURL, bin := database(t, "hw_test_frontdoor_restarts"), buildBinary(t)
	env := []string{"DATABASE_URL=" + dbURL, "CELERY_BROKER_URL=" + node.URL(),
		"CELERY_RESULT_BACKEND=" + backend, "FRONT_DOOR=celery:async_execute_bin", "WORKFLOW_SETTINGS_FILE=" + frontDoorSettings(t),
		"FEATURE_FLAGS_FILE=" + flags, "DOCUMENTS_ROOTS=" + docs, "SHIM_TRACK_INTERVAL=500ms",
		fmt.Sprintf(`LLM_ADAPTERS={"default": {"base_url": %q, "model": "stub"}}`, llm.BaseURL())}
	svc := startService(t, bin, env...)

	ids := send(t, node, total, func(i int) []any {
		side := map[bool]string{true: "c", false: "h"}[i%2 == 0]
		return []any{fmt.Sprintf("org_%s%d", side, i/2%4), "wf-fd", fmt.Sprintf("ex-%d", i), files}
	})
	began := time.Now()
	// Each wait allows the whole run at a slow 2 tasks a second, 5 minutes at least.
	bound := max(5*time.Minute, time.Duration(total)*500*time.Millisecond)
	succeeded := func() (celery, hatchet int) { return succeededOf(ids) }
	for i, share := range []int{20, 45, 70} {
		svc.within(t, bound, func() bool { c, h := succeeded(); return (c+h)*100 >= share*total },
			func() string { c, h := succeeded(); return fmt.Sprintf("%d + %d of %d tasks succeeded", c, h, total) })
		c, h := succeeded()
		if i == 0 {
			t.Logf("front door before the kill: %s", frontDoorCounts(svc.text(t, "/metrics")))
			if err := svc.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = svc.wait(t, 30*time.Second)
			t.Logf("killed the service (SIGKILL) at %d (celery) + %d (hatchet) of %d done", c, h, total)
			svc = startService(t, bin, env...)
		}
		restarted := time.Now()
		node.Restart(t)
		t.Logf("restarted the broker at %d (celery) + %d (hatchet) of %d done, %v in (%v)", c, h, total,
			time.Since(began).Round(time.Second), time.Since(restarted).Round(time.Millisecond))
	}
	svc.within(t, bound, func() bool { c, h := succeeded(); return c+h == total },
		func() string { c, h := succeeded(); return fmt.Sprintf("%d + %d of %d tasks succeeded", c, h, total) })
	t.Logf("all %d done in %v", total, time.Since(began).Round(time.Second))

	store, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close(context.Background()) }()
	var onHatchet, keys, celerySide int
	err = store.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT idempotency_key), count(*) FILTER (WHERE organization_id LIKE 'org_c%')
		FROM hatchet_worker.executions WHERE backend = 'hatchet' AND idempotency_key = ANY($1)`, ids).Scan(&onHatchet, &keys, &celerySide)
	if err != nil {
		t.Fatal(err)
	}
	if onHatchet != total/2 || keys != onHatchet || celerySide != 0 {
		t.Errorf("Hatchet executions %d for %d task ids (%d kept on Celery), want %d for as many", onHatchet, keys, celerySide, total/2)
	}
	// A backlog of 10,000 waits longer than Hatchet's default 5 minutes
	// for a slot; the engine must hold the longer bound.
	rows, err := store.Query(t.Context(), `SELECT "readableId", "scheduleTimeout" FROM "Step" WHERE "readableId" IN ('process-files', 'process-batch')`)
	if err != nil {
		t.Fatal(err)
	}
	waits, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Task, Wait string }])
	if err != nil || len(waits) == 0 {
		t.Fatalf("the engine's steps: %v, %v", waits, err)
	}
	for _, w := range waits {
		if d, err := time.ParseDuration(w.Wait); err != nil || d != workflows.BacklogWait {
			t.Errorf("%s may wait %s to be scheduled, want %v", w.Task, w.Wait, workflows.BacklogWait)
		}
	}
	checkCeleryRuns(t, worker.Runs(t), ids)
	t.Logf("front door since the restart: %s", frontDoorCounts(svc.text(t, "/metrics")))
}

// restartBackend opens the result backend of TestFrontDoorBrokerRestarts,
// db+postgresql:// or, with FRONT_DOOR_RESTART_BACKEND=redis, redis://
// (where Celery completes a chord without polling, so a run by hand of
// 10,000 takes minutes, not an hour), and a function counting the tasks
// of ids whose result is SUCCESS, stored by a Celery worker or by the
// service.
func restartBackend(t *testing.T) (string, func(ids []string) (celery, hatchet int)) {
	t.Helper()
	if os.Getenv("FRONT_DOOR_RESTART_BACKEND") != "redis" {
		backend := testenv.CeleryPostgresBackend(t)
		meta, err := pgx.Connect(t.Context(), "postgresql://"+strings.TrimPrefix(backend, "db+postgresql://"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = meta.Close(context.Background()) })
		return backend, func(ids []string) (c, h int) {
			err := meta.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE name IS NOT NULL AND worker NOT LIKE 'hatchet-worker@%'),
				count(*) FILTER (WHERE worker LIKE 'hatchet-worker@%')
				FROM celery_taskmeta WHERE status = 'SUCCESS' AND task_id = ANY($1)`, ids).Scan(&c, &h)
			if err != nil {
				return 0, 0 // the table appears with the first result
			}
			return c, h
		}
	}
	const db = 10
	backend, err := testenv.CeleryRedisBackend(t.Context(), testenv.RedisAddr(t), db)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t), DB: db})
	t.Cleanup(func() { _ = client.FlushDB(context.Background()).Err(); _ = client.Close() })
	return backend, func(ids []string) (c, h int) {
		for batch := range slices.Chunk(ids, 500) {
			keys := make([]string, len(batch))
			for i, id := range batch {
				keys[i] = "celery-task-meta-" + id
			}
			values, _ := client.MGet(t.Context(), keys...).Result()
			for _, v := range values {
				var meta struct{ Status, Worker string }
				if s, ok := v.(string); !ok || json.Unmarshal([]byte(s), &meta) != nil || meta.Status != "SUCCESS" {
					continue
				}
				if strings.HasPrefix(meta.Worker, "hatchet-worker@") {
					h++
				} else {
					c++
				}
			}
		}
		return c, h
	}
}

// checkCeleryRuns checks the fixture worker's runs of the tasks kept on
// Celery (the even ones of ids): each ran; at most 0.1 % of the messages
// (one, in a short run) reached it twice as a second message of the task
// (the front door forwarded it twice); none of the tasks sent to Hatchet
// ran there. Runs of a message the broker redelivered to the worker after
// a restart (its acknowledgement lost: Celery's own at-least-once, with or
// without the front door) are counted and logged.
func checkCeleryRuns(t *testing.T, runs map[string]testenv.TaskRuns, ids []string) {
	t.Helper()
	var missing, sentAgain, redelivered, celerySide, strays int
	for i, id := range ids {
		r := runs[id]
		switch {
		case i%2 == 1:
			strays += r.Runs // sent to Hatchet
			continue
		case r.Runs == 0:
			missing++
		case r.Runs-r.Redelivered > 1:
			sentAgain += r.Runs - r.Redelivered - 1
		}
		celerySide++
		redelivered += r.Redelivered
	}
	t.Logf("Celery side: %d tasks, %d not run, %d sent to the worker again, %d runs of redelivered messages; %d runs of tasks sent to Hatchet",
		celerySide, missing, sentAgain, redelivered, strays)
	allowed := max(1, len(ids)/1000) // 0.1 %, rounded up to one message
	if missing > 0 || sentAgain > allowed || strays > 0 {
		t.Errorf("of %d tasks kept on Celery, %d never ran and %d were sent again (want none, and at most %d); %d runs on Celery of tasks sent to Hatchet (want none)",
			celerySide, missing, sentAgain, allowed, strays)
	}
}

// send sends total async_execute_bin tasks to the queue "celery" of node
// with confirmed publishes and returns their ids.
func send(t *testing.T, node *testenv.RabbitNode, total int, args func(i int) []any) []string {
	t.Helper()
	c, err := celerybridge.Dial(t.Context(), node.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(context.Background()) }()
	ids := make([]string, total)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < total; i += 8 {
				id, err := c.Send(t.Context(), "async_execute_bin", args(i), map[string]any{"use_file_history": false}, celerybridge.WithQueue("celery"))
				if err != nil {
					t.Errorf("send %d: %v", i, err)
					return
				}
				ids[i] = id
			}
		})
	}
	wg.Wait()
	return ids
}

// metricLines returns the lines of the exposition text that name one of
// the metrics.
// frontDoorCounts are the front door's counters in metrics text: the
// messages it took and the results it stored. A process counts only its
// own: the service killed at 20 % has usually taken every message by then.
func frontDoorCounts(text string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		for _, n := range []string{"front_door_messages_total", "front_door_redeliveries_total", "front_door_results_total"} {
			if strings.HasPrefix(line, n+"{") {
				out = append(out, line)
			}
		}
	}
	return strings.Join(out, "; ")
}
