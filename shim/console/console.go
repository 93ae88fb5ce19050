package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/internal/bearer"
	"github.com/unstract/hatchet-worker/shim"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// FlagState is what the flags page shows: the backend pin
// (TASK_QUEUE_BACKEND) and the effective flags with their source.
type FlagState struct {
	Backend featureflag.Backend
	featureflag.Snapshot
}

// Console serves the migration console over a Dispatcher.
type Console struct {
	d        *shim.Dispatcher
	tokens   bearer.Tokens
	flags    func() FlagState
	log      *slog.Logger
	sessions Sessions
	proxies  []netip.Prefix
	pages    map[string]*template.Template
	now      func() time.Time
}

// Option configures a Console.
type Option func(*Console)

// WithTokens sets the shim tokens that log in; with none the console is
// open, like the API (SHIM_INSECURE_DEV).
func WithTokens(tokens ...string) Option {
	return func(c *Console) {
		c.tokens = bearer.New(tokens...)
	}
}

// WithFlags sets the function the flags page reads.
func WithFlags(f func() FlagState) Option { return func(c *Console) { c.flags = f } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Console) { c.log = l } }

// WithTrustedProxies names the proxies in front of the console
// (SHIM_TRUSTED_PROXIES): behind one, logins are limited by the client
// address it puts last in X-Forwarded-For, not by the proxy's own.
func WithTrustedProxies(networks ...netip.Prefix) Option {
	return func(c *Console) { c.proxies = networks }
}

// pageNames are the templates, each rendered inside layout.html.
var pageNames = []string{"login", "overview", "executions", "execution", "flags", "error"}

// New returns the console over d, with its templates parsed.
func New(d *shim.Dispatcher, opts ...Option) (*Console, error) {
	c := &Console{d: d, log: slog.Default(), sessions: newMemSessions(), pages: map[string]*template.Template{}, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		c.pages[name] = t
	}
	return c, nil
}

// Register mounts the console on mux under /console/.
func (c *Console) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static") // the directory is embedded
	cop := http.NewCrossOriginProtection()
	mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusSeeOther))
	mux.Handle("GET /console/static/", headers(http.StripPrefix("/console/static/", http.FileServerFS(static))))
	mux.Handle("GET /console/login", headers(http.HandlerFunc(c.loginPage)))
	mux.Handle("POST /console/login", headers(cop.Handler(http.HandlerFunc(c.login))))
	mux.Handle("POST /console/logout", headers(cop.Handler(c.auth(c.logout))))
	mux.Handle("GET /console/{$}", headers(c.auth(c.overview)))
	mux.Handle("GET /console/executions", headers(c.auth(c.executions)))
	mux.Handle("GET /console/executions/{id}", headers(c.auth(c.execution)))
	mux.Handle("GET /console/flags", headers(c.auth(c.flagsPage)))
	mux.Handle("/console/", headers(c.auth(c.notFound)))
}

// headers adds the console's security headers: no scripts, styles and
// forms from this origin only, no framing, no caching, no referrer.
func headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// sessionKey is the context key of the request's session.
type sessionKey struct{}

// pageHandler serves a page for the session's browser.
type pageHandler func(w http.ResponseWriter, r *http.Request, s session)

// auth serves h for a live session, and sends anyone else to the login
// page. Without tokens every request is served, with an empty session.
func (c *Console) auth(h pageHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.tokens.Open() {
			h(w, r, session{})
			return
		}
		ck, err := r.Cookie(cookieName)
		if err != nil {
			http.Redirect(w, r, "/console/login", http.StatusSeeOther)
			return
		}
		s, ok, err := c.session(r.Context(), ck.Value)
		switch {
		case err != nil:
			c.unavailable(w, r, err)
		case !ok:
			http.Redirect(w, r, "/console/login", http.StatusSeeOther)
		default:
			h(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, ck.Value)), s)
		}
	})
}

// page is what every template receives.
type page struct {
	Title   string
	Nav     string // the current section: overview, executions, flags
	CSRF    string // the session's CSRF token; "" without a session
	Open    bool   // no tokens: the console is open
	Refresh int    // seconds between automatic reloads; 0 for none
	Data    any
}

// render writes the named page with status code.
func (c *Console) render(w http.ResponseWriter, r *http.Request, code int, name string, p page) {
	p.Open = c.tokens.Open()
	var buf bytes.Buffer
	if err := c.pages[name].Execute(&buf, p); err != nil {
		c.log.ErrorContext(r.Context(), "console: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
}

// fail renders err as an error page with the status its kind calls for.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s session, err error) {
	code, msg := http.StatusInternalServerError, "internal error"
	var de *shim.Error
	switch {
	case errors.Is(err, shim.ErrNotFound):
		code, msg = http.StatusNotFound, "No such execution."
	case errors.Is(err, shim.ErrInvalidInput) && errors.As(err, &de):
		code, msg = http.StatusUnprocessableEntity, de.Msg
	case errors.Is(err, shim.ErrUnavailable), errors.Is(err, shim.ErrStoreUnavailable):
		code, msg = http.StatusServiceUnavailable, "A backend or the execution store is unavailable; reload in a moment."
	}
	if code >= 500 {
		c.log.ErrorContext(r.Context(), "console: page failed", "path", r.URL.Path, "err", err)
	}
	c.render(w, r, code, "error", page{Title: http.StatusText(code), CSRF: s.csrf, Data: msg})
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request, s session) {
	c.render(w, r, http.StatusNotFound, "error", page{Title: "Not found", CSRF: s.csrf, Data: "No such page."})
}
