//go:build integration

package workflows_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
	"github.com/unstract/hatchet-worker/workflows"
)

// legacy starts a real Python Celery worker on a queue of its own and a
// bridge client whose default queue is that queue.
func legacy(t *testing.T) (*celerybridge.Client, *testenv.CeleryWorker) {
	t.Helper()
	queue := "wf_" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_"))
	w := testenv.StartCeleryWorker(t, testenv.WithCeleryQueues(queue))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := celerybridge.Dial(ctx, testenv.AMQPURL(t), celerybridge.WithResultBackend("rpc://"), celerybridge.WithDefaultQueue(queue))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c, w
}

func TestCeleryBridge(t *testing.T) {
	celery, _ := legacy(t)
	client := startWorker(t, workflows.CeleryBridge(workflows.Deps{Log: slog.Default(), Celery: celery}))

	// Hatchet's Go SDK decodes run input into float64, so integers beyond
	// 2^53 are exact through celerybridge but not through a Hatchet run.
	t.Run("success round-trips JSON", func(t *testing.T) {
		in := workflows.CeleryCall{Task: "echo", Args: json.RawMessage(`[9007199254740, "héllo ✓", 1.5]`),
			Kwargs: json.RawMessage(`{"nested": {"list": [1, null, true]}}`)}
		res, err := client.Run(context.Background(), workflows.CeleryBridgeName, in)
		if err != nil {
			t.Fatal(err)
		}
		var out workflows.CeleryOutput
		if err := res.TaskOutput("call-legacy-task").Into(&out); err != nil {
			t.Fatal(err)
		}
		if out.Status != "SUCCESS" || out.CeleryTaskID == "" {
			t.Fatalf("output = %+v", out)
		}
		want := `{"args":[9007199254740,"héllo ✓",1.5],"kwargs":{"nested":{"list":[1,null,true]}}}`
		if got := compact(t, out.Result); got != want {
			t.Errorf("result = %s\nwant     %s", got, want)
		}
	})
	failures := []struct {
		name string
		in   workflows.CeleryCall
		want []string
	}{
		{"legacy exception", workflows.CeleryCall{Task: "fail", Args: json.RawMessage(`["disk full"]`)}, []string{"FixtureError", "disk full"}},
		{"unknown task", workflows.CeleryCall{Task: "no.such.task"}, []string{"NotRegistered"}},
		{"unroutable queue", workflows.CeleryCall{Task: "echo", Queue: "no_such_queue_" + time.Now().Format("150405")}, []string{"unroutable"}},
		{"empty task", workflows.CeleryCall{}, []string{"task is required"}},
		{"integer beyond 2^53", workflows.CeleryCall{Task: "echo", Kwargs: json.RawMessage(`{"id": 12345678901234567890}`)},
			[]string{"kwargs: $.id", "beyond ±2^53"}},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_, err := client.Run(ctx, workflows.CeleryBridgeName, tt.in)
			if err == nil {
				t.Fatal("want the run to fail")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestUserOnboardingIsIdempotent(t *testing.T) {
	celery, cw := legacy(t)
	pool, err := pgxpool.New(context.Background(), hatchettest.DatabaseURL(t, "hw_test_platform"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := workflows.EnsurePlatformSchema(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	client := startWorker(t, workflows.UserOnboarding(workflows.Deps{Log: slog.Default(), Celery: celery, Platform: pool}))
	ada := workflows.OnboardingInput{OrganizationID: "acme", OrganizationName: "Acme", UserEmail: "Ada@Acme.test",
		UserName: "Ada", Role: "admin", WebhookURL: "https://hooks.acme.test/onboarded"}
	bob := ada
	bob.UserEmail, bob.UserName, bob.Role = "bob@acme.test", "Bob", "" // role defaults to user

	var outputs []workflows.NotifyOutput
	for _, in := range []workflows.OnboardingInput{ada, ada, bob} {
		res, err := client.Run(context.Background(), workflows.UserOnboardingName, in)
		if err != nil {
			t.Fatalf("onboard %s: %v", in.UserEmail, err)
		}
		var out workflows.NotifyOutput
		if err := res.TaskOutput("notify").Into(&out); err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, out)
	}
	if !outputs[0].Notified || outputs[1].Notified || !outputs[2].Notified {
		t.Errorf("notified = %v %v %v, want true false true", outputs[0].Notified, outputs[1].Notified, outputs[2].Notified)
	}
	counts := map[string]int{}
	for _, table := range []string{"organizations", "users", "memberships"} {
		var n int
		if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM platform."+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[table] = n
	}
	if counts["organizations"] != 1 || counts["users"] != 2 || counts["memberships"] != 2 {
		t.Errorf("rows = %v, want 1 organization, 2 users, 2 memberships", counts)
	}
	calls := cw.WebhookCalls(t)
	if len(calls) != 2 || !strings.Contains(calls[0], "ada@acme.test") || !strings.Contains(calls[1], "bob@acme.test") {
		t.Errorf("legacy webhook calls = %q, want one for ada then one for bob", calls)
	} else if !strings.Contains(calls[0], `"role": "admin"`) || !strings.Contains(calls[1], `"role": "user"`) {
		t.Errorf("legacy webhook calls = %q, want ada as admin and bob as user (the default)", calls)
	}

	_, err = client.Run(context.Background(), workflows.UserOnboardingName, workflows.OnboardingInput{OrganizationID: "Bad Org!", UserEmail: "nope"})
	if err == nil || !strings.Contains(err.Error(), "invalid onboarding request") {
		t.Errorf("bad request: err = %v", err)
	}
}

func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b strings.Builder
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(b.String())
}
