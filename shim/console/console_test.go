package console

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/route"
)

const testToken = "console-test-token"

// fakeHistory answers with one failed Celery execution.
type fakeHistory struct{}

func (fakeHistory) List(context.Context, shim.ListQuery) ([]shim.Execution, error) {
	done := time.Now()
	return []shim.Execution{{ID: "6c1f3e8a-8d1b-4b43-9c66-2f0b8f7f2b11", Workflow: "wf", Backend: featureflag.BackendCelery,
		CreatedAt: done.Add(-time.Second), Outcome: shim.Outcome{State: shim.StateFailed, FinishedAt: &done, DurationSeconds: 1,
			Error: &shim.FailureInfo{Type: "KeyError", Message: "missing <key>"}}}}, nil
}

func (fakeHistory) Stats(context.Context, time.Time) ([]shim.BackendStats, error) { return nil, nil }

func (fakeHistory) Series(context.Context, time.Time, time.Duration) ([]shim.Point, error) {
	return nil, nil
}

// newTestConsole serves a console over a dispatcher with no workflows and
// the fake history; it returns its URL.
func newTestConsole(t *testing.T, tokens ...string) string {
	t.Helper()
	url, _ := serveConsole(t, WithTokens(tokens...))
	return url
}

// serveConsole serves a console with opts and returns its URL and itself.
func serveConsole(t *testing.T, opts ...Option) (string, *Console) {
	t.Helper()
	d := shim.NewDispatcher(route.Catalog{}, nil, nil, nil, shim.WithHistory(fakeHistory{}))
	c, err := New(d, append([]Option{WithFlags(func() FlagState {
		return FlagState{Backend: featureflag.BackendHatchet, Snapshot: featureflag.Snapshot{Source: "env",
			LastError: &featureflag.ReloadError{Error: "flags.json: bad JSON", At: time.Now()}}}
	})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	c.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, c
}

// browser is an HTTP client with cookies that does not follow redirects.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// send makes one request from the console's own origin unless headers say otherwise.
func send(t *testing.T, b *http.Client, method, u string, form url.Values, headers ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

// TestLoginLogout walks a browser through the session's life.
func TestLoginLogout(t *testing.T) {
	base := newTestConsole(t, testToken)
	b := browser(t)
	steps := []struct {
		name, method, path string
		form               url.Values
		headers            []string
		code               int
		location, body     string
	}{
		{"anonymous overview", "GET", "/console/", nil, nil, 303, "/console/login", ""},
		{"login page", "GET", "/console/login", nil, nil, 200, "", `method="post" action="/console/login"`},
		{"token in the URL is ignored", "GET", "/console/login?token=" + testToken, nil, nil, 200, "", "Shim token"},
		{"wrong token", "POST", "/console/login", url.Values{"token": {"nope"}}, nil, 401, "", "not accepted"},
		{"cross-site login", "POST", "/console/login", url.Values{"token": {testToken}}, []string{"Sec-Fetch-Site", "cross-site"}, 403, "", ""},
		{"still anonymous", "GET", "/console/executions", nil, nil, 303, "/console/login", ""},
		{"login", "POST", "/console/login", url.Values{"token": {testToken}}, nil, 303, "/console/", ""},
		{"executions", "GET", "/console/executions", nil, nil, 200, "", "missing &lt;key&gt;"},
		{"flags", "GET", "/console/flags", nil, nil, 200, "", "flags.json: bad JSON"},
		{"logout without CSRF token", "POST", "/console/logout", url.Values{}, nil, 403, "", ""},
		{"still logged in", "GET", "/console/", nil, nil, 200, "", "Overview"},
	}
	for _, s := range steps {
		resp, body := send(t, b, s.method, base+s.path, s.form, s.headers...)
		if resp.StatusCode != s.code || resp.Header.Get("Location") != s.location || !strings.Contains(body, s.body) {
			t.Fatalf("%s: %d → %q, want %d → %q with %q\n%s", s.name, resp.StatusCode, resp.Header.Get("Location"), s.code, s.location, s.body, body)
		}
		if s.name == "login" {
			checkCookie(t, resp)
		}
	}
	_, body := send(t, b, "GET", base+"/console/", nil)
	csrf := between(body, `name="csrf" value="`, `"`)
	resp, _ := send(t, b, "POST", base+"/console/logout", url.Values{"csrf": {csrf}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/console/login" {
		t.Fatalf("logout: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := send(t, b, "GET", base+"/console/", nil); resp.StatusCode != 303 {
		t.Errorf("after logout the overview answers %d, want a redirect to login", resp.StatusCode)
	}
}

// TestSessionsShared checks that consoles sharing their Sessions (replicas
// sharing a store) honour each other's logins and logouts.
func TestSessionsShared(t *testing.T) { testSessionsShared(t, newMemSessions()) }

// TestLoginLimit checks the login limit of consoles sharing their Sessions.
func TestLoginLimit(t *testing.T) { testLoginLimit(t, newMemSessions()) }

// testSessionsShared checks that two consoles sharing shared honour each
// other's logins and logouts.
func testSessionsShared(t *testing.T, shared Sessions) {
	a, _ := serveConsole(t, WithTokens(testToken), WithSessions(shared))
	b, _ := serveConsole(t, WithTokens(testToken), WithSessions(shared))
	br := browser(t)
	if resp, _ := send(t, br, "POST", a+"/console/login", url.Values{"token": {testToken}}); resp.StatusCode != 303 {
		t.Fatalf("login on A: %d", resp.StatusCode)
	}
	u, _ := url.Parse(a + "/console/")
	saved := br.Jar.Cookies(u)
	if len(saved) != 1 {
		t.Fatalf("cookies after login: %v", saved)
	}
	// The jar keys cookies by host, and both servers are 127.0.0.1.
	_, body := send(t, br, "GET", b+"/console/", nil)
	csrf := between(body, `name="csrf" value="`, `"`)
	if csrf == "" {
		t.Fatalf("B does not know A's session:\n%s", body)
	}
	if resp, _ := send(t, br, "POST", b+"/console/logout", url.Values{"csrf": {csrf}}); resp.StatusCode != 303 {
		t.Fatalf("logout on B: %d", resp.StatusCode)
	}
	// A browser that kept the cookie: A must refuse it now.
	replay := browser(t)
	replay.Jar.SetCookies(u, saved)
	if resp, _ := send(t, replay, "GET", a+"/console/", nil); resp.StatusCode != 303 {
		t.Errorf("a session ended on B still opens A's overview: %d", resp.StatusCode)
	}
}

// testLoginLimit checks that the 11th refused login within a minute from
// one address is answered 429 with Retry-After, even with the right token,
// on both consoles sharing shared, until the first refusal ages out.
func testLoginLimit(t *testing.T, shared Sessions) {
	now := time.Now()
	a, ca := serveConsole(t, WithTokens(testToken), WithSessions(shared))
	b, cb := serveConsole(t, WithTokens(testToken), WithSessions(shared))
	ca.now = func() time.Time { return now }
	cb.now = ca.now
	br := browser(t)
	for i := range loginLimit {
		base := []string{a, b}[i%2]
		if resp, _ := send(t, br, "POST", base+"/console/login", url.Values{"token": {"wrong"}}); resp.StatusCode != 401 {
			t.Fatalf("refused login %d: %d, want 401", i+1, resp.StatusCode)
		}
		now = now.Add(time.Second)
	}
	for _, base := range []string{a, b} {
		resp, _ := send(t, br, "POST", base+"/console/login", url.Values{"token": {testToken}})
		retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != http.StatusTooManyRequests || retry < 1 || retry > 60 {
			t.Errorf("login after %d refusals: %d, Retry-After %q; want 429 and 1-60 s", loginLimit, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	now = now.Add(loginWindow - time.Duration(loginLimit-1)*time.Second) // the first refusal has aged out
	if resp, _ := send(t, br, "POST", a+"/console/login", url.Values{"token": {testToken}}); resp.StatusCode != 303 {
		t.Errorf("login once the first refusal aged out: %d, want 303", resp.StatusCode)
	}
}

// checkCookie checks the session cookie's attributes.
func checkCookie(t *testing.T, resp *http.Response) {
	t.Helper()
	set := resp.Header.Get("Set-Cookie")
	for _, want := range []string{cookieName + "=", "Path=/console", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %s", set, want)
		}
	}
}

func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(rest, to)
	return v
}

// TestPagesAccessible checks what every page shares: security headers, one
// h1, a skip link, and a label for every form control.
func TestPagesAccessible(t *testing.T) {
	base := newTestConsole(t) // open: no tokens
	for _, path := range []string{"/console/", "/console/executions?status=failed&refresh=off", "/console/flags", "/console/login"} {
		resp, body := send(t, browser(t), "GET", base+path, nil)
		if path == "/console/login" {
			if resp.StatusCode != 303 {
				t.Errorf("open console: login answers %d, want a redirect", resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s: %d, CSP %q", path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
		if strings.Count(body, "<h1>") != 1 || !strings.Contains(body, `href="#main"`) || !strings.Contains(body, "<html lang=\"en\">") {
			t.Errorf("%s: lacks one h1, the skip link or the language", path)
		}
		for _, id := range ids(body, `<select id="`, `<input id="`) {
			if !strings.Contains(body, `<label for="`+id+`"`) {
				t.Errorf("%s: control %s has no label", path, id)
			}
		}
	}
	_, body := send(t, browser(t), "GET", base+"/console/executions?refresh=off", nil)
	if strings.Contains(body, `http-equiv="refresh"`) {
		t.Error("paused list still refreshes")
	}
	if _, body := send(t, browser(t), "GET", base+"/console/executions", nil); !strings.Contains(body, `http-equiv="refresh" content="10"`) {
		t.Error("list does not refresh itself")
	}
	if resp, _ := send(t, browser(t), "GET", base+"/console/executions?status=bogus", nil); resp.StatusCode != 422 {
		t.Errorf("bad filter: %d, want 422", resp.StatusCode)
	}
}

// ids returns the ids following each prefix in body.
func ids(body string, prefixes ...string) []string {
	var out []string
	for _, p := range prefixes {
		for _, part := range strings.Split(body, p)[1:] {
			id, _, _ := strings.Cut(part, `"`)
			out = append(out, id)
		}
	}
	return out
}

// TestLoginLimitBehindProxy checks whose address the login limit counts:
// behind a trusted proxy, the client's in X-Forwarded-For; otherwise the
// peer's, whatever X-Forwarded-For says.
func TestLoginLimitBehindProxy(t *testing.T) {
	tests := []struct {
		name    string
		opts    []Option
		another int // status of a login with the right token from another forwarded address
	}{
		{"trusted proxy", []Option{WithTrustedProxies(netip.MustParsePrefix("127.0.0.0/8"))}, http.StatusSeeOther},
		{"untrusted peer", nil, http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, _ := serveConsole(t, append([]Option{WithTokens(testToken)}, tt.opts...)...)
			br := browser(t)
			for i := range loginLimit {
				resp, _ := send(t, br, "POST", base+"/console/login", url.Values{"token": {"wrong"}}, "X-Forwarded-For", "198.51.100.1, 203.0.113.7")
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("refused login %d: %d", i+1, resp.StatusCode)
				}
			}
			if resp, _ := send(t, br, "POST", base+"/console/login", url.Values{"token": {testToken}}, "X-Forwarded-For", "203.0.113.7"); resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("the refused address: %d, want 429", resp.StatusCode)
			}
			if resp, _ := send(t, br, "POST", base+"/console/login", url.Values{"token": {testToken}}, "X-Forwarded-For", "203.0.113.8"); resp.StatusCode != tt.another {
				t.Errorf("another forwarded address: %d, want %d", resp.StatusCode, tt.another)
			}
		})
	}
}
