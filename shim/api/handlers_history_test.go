package api

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/shim"
)

func TestParseListQuery(t *testing.T) {
	cur := shim.Cursor{CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), ID: "6c1f3e8a-8d1b-4b43-9c66-2f0b8f7f2b11"}
	tests := []struct {
		query   string
		check   func(shim.ListQuery) bool
		wantErr bool
	}{
		{"", func(q shim.ListQuery) bool { return q == shim.ListQuery{} }, false},
		{"workflow=w&backend=celery&status=failed&organization_id=o&limit=7",
			func(q shim.ListQuery) bool {
				return q.Workflow == "w" && q.Backend == "celery" && q.Status == "failed" && q.OrganizationID == "o" && q.Limit == 7
			}, false},
		{"since=2026-01-02T03:04:05Z", func(q shim.ListQuery) bool { return q.Since.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) }, false},
		{"since=1h", func(q shim.ListQuery) bool {
			return time.Since(q.Since) > 59*time.Minute && time.Since(q.Since) < 61*time.Minute
		}, false},
		{"cursor=" + cur.String(), func(q shim.ListQuery) bool { return q.After != nil && *q.After == cur }, false},
		{"since=yesterday", nil, true},
		{"limit=0", nil, true},
		{"limit=many", nil, true},
		{"cursor=bm90LWEtY3Vyc29y", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			v, _ := url.ParseQuery(tt.query)
			q, err := ParseListQuery(v)
			if tt.wantErr {
				if !errors.Is(err, shim.ErrInvalidInput) {
					t.Errorf("err = %v, want shim.ErrInvalidInput", err)
				}
				return
			}
			if err != nil || !tt.check(q) {
				t.Errorf("ParseListQuery = %+v, %v", q, err)
			}
		})
	}
}

func TestParseWindow(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"", DefaultWindow, false},
		{"90m", 90 * time.Minute, false},
		{"7d", 7 * 24 * time.Hour, false},
		{"0s", 0, true},
		{"-1h", 0, true},
		{"week", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseWindow(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseWindow(%q) = %v, %v", tt.in, got, err)
		}
	}
}
