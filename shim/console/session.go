package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// cookieName is the session cookie.
const cookieName = "hw_console_session"

// sessionTTL is how long a session lasts after login.
const sessionTTL = 12 * time.Hour

// session is one logged-in browser.
type session struct {
	csrf    string
	expires time.Time
}

// sessions are the live sessions by id.
type sessions struct {
	mu   sync.Mutex // guards byID
	byID map[string]session
}

func newSessions() *sessions { return &sessions{byID: map[string]session{}} }

// create starts a session and returns its id; expired ones are dropped.
func (s *sessions) create(now time.Time) (string, session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, x := range s.byID {
		if now.After(x.expires) {
			delete(s.byID, id)
		}
	}
	id := randomID()
	x := session{csrf: randomID(), expires: now.Add(sessionTTL)}
	s.byID[id] = x
	return id, x
}

// get returns the live session with id.
func (s *sessions) get(id string, now time.Time) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.byID[id]
	if !ok || now.After(x.expires) {
		return session{}, false
	}
	return x, true
}

// end deletes the session with id.
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

// randomID returns 32 random bytes, URL-safe.
func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionCookie sets (value non-empty) or clears the session cookie.
func sessionCookie(r *http.Request, value string, expires time.Time) *http.Cookie {
	c := &http.Cookie{Name: cookieName, Value: value, Path: "/console", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
	}
	return c
}

// sameSecret compares two secrets in constant time.
func sameSecret(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
