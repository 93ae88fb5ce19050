package console

import "net/http"

// loginPage shows the login form; a logged-in browser goes to the overview.
func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(cookieName); c.tokens.Open() || err == nil && c.hasSession(ck.Value) {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "login", page{Title: "Log in"})
}

func (c *Console) hasSession(id string) bool {
	_, ok := c.sessions.get(id, c.now())
	return ok
}

// login checks the posted token and starts a session.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if c.tokens.Open() {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if !c.tokens.Valid(r.PostFormValue("token")) {
		c.log.InfoContext(r.Context(), "console: login refused", "remote", r.RemoteAddr)
		c.render(w, r, http.StatusUnauthorized, "login", page{Title: "Log in", Data: "That token is not accepted."})
		return
	}
	id, s := c.sessions.create(c.now())
	http.SetCookie(w, sessionCookie(r, id, s.expires))
	c.log.InfoContext(r.Context(), "console: login", "remote", r.RemoteAddr)
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

// logout ends the session when the form carries its CSRF token.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, s session) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if !c.tokens.Open() && !sameSecret(r.PostFormValue("csrf"), s.csrf) {
		c.render(w, r, http.StatusForbidden, "error", page{Title: "Forbidden", CSRF: s.csrf, Data: "The form expired; reload the page and log out again."})
		return
	}
	if id, ok := r.Context().Value(sessionKey{}).(string); ok {
		c.sessions.end(id)
	}
	http.SetCookie(w, sessionCookie(r, "", c.now()))
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}
