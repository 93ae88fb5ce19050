//go:build integration

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim"
)

// fleetRequests is how many mixed requests TestFleet sends through the
// kill; FLEET_REQUESTS overrides it (2,000 by hand).
func fleetRequests(t *testing.T) int {
	if v := os.Getenv("FLEET_REQUESTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 {
			t.Fatalf("FLEET_REQUESTS=%q: want a number of at least 10", v)
		}
		return n
	}
	return 300
}

// fleetLease is the claim lease the README documents (two 20 s submit
// attempts and the store writes around them).
const fleetLease = 80 * time.Second

// fleet is three replicas of the service joined to one engine process,
// sharing one store, one broker and one Celery result database.
type fleet struct {
	engine   *service
	api      string // the engine's REST API
	celery   *testenv.CeleryWorker
	replicas []*service
	org      string // organisation of this fleet's requests
}

// TestFleet runs one process with the embedded engine and three replicas
// joined to it with its token, sharing one store database, and sends
// requests to all of them:
//   - a console login on one replica is honoured by the others, a logout
//     on another ends it everywhere, and the 11th refused login within a
//     minute gets 429 from any replica;
//   - 30 concurrent requests with one idempotency key give one execution
//     and one Hatchet run;
//   - mixed Celery and Hatchet requests, with one replica killed by SIGKILL
//     at 40 %: every accepted execution ends, no Hatchet one ran twice, a
//     Celery one twice only when its request died between the broker's
//     confirm and recording it, and clients that retried on another replica
//     with their key got one execution, within the claim lease.
func TestFleet(t *testing.T) {
	t.Parallel()
	f := startFleet(t)
	t.Run("console sessions", func(t *testing.T) { f.testConsole(t) })
	t.Run("one key", func(t *testing.T) { f.testOneKey(t) })
	t.Run("replica killed", func(t *testing.T) { f.testKill(t, fleetRequests(t)) })
}

