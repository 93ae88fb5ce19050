package testenv

import (
	"context"
	"net/http"
)

// platformKey carries the request being served from the stand-in's gate to
// its views.
type platformKey struct{}

func contextWith(r *http.Request, q *platformRequest) context.Context {
	return context.WithValue(r.Context(), platformKey{}, q)
}

// statusRecorder records the status of answers the mux writes itself (404,
// 405) in the call.
type statusRecorder struct {
	http.ResponseWriter
	p *PlatformAPI
	q *platformRequest
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.q.call.Status == 0 {
		s.p.mu.Lock()
		s.q.call.Status = code
		s.p.mu.Unlock()
	}
	s.ResponseWriter.WriteHeader(code)
}
