package connector

import (
	"net/url"
	"testing"
)

func TestRedact(t *testing.T) {
	tricky := "p@ss w/rd:%1"
	tests := []struct {
		name string
		s    Settings
		text string
		want string
	}{
		{"password as given", Settings{Password: secret}, "auth " + secret + " failed", "auth xxxxx failed"},
		{"password query-escaped", Settings{Password: tricky}, "pw=" + url.QueryEscape(tricky), "pw=xxxxx"},
		{"password path-escaped", Settings{Password: tricky}, "at " + url.PathEscape(tricky), "at xxxxx"},
		{"password in built URL", Settings{Password: tricky}, url.UserPassword("u", tricky).String() + "@h",
			"u:xxxxx@h"},
		{"foreign URL userinfo", Settings{}, "dial amqp://guest:guest@h:5672/ failed", "dial amqp://guest:xxxxx@h:5672/ failed"},
		{"URL password in text", Settings{URL: (&url.URL{Scheme: "redis", User: url.UserPassword("", tricky), Host: "h"}).String()}, "bad " + tricky, "bad xxxxx"},
		{"unparseable URL", Settings{URL: "postgres://u:" + secret + "@x@h:bad/d"},
			`parse "postgres://u:` + secret + `@x@h:bad/d"`, `parse "postgres://u:xxxxx@h:bad/d"`},
		{"no secrets", Settings{}, "connection refused", "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newRedactor(tt.s).redact(tt.text); got != tt.want {
				t.Errorf("redact(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}
