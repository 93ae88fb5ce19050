package connector

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// mask replaces every secret in text that leaves the package.
const mask = "xxxxx"

// userinfoPattern matches the "user:password@" part of any URL; the password
// runs to the last "@" before the path so that an unescaped "@" in it is
// covered too.
var userinfoPattern = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*):[^/\s]*@`)

// redactor masks the secrets of one Settings value in arbitrary text.
type redactor struct {
	secrets []string // longest first, so no fragment of a longer one survives
}

// newRedactor collects the password of s in every form a driver may print:
// as given, URL-escaped and, when s has a URL, as written in it.
func newRedactor(s Settings) redactor {
	var r redactor
	r.add(s.Password)
	r.add(rawURLPassword(s.URL))
	if u, err := url.Parse(s.URL); err == nil {
		p, _ := u.User.Password()
		r.add(p)
	}
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	return r
}

// add records secret and its escaped forms.
func (r *redactor) add(secret string) {
	if secret == "" {
		return
	}
	userinfo := strings.TrimPrefix(url.UserPassword("", secret).String(), ":")
	r.secrets = append(r.secrets, secret, url.QueryEscape(secret), url.PathEscape(secret), userinfo)
	if plain, err := url.PathUnescape(secret); err == nil && plain != "" {
		r.secrets = append(r.secrets, plain)
	}
}

// redact returns text with every secret and URL password masked.
func (r redactor) redact(text string) string {
	for _, s := range r.secrets {
		text = strings.ReplaceAll(text, s, mask)
	}
	return userinfoPattern.ReplaceAllString(text, "${1}:"+mask+"@")
}

// rawURLPassword finds the password in a URL's userinfo by plain string
// search, so that it is known even when the URL does not parse.
func rawURLPassword(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	_, password, _ := strings.Cut(rest[:at], ":")
	return password
}
