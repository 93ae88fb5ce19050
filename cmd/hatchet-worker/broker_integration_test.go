//go:build integration

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/workflows"
)

// TestStartsWithoutBroker starts the service while RabbitMQ is unreachable:
// it stays up, not ready (broker check failing), and keeps running Hatchet
// work; once the broker answers it becomes ready.
func TestStartsWithoutBroker(t *testing.T) {
	t.Setenv("HATCHET_CLIENT_TLS_STRATEGY", "none")
	broker, err := url.Parse(testenv.AMQPURL(t))
	if err != nil {
		t.Fatal(err)
	}
	late := *broker
	late.Host = testenv.FreeAddr(t) // nothing listens there yet
	svc := launchService(t, buildBinary(t), "DATABASE_URL="+database(t, "hw_test_nobroker"), "CELERY_BROKER_URL="+late.String())

	checks := waitChecks(t, svc, func(c map[string]string) bool { return c["worker"] == "ok" })
	if checks["broker"] == "ok" {
		t.Fatalf("broker check ok with no broker: %v", checks)
	}
	res, err := newClient(t, svc.token(t)).Run(context.Background(), workflows.ConnectorValidationName,
		workflows.ConnectorValidationInput{OrganizationID: "org-nobroker", Settings: postgresSettings(t)})
	if err != nil {
		t.Fatalf("hatchet run while the broker is down: %v", err)
	}
	var out workflows.ConnectorValidationOutput
	if err := res.TaskOutput("validate-connection").Into(&out); err != nil || !out.OK {
		t.Fatalf("connector-validation = %+v, %v", out, err)
	}

	testenv.Forward(t, late.Host, broker.Host)
	svc.waitReady(t)
	if code := svc.stop(t); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d", code)
	}
}

// waitChecks polls /readyz until cond holds for its checks and returns them.
func waitChecks(t *testing.T, svc *service, cond func(map[string]string) bool) map[string]string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-svc.done:
			t.Fatalf("service exited: %v", err)
		default:
		}
		var body struct {
			Checks map[string]string `json:"checks"`
		}
		if resp, err := http.Get("http://" + svc.addr + "/readyz"); err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if cond(body.Checks) {
				return body.Checks
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("readiness checks never reached the expected state")
	return nil
}
