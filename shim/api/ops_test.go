package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unstract/hatchet-worker/internal/ops"

	"github.com/unstract/hatchet-worker/shim/api/apitest"
)

func TestRegisterOps(t *testing.T) {
	st := ops.New()
	mux := http.NewServeMux()
	RegisterOps(mux, st)
	srv := httptest.NewServer(apitest.MustNew(t, Document()).Handler(t, mux))
	defer srv.Close()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_things_total", Help: "things"})
	st.Registry.MustRegister(c)
	c.Add(3)

	tests := []struct {
		name   string
		setup  func()
		path   string
		status int
		want   string
	}{
		{"healthz always", func() {}, "/healthz", 200, `"ok"`},
		{"not ready without checks", func() {}, "/readyz", 503, `"starting"`},
		{"ready when all pass", func() { st.AddCheck("worker", func(context.Context) error { return nil }) },
			"/readyz", 200, `"ready":true`},
		{"one failing check", func() { st.AddCheck("engine", func(context.Context) error { return errors.New("engine down") }) },
			"/readyz", 503, `"engine":"engine down"`},
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
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.want) {
				t.Errorf("%s = %d %s, want %d containing %s", tt.path, resp.StatusCode, body[:min(200, len(body))], tt.status, tt.want)
			}
			if strings.HasSuffix(tt.path, "z") && !json.Valid(body) {
				t.Errorf("%s is not JSON", tt.path)
			}
		})
	}
}
