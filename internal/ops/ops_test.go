package ops

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestEndpoints(t *testing.T) {
	s := New()
	mux := http.NewServeMux()
	s.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_things_total", Help: "things"})
	s.Registry.MustRegister(c)
	c.Add(3)

	var engineErr error
	tests := []struct {
		name   string
		setup  func()
		path   string
		status int
		want   string
	}{
		{"healthz always", func() {}, "/healthz", 200, `"ok"`},
		{"not ready without checks", func() {}, "/readyz", 503, `"starting"`},
		{"ready when all pass", func() {
			s.AddCheck("engine", func(context.Context) error { return engineErr })
			s.AddCheck("worker", func(context.Context) error { return nil })
		}, "/readyz", 200, `"ready":true`},
		{"one failing check", func() { engineErr = errors.New("engine down") }, "/readyz", 503, `"engine":"engine down"`},
		{"removed check no longer counts", func() { s.RemoveCheck("engine") }, "/readyz", 200, `"worker":"ok"`},
		{"metrics in prometheus text", func() {}, "/metrics", 200, "test_things_total 3"},
		{"process metrics", func() {}, "/metrics", 200, "go_goroutines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup()
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b strings.Builder
			buf := make([]byte, 1<<16)
			for {
				n, err := resp.Body.Read(buf)
				b.Write(buf[:n])
				if err != nil {
					break
				}
			}
			if resp.StatusCode != tt.status || !strings.Contains(b.String(), tt.want) {
				t.Errorf("%s = %d %s, want %d containing %s", tt.path, resp.StatusCode, b.String()[:min(200, b.Len())], tt.status, tt.want)
			}
			if strings.HasSuffix(tt.path, "z") && !json.Valid([]byte(b.String())) {
				t.Errorf("%s is not JSON", tt.path)
			}
		})
	}
}