// startFleet starts the engine process, a Celery worker and three
// replicas, the replicas all at once, as a deployment would.
func startFleet(t *testing.T) *fleet {
	bin := buildBinary(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// The engine's host and three replicas under a burst hold more
	// connections than the shared server's 100 leave beside other tests.
	pg := testenv.StartPGCluster(t)
	apiPort := freePort(t)
	eng := startService(t, bin, "DATABASE_URL="+clusterDatabase(t, pg, "hw_test_fleet_engine"), "CELERY_ENABLED=false",
		"HATCHET_EMBEDDED_GRPC_PORT="+freePort(t), "HATCHET_EMBEDDED_API_PORT="+apiPort, "HATCHET_CLIENT_NAMESPACE=engine-host_")
	vhost := testenv.AMQPVHost(t)
	backend, _, err := testenv.CreateCeleryDatabase(t.Context(), pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	celery := testenv.StartCeleryWorker(t, testenv.WithCeleryBroker(vhost), testenv.WithCeleryQueues("file_processing"),
		testenv.WithCeleryBackend(backend))
	llm := testenv.NewLLMServer(t, "")
	llm.SetDelay(time.Second) // Hatchet tasks are under way when a replica dies
	env := []string{"HATCHET_CLIENT_TOKEN=" + eng.token(t), "HATCHET_CLIENT_TLS_STRATEGY=none",
		"DATABASE_URL=" + clusterDatabase(t, pg, "hw_test_fleet_store"), "PLATFORM_DATABASE_URL=" + clusterDatabase(t, pg, "hw_test_fleet_platform"),
		"CELERY_BROKER_URL=" + vhost, "CELERY_RESULT_BACKEND=" + backend,
		"DOCUMENTS_ROOTS=" + filepath.Join(root, "examples"), "FEATURE_FLAGS_ALLOW_REQUEST_OVERRIDE=true",
		"SHIM_TRACK_INTERVAL=500ms", `LLM_ADAPTERS={"default": {"base_url": "` + llm.BaseURL() + `", "model": "m"}}`}
	f := &fleet{engine: eng, api: "http://127.0.0.1:" + apiPort, celery: celery, org: "org-fleet"}
	for range 3 {
		f.replicas = append(f.replicas, launchService(t, bin, env...))
	}
	for _, r := range f.replicas {
		r.waitReady(t)
	}
	return f
}

// testConsole logs in on one replica, uses the session on another, logs
// out on the third, and then exhausts the login limit across them.
func (f *fleet) testConsole(t *testing.T) {
	a, b, c := f.replicas[0], f.replicas[1], f.replicas[2]
	jar, _ := cookiejar.New(nil)
	br := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if code, _ := form(t, br, a, "/console/login", url.Values{"token": {shimToken}}); code != http.StatusSeeOther {
		t.Fatalf("login on A: %d", code)
	}
	// The jar keys cookies by host; the replicas all listen on 127.0.0.1.
	code, page := form(t, br, b, "/console/", nil)
	csrf := between(page, `name="csrf" value="`, `"`)
	if code != http.StatusOK || csrf == "" {
		t.Fatalf("B with A's session: %d, want the overview", code)
	}
	u, _ := url.Parse("http://" + a.addr + "/console/")
	kept := jar.Cookies(u)
	if code, _ := form(t, br, c, "/console/logout", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther {
		t.Fatalf("logout on C: %d", code)
	}
	replay, _ := cookiejar.New(nil)
	replay.SetCookies(u, kept)
	stale := &http.Client{Jar: replay, CheckRedirect: br.CheckRedirect}
	if code, _ := form(t, stale, a, "/console/", nil); code != http.StatusSeeOther {
		t.Errorf("A with the session ended on C: %d, want a redirect to login", code)
	}
	for i := range 10 {
		if code, _ := form(t, br, f.replicas[i%3], "/console/login", url.Values{"token": {"wrong"}}); code != http.StatusUnauthorized {
			t.Fatalf("refused login %d: %d, want 401", i+1, code)
		}
	}
	for i, r := range f.replicas {
		resp := postForm(t, br, r, "/console/login", url.Values{"token": {shimToken}})
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Errorf("replica %d after 10 refused logins: %d (Retry-After %q), want 429", i, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
}

// testOneKey sends 30 concurrent requests with one key, ten to each
// replica: one execution, one Hatchet run.
func (f *fleet) testOneKey(t *testing.T) {
	body := f.request("fleet-one-key", "org-fleet-key", true)
	ids := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			id := f.until(t, f.replicas[i%3], body, time.Minute)
			mu.Lock()
			ids[id]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(ids) != 1 {
		t.Fatalf("30 requests with one key gave executions %v, want one", ids)
	}
	for id := range ids {
		f.waitFinal(t, id)
	}
	if n := f.hatchetRuns(t, "org-fleet-key"); n != 1 {
		t.Errorf("%d Hatchet runs for one key, want 1", n)
	}
}

// testKill sends n requests, half to Hatchet, from ten clients spread over
// the replicas, and kills the third replica once 40 % are accepted. A
// client whose replica fails it retries with its key on the next live one.
func (f *fleet) testKill(t *testing.T, n int) {
	var accepted atomic.Int64
	var killed atomic.Bool
	live := func(i int) *service {
		if killed.Load() {
			return f.replicas[i%2]
		}
		return f.replicas[i%3]
	}
	ids := make([]string, n)
	waits := make([]time.Duration, n)
	var wg sync.WaitGroup
	for c := range 10 {
		wg.Go(func() {
			for i := c; i < n; i += 10 {
				body := f.request(fmt.Sprintf("fleet-kill-%d", i), f.org, i%2 == 0)
				began := time.Now()
				ids[i] = f.untilOn(t, func(try int) *service { return live(i + try) }, body, fleetLease+30*time.Second)
				waits[i] = time.Since(began)
				if accepted.Add(1) == int64(n*4/10) && killed.CompareAndSwap(false, true) {
					_ = f.replicas[2].cmd.Process.Kill()
					t.Logf("replica 3 killed after %d accepted", n*4/10)
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	var slowest time.Duration
	for i, id := range ids {
		if seen[id] {
			t.Errorf("request %d's key gave execution %s, which another key has too", i, id)
		}
		seen[id] = true
		slowest = max(slowest, waits[i])
	}
	if slowest > fleetLease+10*time.Second {
		t.Errorf("a client waited %v for its execution, more than the %v claim lease", slowest, fleetLease)
	}
	for _, id := range ids {
		f.waitFinal(t, id)
	}
	if got, want := f.hatchetRuns(t, f.org), (n+1)/2; got != want {
		t.Errorf("%d Hatchet runs for %d Hatchet executions: none may run twice", got, want)
	}
	// Each Celery task is received once, except one whose request died
	// between the broker's confirm and recording it: the claim's takeover
	// sends it again (a Celery message cannot be looked up; README, Known
	// limits). Those are counted, never more than one extra each.
	twice := 0
	for i := 1; i < n; i += 2 {
		got := strings.Count(f.celery.Log(), "["+ids[i]+"] received")
		tookOver := f.tookOver(ids[i])
		switch {
		case got == 2 && tookOver:
			twice++
		case got != 1:
			t.Errorf("Celery execution %s: the worker received its task %d times (claim taken over: %v), want once", ids[i], got, tookOver)
		}
	}
	t.Logf("%d requests, %d executions, slowest client %v; %d Celery tasks sent again after their claim's takeover",
		n, len(seen), slowest.Round(time.Millisecond), twice)
}

// tookOver reports whether a live replica took over the claim of
// execution id from a request that died.
func (f *fleet) tookOver(id string) bool {
	for _, r := range f.replicas[:2] {
		if strings.Contains(r.log.String(), `"msg":"stale claim taken over","execution_id":"`+id+`"`) {
			return true
		}
	}
	return false
}

// request is a document-processing execute body with key, on Hatchet or
// on Celery.
func (f *fleet) request(key, org string, hatchet bool) string {
	root, _ := filepath.Abs("../..")
	b, _ := json.Marshal(map[string]any{"workflow": "document-processing-v2", "organization_id": org, "idempotency_key": key,
		"use_abstraction": hatchet, "input": map[string]any{"document_path": filepath.Join(root, "examples", "invoice.txt"),
			"llm_adapter_id": "default", "outputs": []map[string]string{{"name": "total", "prompt": "total?"}}}})
	return string(b)
}

// until sends body to r until it is accepted (202, or 200 for a replay),
// retrying a 409 (the key's first request is still submitting) and a 503.
func (f *fleet) until(t *testing.T, r *service, body string, d time.Duration) string {
	return f.untilOn(t, func(int) *service { return r }, body, d)
}

// untilOn is until on the replica pick gives for each try.
func (f *fleet) untilOn(t *testing.T, pick func(try int) *service, body string, d time.Duration) string {
	deadline := time.Now().Add(d)
	for try := 0; time.Now().Before(deadline); try++ {
		code, answer := pick(try).post(t, body)
		if code == http.StatusAccepted || code == http.StatusOK {
			var a struct {
				ID string `json:"execution_id"`
			}
			if err := json.Unmarshal([]byte(answer), &a); err != nil || a.ID == "" {
				t.Errorf("accepted with %s", answer)
			}
			return a.ID
		}
		if code != 0 && code != http.StatusConflict && code != http.StatusServiceUnavailable {
			t.Errorf("execute answered %d %s", code, answer)
			return ""
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("not accepted within %v: %s", d, body)
	return ""
}

// waitFinal waits until execution id ends, read from a live replica.
func (f *fleet) waitFinal(t *testing.T, id string) {
	t.Helper()
	r := f.replicas[0]
	r.within(t, 3*time.Minute, func() bool { return shim.Status{State: r.status(t, id).State}.Final() },
		func() string { return "execution " + id + " is " + r.status(t, id).State })
	if st := r.status(t, id); st.State != "succeeded" {
		t.Errorf("execution %s ended %s, want succeeded", id, st.State)
	}
}

// hatchetRuns counts the engine's runs for org, as the dashboard lists
// them.
func (f *fleet) hatchetRuns(t *testing.T, org string) int {
	t.Helper()
	return len(testenv.HatchetRuns(t, f.api, f.engine.token(t), "organization_id:"+org))
}

// form posts values (or GETs path when values is nil) on the replica from
// browser b and returns the status and body.
func form(t *testing.T, b *http.Client, r *service, path string, values url.Values) (int, string) {
	t.Helper()
	var resp *http.Response
	if values == nil {
		var err error
		if resp, err = b.Get("http://" + r.addr + path); err != nil {
			t.Fatal(err)
		}
	} else {
		resp = postForm(t, b, r, path, values)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// postForm posts a form to the replica from browser b.
func postForm(t *testing.T, b *http.Client, r *service, path string, values url.Values) *http.Response {
	t.Helper()
	resp, err := b.PostForm("http://"+r.addr+path, values)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// between returns the text of s between from and to.
func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(rest, to)
	return v
}

// clusterDatabase creates database name on the throwaway cluster pg and
// returns its URL; it goes with the cluster.
func clusterDatabase(t *testing.T, pg *testenv.PGCluster, name string) string {
	t.Helper()
	u, err := testenv.FreshDatabase(t.Context(), pg.URL("postgres"), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
