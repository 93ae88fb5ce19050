//go:build integration

package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/unstract/hatchet-worker/internal/cli"
	"github.com/unstract/hatchet-worker/internal/testenv"
)

func TestCeleryCallExitCodes(t *testing.T) {
	broker := testenv.AMQPURL(t)
	queue := fmt.Sprintf("cli-celery-%d", time.Now().UnixNano())
	testenv.StartCeleryWorker(t, testenv.WithCeleryQueues(queue))
	idle := queue + "-idle"
	declareIdleQueue(t, broker, idle)
	env := func(k string) string {
		return map[string]string{"CELERY_BROKER_URL": broker}[k]
	}
	tests := []struct {
		name       string
		args       []string
		env        func(string) string
		code       int
		wantStdout []string
		wantStderr string
	}{
		{"success, flags after task", []string{"echo", "--queue", queue, "--args", `[9007199254740993, "ü"]`, "--kwargs", `{"a": {"b": [1.5]}}`}, env,
			cli.ExitOK, []string{`"status":"SUCCESS"`, `"result":{"args":[9007199254740993,"\u00fc"],"kwargs":{"a":{"b":[1.5]}}}`}, ""},
		{"no wait", []string{"--no-wait", "--queue", queue, "echo"}, env, cli.ExitOK, []string{`"status":"PENDING"`, `"result":null`}, ""},
		{"task failure", []string{"fail", "--queue=" + queue, "--args", `["cli boom"]`}, env,
			cli.ExitFailed, []string{`"status":"FAILURE"`, `"exc_type":"FixtureError"`, `"exc_module":"fixture_app"`, `"exc_message":["cli boom",42]`, `"traceback":"Traceback`}, ""},
		{"missing task", []string{"--queue", queue}, env, cli.ExitUsage, nil, "TASK"},
		{"bad args json", []string{"echo", "--args", "[1,"}, env, cli.ExitUsage, nil, "--args"},
		{"unknown flag", []string{"echo", "--bogus"}, env, cli.ExitUsage, nil, "bogus"},
		{"unsupported backend", []string{"echo"}, func(k string) string {
			return map[string]string{"CELERY_BROKER_URL": broker, "CELERY_RESULT_BACKEND": "cache+memcached://x"}[k]
		}, cli.ExitUsage, nil, "CELERY_RESULT_BACKEND"},
		{"unroutable queue", []string{"echo", "--queue", queue + "-missing"}, env, cli.ExitUsage, nil, "unroutable"},
		{"timeout", []string{"echo", "--queue", idle, "--timeout", "1s"}, env, cli.ExitTimeout, []string{`"status":"PENDING"`}, "timed out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			code := cli.CeleryCall(ctx, tc.args, &stdout, &stderr, tc.env)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, &stdout, &stderr)
			}
			for _, w := range tc.wantStdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout %s lacks %s", &stdout, w)
				}
			}
			if stdout.Len() > 0 && !json.Valid(stdout.Bytes()) {
				t.Errorf("stdout is not one JSON object: %s", &stdout)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr %q lacks %q", &stderr, tc.wantStderr)
			}
		})
	}
}

// declareIdleQueue declares a queue nobody consumes, as Celery would.
func declareIdleQueue(t *testing.T, url, queue string) {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = ch.QueueDelete(queue, false, false, false)
		_ = conn.Close()
	})
}
