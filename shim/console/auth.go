package console

import (
	"context"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// loginPage shows the login form; a logged-in browser goes to the overview.
func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(cookieName); c.tokens.Open() || err == nil && c.hasSession(r.Context(), ck.Value) {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "login", page{Title: "Log in"})
}

// hasSession reports whether id is a live session; a store that cannot
// answer counts as none (the login page then shows).
func (c *Console) hasSession(ctx context.Context, id string) bool {
	_, ok, err := c.session(ctx, id)
	return ok && err == nil
}

// login checks the posted token and starts a session. An address whose
// logins were refused loginLimit times within loginWindow is refused with
// 429 and Retry-After, whatever it posts, on every replica.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if c.tokens.Open() {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return
	}
	ctx, addr, now := r.Context(), c.clientAddr(r), c.now()
	n, oldest, err := c.sessions.LoginsRefused(ctx, addr, now.Add(-loginWindow))
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	if n >= loginLimit {
		wait := oldest.Add(loginWindow).Sub(now).Seconds()
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(wait)))))
		c.log.WarnContext(ctx, "console: login refused, too many attempts", "remote", addr, "refused", n)
		c.render(w, r, http.StatusTooManyRequests, "login", page{Title: "Log in", Data: "Too many refused logins from this address; try again in a minute."})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if !c.tokens.Valid(r.PostFormValue("token")) {
		if err := c.sessions.RefuseLogin(ctx, addr, now, loginWindow); err != nil {
			c.unavailable(w, r, err)
			return
		}
		c.log.InfoContext(ctx, "console: login refused", "remote", addr)
		c.render(w, r, http.StatusUnauthorized, "login", page{Title: "Log in", Data: "That token is not accepted."})
		return
	}
	id, s, err := c.newSession(ctx)
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	http.SetCookie(w, sessionCookie(r, id, s.expires))
	c.log.InfoContext(ctx, "console: login", "remote", addr)
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

// logout ends the session, on every replica, when the form carries its
// CSRF token.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, s session) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if !c.tokens.Open() && !sameSecret(r.PostFormValue("csrf"), s.csrf) {
		c.render(w, r, http.StatusForbidden, "error", page{Title: "Forbidden", CSRF: s.csrf, Data: "The form expired; reload the page and log out again."})
		return
	}
	if id, ok := r.Context().Value(sessionKey{}).(string); ok {
		if err := c.sessions.EndSession(r.Context(), hashID(id)); err != nil {
			c.unavailable(w, r, err)
			return
		}
	}
	http.SetCookie(w, sessionCookie(r, "", c.now()))
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// unavailable answers 503 when the session store cannot be read or written.
func (c *Console) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	c.log.ErrorContext(r.Context(), "console: session store unavailable", "err", err)
	c.render(w, r, http.StatusServiceUnavailable, "error", page{Title: "Unavailable",
		Data: "The console's session store is unavailable; try again shortly."})
}

// clientAddr is the address logins are limited by: the connection's
// peer, or, when the peer is a trusted proxy (WithTrustedProxies), the
// address that proxy saw, the last of X-Forwarded-For.
func (c *Console) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !c.trusted(peer) {
		return host
	}
	forwarded := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	if last, err := netip.ParseAddr(strings.TrimSpace(forwarded[len(forwarded)-1])); err == nil {
		return last.String()
	}
	return host
}

// trusted reports whether ip is one of the trusted proxies.
func (c *Console) trusted(ip netip.Addr) bool {
	for _, p := range c.proxies {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}
