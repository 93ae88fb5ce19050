package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
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

// Login limits: a client address whose logins were refused loginLimit
// times within loginWindow is refused, 429, until the oldest ages out.
const (
	loginLimit  = 10
	loginWindow = time.Minute
)

// session is one logged-in browser.
type session struct {
	csrf    string
	expires time.Time
}

// Sessions keeps the console's sessions, by the SHA-256 of their id, and
// its refused logins. Replicas that share one (*store.Postgres) honour each
// other's logins, logouts and login limits; the default keeps them in
// memory, for one process.
type Sessions interface {
	// CreateSession stores a session.
	CreateSession(ctx context.Context, idHash []byte, csrf string, expires time.Time) error
	// Session returns the session's CSRF token and expiry, false when it is
	// not live at now.
	Session(ctx context.Context, idHash []byte, now time.Time) (csrf string, expires time.Time, ok bool, err error)
	// EndSession deletes a session.
	EndSession(ctx context.Context, idHash []byte) error
	// RefuseLogin records a login from addr refused at; it may forget
	// refusals older than keep.
	RefuseLogin(ctx context.Context, addr string, at time.Time, keep time.Duration) error
	// LoginsRefused counts the logins from addr refused since, and gives
	// the oldest.
	LoginsRefused(ctx context.Context, addr string, since time.Time) (n int, oldest time.Time, err error)
}

// WithSessions keeps the console's sessions and login refusals in ss,
// which every replica shares (default: this process's memory).
func WithSessions(ss Sessions) Option { return func(c *Console) { c.sessions = ss } }

// hashID is the key a session is kept under.
func hashID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// newSession starts a session and returns its id.
func (c *Console) newSession(ctx context.Context) (string, session, error) {
	id := randomID()
	s := session{csrf: randomID(), expires: c.now().Add(sessionTTL)}
	if err := c.sessions.CreateSession(ctx, hashID(id), s.csrf, s.expires); err != nil {
		return "", session{}, err
	}
	return id, s, nil
}

// session returns the live session with id.
func (c *Console) session(ctx context.Context, id string) (session, bool, error) {
	csrf, expires, ok, err := c.sessions.Session(ctx, hashID(id), c.now())
	return session{csrf: csrf, expires: expires}, ok, err
}

// memSessions keeps sessions and refusals in memory.
type memSessions struct {
	mu      sync.Mutex // guards the maps
	byHash  map[string]session
	refused map[string][]time.Time
}

func newMemSessions() *memSessions {
	return &memSessions{byHash: map[string]session{}, refused: map[string][]time.Time{}}
}

// CreateSession stores a session; expired ones are dropped.
func (m *memSessions) CreateSession(_ context.Context, idHash []byte, csrf string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for k, x := range m.byHash {
		if now.After(x.expires) {
			delete(m.byHash, k)
		}
	}
	m.byHash[string(idHash)] = session{csrf: csrf, expires: expires}
	return nil
}

// Session returns the live session.
func (m *memSessions) Session(_ context.Context, idHash []byte, now time.Time) (string, time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	x, ok := m.byHash[string(idHash)]
	if !ok || now.After(x.expires) {
		return "", time.Time{}, false, nil
	}
	return x.csrf, x.expires, true, nil
}

// EndSession deletes a session.
func (m *memSessions) EndSession(_ context.Context, idHash []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byHash, string(idHash))
	return nil
}

// RefuseLogin records a refusal and forgets addr's older than keep.
func (m *memSessions) RefuseLogin(_ context.Context, addr string, at time.Time, keep time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refused[addr] = append(since(m.refused[addr], at.Add(-keep)), at)
	return nil
}

// LoginsRefused counts addr's refusals since.
func (m *memSessions) LoginsRefused(_ context.Context, addr string, from time.Time) (int, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := since(m.refused[addr], from)
	if len(ts) == 0 {
		return 0, time.Time{}, nil
	}
	return len(ts), ts[0], nil
}

// since returns the times of ts (in order) at or after from.
func since(ts []time.Time, from time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(from) {
		i++
	}
	return ts[i:]
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
