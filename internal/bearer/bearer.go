// Package bearer holds the shim's API tokens (SHIM_API_TOKEN, several
// during a rotation) and checks a presented one against them in constant
// time, for the API's Authorization header and the console's login alike.
package bearer

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// Tokens are the accepted tokens; none means no token is required.
type Tokens struct{ accepted [][]byte }

// New returns the accepted tokens, ignoring empty ones.
func New(tokens ...string) Tokens {
	var t Tokens
	for _, s := range tokens {
		if s != "" {
			t.accepted = append(t.accepted, []byte(s))
		}
	}
	return t
}

// Open reports whether no token is accepted, so none is required.
func (t Tokens) Open() bool { return len(t.accepted) == 0 }

// Valid reports whether token is one of the accepted, comparing with every
// one without stopping at a match. With none accepted, nothing is valid.
func (t Tokens) Valid(token string) bool {
	match := 0
	for _, a := range t.accepted {
		match |= subtle.ConstantTimeCompare([]byte(token), a)
	}
	return match == 1
}

// Authorized reports whether r carries "Authorization: Bearer <token>"
// with a valid token, or no token is required.
func (t Tokens) Authorized(r *http.Request) bool {
	if t.Open() {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return t.Valid(got) && ok
}
