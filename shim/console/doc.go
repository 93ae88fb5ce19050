// Package console serves the migration console: read-only web pages under
// /console that show, for every workflow, where it routes now and why, and
// Hatchet next to Celery (volume, success rate, p50/p95, a chart over
// time); the executions with filters; one execution's timeline, result or
// error with its traceback; and the feature flags in force.
//
// It is server-rendered with html/template, its stylesheet is embedded in
// the binary, and it needs no JavaScript: lists refresh with a meta
// refresh and filters are plain GET forms. Operators log in with a shim
// token, which sets an HttpOnly, SameSite=Strict session cookie; the token
// never appears in a URL. The only POST forms (log in, log out) are refused
// cross-origin (http.CrossOriginProtection), and log out also carries the
// session's CSRF token. Sessions live in the process: a restart, or another
// replica, asks to log in again.
package console
