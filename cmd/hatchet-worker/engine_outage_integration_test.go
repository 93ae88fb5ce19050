//go:build integration

package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// engineOutage is how long TestEngineOutage keeps the engine down;
// HW_ENGINE_OUTAGE overrides it (the ten-minute run is made by hand).
func engineOutage(t *testing.T) time.Duration {
	if v := os.Getenv("HW_ENGINE_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("HW_ENGINE_OUTAGE=%q: %v", v, err)
		}
		return d
	}
	return 3 * time.Minute
}

// TestEngineOutage joins the service to an external engine (another
// process running the embedded engine, under a namespace of its own so its
// worker never takes the service's tasks), stops that engine for
// engineOutage and starts it again. The service never exits; /readyz
// turns 503 naming the engine, then 200; an execution accepted before the
// stop and one accepted after the restart both succeed; and once /readyz is
// 200 again the first execute is accepted within 2 s.
func TestEngineOutage(t *testing.T) {
	t.Parallel() // waits out the outage on an engine of its own: beside the other long tests, CI stays short
	bin := buildBinary(t)
	outage := engineOutage(t)
	engineEnv := []string{"DATABASE_URL=" + database(t, "hw_test_outage_engine"), "CELERY_ENABLED=false",
		"HATCHET_EMBEDDED_GRPC_PORT=" + freePort(t), "HATCHET_EMBEDDED_API_PORT=" + freePort(t),
		"HATCHET_CLIENT_NAMESPACE=engine-host_"}
	eng := startService(t, bin, engineEnv...)
	svc := startService(t, bin, "HATCHET_CLIENT_TOKEN="+eng.token(t), "HATCHET_CLIENT_TLS_STRATEGY=none",
		"DATABASE_URL="+database(t, "hw_test_outage_store"), "CELERY_ENABLED=false")

	before := svc.execute(t, validation("outage-before"))
	if code := eng.stop(t); code != 0 {
		t.Fatalf("engine process exit code %d\n%s", code, eng.log.String())
	}
	stopped := time.Now()
	svc.within(t, 30*time.Second, func() bool { return svc.check("engine") != "ok" && svc.check("engine") != "" },
		func() string { return "/readyz engine still " + svc.check("engine") + " 30 s after the engine stopped" })
	t.Logf("engine stopped; /readyz engine: %s", svc.check("engine"))
	asked := time.Now()
	code, body := svc.post(t, validation("outage-during"))
	if code/100 == 2 || !strings.Contains(body, `"error"`) {
		t.Errorf("execute during the outage answered %d %s, want an error with a JSON body", code, body)
	}
	if took := time.Since(asked); took > 5*time.Second {
		t.Errorf("execute during the outage took %v to answer, want ≤ 5 s", took)
	}
	t.Logf("execute during the outage: %d after %v", code, time.Since(asked).Round(time.Millisecond))
	for time.Since(stopped) < outage {
		select {
		case err := <-svc.done:
			t.Fatalf("service exited during the outage: %v\n%s", err, tail(svc.log.String(), 40))
		case <-time.After(time.Second):
		}
		if code, _ := svc.get(t, "/readyz"); code == http.StatusOK {
			t.Fatalf("/readyz 200 while the engine is down\n%s", tail(svc.log.String(), 20))
		}
	}

	eng = startService(t, bin, engineEnv...)
	back := time.Now()
	svc.waitReady(t)
	t.Logf("engine down %v; service ready %v after the engine", back.Sub(stopped).Round(time.Second), time.Since(back).Round(time.Millisecond))
	began := time.Now()
	after := svc.execute(t, validation("outage-after"))
	took := time.Since(began)
	if took > 2*time.Second {
		t.Errorf("first execute after /readyz turned 200 took %v, want ≤ 2 s", took)
	}
	t.Logf("first execute after ready accepted in %v", took.Round(time.Millisecond))
	for _, id := range []string{before, after} {
		svc.within(t, 2*time.Minute, func() bool { return svc.status(t, id).State == "succeeded" },
			func() string { return "execution " + id + " is " + svc.status(t, id).State + ", want succeeded" })
	}
	if at := svc.status(t, before).FinishedAt; at != nil && at.After(stopped) {
		t.Logf("the execution accepted before the stop waited out the outage in the engine's queue and ran %v after the stop", at.Sub(stopped).Round(time.Second))
	} else {
		t.Logf("the execution accepted before the stop ran before the engine stopped")
	}
	select {
	case err := <-svc.done:
		t.Fatalf("service exited: %v", err)
	default:
	}
	if code := svc.stop(t); code != 0 {
		t.Errorf("service exit code %d after the outage, want 0\n%s", code, tail(svc.log.String(), 30))
	}
	eng.stop(t)
}

// validation is an execute request for a connector validation that
// succeeds, with idempotency key key.
func validation(key string) string {
	b, _ := json.Marshal(map[string]any{"workflow": "connector-validation", "organization_id": "org-outage", "idempotency_key": key,
		"input": map[string]any{"settings": map[string]any{"type": "filesystem", "path": os.TempDir()}}})
	return string(b)
}

// post sends an execute request and returns its status and body, whatever
// they are.
func (s *service) post(t *testing.T, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+s.addr+"/api/v2/workflows/execute", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+shimToken)
	req.Header.Set("Content-Type", "application/json")
	client := apiClient(t)
	client.Timeout = time.Minute
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	return resp.StatusCode, out.String()
}
