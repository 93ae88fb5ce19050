package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/internal/httpjson"
	"github.com/unstract/hatchet-worker/shim"
)

// listExecutions is GET /api/v2/workflows/executions.
func (s *Server) listExecutions(w http.ResponseWriter, r *http.Request) error {
	q, err := ParseListQuery(r.URL.Query())
	if err != nil {
		return err
	}
	p, err := s.d.Executions(r.Context(), q)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, p)
	return nil
}

// SummaryResponse is GET /api/v2/migration/summary: the summary and the
// flags in force, with their last reload error.
type SummaryResponse struct {
	shim.Summary
	Flags FlagsResponse `json:"flags"`
}

// FlagsResponse is GET /api/v2/flags: the backend TASK_QUEUE_BACKEND names
// and the flags in force; empty when the server shows none (WithFlags).
type FlagsResponse struct {
	TaskQueueBackend featureflag.Backend   `json:"task_queue_backend,omitempty"`
	Flags            *featureflag.Snapshot `json:"flags,omitempty"`
}

// summary is GET /api/v2/migration/summary.
func (s *Server) summary(w http.ResponseWriter, r *http.Request) error {
	window, err := ParseWindow(r.URL.Query().Get("window"))
	if err != nil {
		return err
	}
	sum, err := s.d.Summary(r.Context(), window)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, SummaryResponse{Summary: sum, Flags: s.flagsNow()})
	return nil
}

// flagsNow is the flags view GET /api/v2/flags shows.
func (s *Server) flagsNow() FlagsResponse {
	if s.flags == nil {
		return FlagsResponse{}
	}
	snap := s.flags.Snapshot()
	return FlagsResponse{TaskQueueBackend: s.pinned, Flags: &snap}
}

// DefaultWindow is the summary's window when none is given.
const DefaultWindow = 24 * time.Hour

// ParseWindow reads a summary window: a Go duration ("90m", "24h") or a
// number of days ("7d"); empty is DefaultWindow.
func ParseWindow(s string) (time.Duration, error) {
	if s == "" {
		return DefaultWindow, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, shim.Fail(shim.ErrInvalidInput, err, "window %s: want a positive duration such as 24h or 7d", shim.Quote(s))
	}
	return d, nil
}

// ParseListQuery reads the executions list's query parameters: workflow,
// backend, status, organization_id, since (RFC 3339, or a window before
// now such as 1h), limit and cursor.
func ParseListQuery(v url.Values) (shim.ListQuery, error) {
	q := shim.ListQuery{Workflow: v.Get("workflow"), Backend: featureflag.Backend(v.Get("backend")), Status: v.Get("status"),
		OrganizationID: v.Get("organization_id")}
	if s := v.Get("since"); s != "" {
		t, err := parseSince(s)
		if err != nil {
			return q, err
		}
		q.Since = t
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, shim.Fail(shim.ErrInvalidInput, err, "limit %s: want 1 to %d", shim.Quote(s), shim.MaxListLimit)
		}
		q.Limit = n
	}
	if s := v.Get("cursor"); s != "" {
		c, err := shim.ParseCursor(s)
		if err != nil {
			return q, err
		}
		q.After = &c
	}
	return q, nil
}

// parseSince reads an RFC 3339 time or a window before now.
func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := ParseWindow(s)
	if err != nil {
		return time.Time{}, shim.Fail(shim.ErrInvalidInput, err, "since %s: want an RFC 3339 time or a duration such as 24h", shim.Quote(s))
	}
	return time.Now().Add(-d), nil
}
