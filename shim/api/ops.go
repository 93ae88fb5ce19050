package api

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/unstract/hatchet-worker/internal/httpjson"
	"github.com/unstract/hatchet-worker/internal/ops"
)

// readyTimeout bounds one /readyz answer.
const readyTimeout = 5 * time.Second

// RegisterOps adds the operations endpoints over st to mux, with no token:
// /healthz (200 while the process serves), /readyz (200 when every check
// passes, else 503, listing each) and /metrics (Prometheus text).
func RegisterOps(mux *http.ServeMux, st *ops.State) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		rd := st.Ready(ctx)
		status := http.StatusOK
		if !rd.Ready {
			status = http.StatusServiceUnavailable
		}
		httpjson.Write(w, status, rd)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(st.Registry, promhttp.HandlerOpts{Registry: st.Registry}))
}
