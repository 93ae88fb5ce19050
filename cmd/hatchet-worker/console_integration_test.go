//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/unstract/hatchet-worker/internal/testenv"
)

// TestConsoleInBrowser runs real executions on both backends, one of them
// a Celery task that raises, then drives the console in headless Chromium:
// log in, compare the overview's numbers with the summary API's, narrow
// the executions list with the filter form, read the failed task's
// traceback on its detail page, and log out. It saves a screenshot of each
// page in SCREENSHOT_DIR (default: the test's temporary directory).
func TestConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service, a Celery worker and Chromium; skipped with -short")
	}
	browserPath := chromium(t)
	svc := consoleService(t)
	ids := map[string]string{
		"hatchet-1": svc.send(t, "invoice.txt", true), "hatchet-2": svc.send(t, "invoice.txt", true),
		"celery-ok": svc.send(t, "invoice.txt", false), "celery-raise": svc.send(t, "raise.txt", false),
	}
	sum := svc.awaitFinished(t, 4)

	ctx := newBrowser(t, browserPath)
	shots := screenshotDir(t)
	base := "http://" + svc.addr
	login(t, ctx, base)
	checkOverview(t, ctx, base, sum)
	shot(t, ctx, shots, "overview.png")
	checkFilter(t, ctx, base)
	shot(t, ctx, shots, "executions.png")
	checkDetail(t, ctx, base, ids["celery-raise"])
	shot(t, ctx, shots, "execution-failed.png")
	browse(t, ctx, chromedp.Navigate(base+"/console/flags"), chromedp.WaitVisible(chromedp.CSS(`[data-fact="source"]`)))
	shot(t, ctx, shots, "flags.png")
	checkLogout(t, ctx, base)
}

// consoleFixture is the service of TestConsoleInBrowser.
type consoleFixture struct {
	*service
	docs string // a document of the documents root
}

