// Package httpjson writes JSON HTTP responses, the one way the service's
// endpoints answer.
package httpjson

import (
	"encoding/json"
	"log/slog"
	"net/http"
)

// Write sends v as a JSON body with status. An encoding failure after the
// header is sent can only be logged.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write JSON response", "status", status, "err", err)
	}
}