// consoleService starts a Celery worker (rpc://) and the service routing
// document-processing-v2 to Celery unless a request overrides it, with a
// documents root holding the example invoice and a document the worker
// raises on.
func consoleService(t *testing.T) consoleFixture {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	docs := t.TempDir()
	invoice, err := os.ReadFile(filepath.Join(root, "examples", "invoice.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"invoice.txt": invoice, "raise.txt": []byte("the fixture worker raises on this name")} {
		if err := os.WriteFile(filepath.Join(docs, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	llm := testenv.NewLLMServer(t, "")
	vhost := testenv.AMQPVHost(t)
	testenv.StartCeleryWorker(t, testenv.WithCeleryBroker(vhost), testenv.WithCeleryQueues("file_processing"))
	adapters := fmt.Sprintf(`{"default": {"base_url": %q, "model": "stub"}}`, llm.BaseURL())
	svc := startService(t, buildBinary(t), "DATABASE_URL="+database(t, "hw_test_console"), "CELERY_BROKER_URL="+vhost,
		"DOCUMENTS_ROOTS="+docs, "SHIM_TRACK_INTERVAL=200ms", "LLM_ADAPTERS="+adapters,
		"FEATURE_FLAGS_ALLOW_REQUEST_OVERRIDE=true", "HATCHET_DASHBOARD_URL=http://dashboard.example")
	return consoleFixture{service: svc, docs: filepath.Join(docs, "invoice.txt")}
}

// send executes document-processing-v2 on the document named, on Hatchet
// when hatchet is set, else on Celery.
func (f consoleFixture) send(t *testing.T, doc string, hatchet bool) string {
	t.Helper()
	return f.execute(t, fmt.Sprintf(`{"workflow": "document-processing-v2", "organization_id": "org-console", "use_abstraction": %t,
		"input": {"document_path": %q, "llm_adapter_id": "default", "outputs": [{"name": "total", "prompt": "total?"}]}}`,
		hatchet, filepath.Join(filepath.Dir(f.docs), doc)))
}

// summaryBackend is one backend of the summary API's document-processing-v2.
type summaryBackend struct {
	Backend     string         `json:"backend"`
	Counts      map[string]int `json:"counts"`
	Total       int            `json:"total"`
	SuccessRate *float64       `json:"success_rate"`
	P50         *float64       `json:"p50_seconds"`
	P95         *float64       `json:"p95_seconds"`
}

// awaitFinished waits until the summary API shows n finished executions of
// document-processing-v2 and returns its backends.
func (f consoleFixture) awaitFinished(t *testing.T, n int) map[string]summaryBackend {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var sum struct {
			Workflows []struct {
				Workflow string           `json:"workflow"`
				Backends []summaryBackend `json:"backends"`
			} `json:"workflows"`
		}
		raw := f.api(t, http.MethodGet, "/api/v2/migration/summary?window=1h", "", http.StatusOK)
		if err := json.Unmarshal(raw, &sum); err != nil {
			t.Fatal(err)
		}
		out, done := map[string]summaryBackend{}, 0
		for _, w := range sum.Workflows {
			for _, b := range w.Backends {
				if w.Workflow == "document-processing-v2" {
					out[b.Backend] = b
					done += b.Counts["succeeded"] + b.Counts["failed"]
				}
			}
		}
		if done == n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d executions finished: %s", done, n, raw)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// chromium finds Debian's chromium (scripts/setup.sh installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found: run scripts/setup.sh (it installs Debian's chromium package)")
	return ""
}

// newBrowser starts headless Chromium for the test and returns its context.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.DisableGPU)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser, which lives as long as its context:
	// give it none with a deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// browse runs browser actions, failing the test after 30 s or on an error.
func browse(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// read runs one browser action and returns its value.
func read[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

// login opens the console, is sent to the login page, and logs in.
func login(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	browse(t, ctx, chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS(`#token`)))
	if url := read(t, ctx, chromedp.Location()); !strings.HasSuffix(url, "/console/login") {
		t.Fatalf("anonymous console at %s, want the login page", url)
	}
	browse(t, ctx, chromedp.SendKeys(chromedp.CSS(`#token`), shimToken), chromedp.Submit(chromedp.CSS(`#token`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-workflow]`)))
	if url := read(t, ctx, chromedp.Location()); strings.Contains(url, shimToken) {
		t.Errorf("the token is in the URL %s", url)
	}
}

// checkOverview compares each number of document-processing-v2's table
// with the summary API's.
func checkOverview(t *testing.T, ctx context.Context, base string, sum map[string]summaryBackend) {
	t.Helper()
	browse(t, ctx, chromedp.Navigate(base+"/console/?window=1h"), chromedp.WaitVisible(chromedp.CSS(`[data-workflow="document-processing-v2"]`)))
	for name, b := range sum {
		want := map[string]string{"total": fmt.Sprint(b.Total), "succeeded": fmt.Sprint(b.Counts["succeeded"]),
			"failed": fmt.Sprint(b.Counts["failed"]), "success_rate": num(b.SuccessRate), "p50": num(b.P50), "p95": num(b.P95)}
		for metric, w := range want {
			sel := fmt.Sprintf(`[data-workflow="document-processing-v2"] tr[data-backend=%q] td[data-metric=%q]`, name, metric)
			if got := read(t, ctx, chromedp.AttributeValue(chromedp.CSS(sel), "data-value")).Value; got != w {
				t.Errorf("overview %s %s = %q, summary API says %q", name, metric, got, w)
			}
		}
	}
}

// num renders an optional API number as the console's data-value does.
func num(f *float64) string {
	if f == nil {
		return ""
	}
	return fmt.Sprint(*f)
}

// checkFilter narrows the list with the form: 4 executions, then Celery's
// failed one.
func checkFilter(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	rows := chromedp.Evaluate[int](`document.querySelectorAll("tr[data-execution]").length`)
	browse(t, ctx, chromedp.Navigate(base+"/console/executions?refresh=off"), chromedp.WaitVisible(chromedp.CSS(`#f-backend`)))
	all := read(t, ctx, rows)
	browse(t, ctx, chromedp.SetValue(chromedp.CSS(`#f-backend`), "celery"), chromedp.SetValue(chromedp.CSS(`#f-status`), "failed"),
		chromedp.Click(chromedp.CSS(`.filters button[type="submit"]`)))
	awaitURL(t, ctx, "status=failed")
	browse(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#f-backend`)))
	if failed := read(t, ctx, rows); all != 4 || failed != 1 {
		t.Errorf("list shows %d executions, %d after filtering on failed Celery ones; want 4 and 1", all, failed)
	}
}

// awaitURL waits up to 10 s for the page's URL to contain part.
func awaitURL(t *testing.T, ctx context.Context, part string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		url := read(t, ctx, chromedp.Location())
		if strings.Contains(url, part) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the browser stayed at %s, want a URL with %s", url, part)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkDetail follows the failed execution's link to its traceback.
func checkDetail(t *testing.T, ctx context.Context, base, id string) {
	t.Helper()
	browse(t, ctx, chromedp.Click(chromedp.CSS(`tr[data-execution="`+id+`"] a`)), chromedp.WaitVisible(chromedp.CSS(`pre.traceback`)))
	tb := read(t, ctx, chromedp.Text(chromedp.CSS(`pre.traceback`)))
	if !strings.Contains(tb, "Traceback") || !strings.Contains(tb, "FixtureError: cannot process raise.txt") {
		t.Errorf("traceback shown: %q", tb)
	}
	if tl := read(t, ctx, chromedp.Text(chromedp.CSS(`ol.timeline`))); !strings.Contains(tl, "failed after") {
		t.Errorf("timeline %q does not show the end", tl)
	}
	if taskID := read(t, ctx, chromedp.Text(chromedp.CSS(`[data-fact="task_id"]`))); taskID != id {
		t.Errorf("Celery task id %q, want %s", taskID, id)
	}
}

// checkLogout logs out; the console then asks to log in again.
func checkLogout(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	browse(t, ctx, chromedp.Click(chromedp.CSS(`.logout button`)), chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.Navigate(base+"/console/executions"), chromedp.WaitVisible(chromedp.CSS(`#token`)))
	if url := read(t, ctx, chromedp.Location()); !strings.HasSuffix(url, "/console/login") {
		t.Errorf("after logout the console shows %s, want the login page", url)
	}
}

// screenshotDir is SCREENSHOT_DIR, or a temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("SCREENSHOT_DIR"); d != "" {
		return d
	}
	return t.TempDir()
}

// shot saves a full-page screenshot as dir/name.
func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png := read(t, ctx, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", filepath.Join(dir, name))
}
