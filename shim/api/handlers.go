package api

import (
	"net/http"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/internal/httpjson"
	"github.com/unstract/hatchet-worker/shim"
)

// ExecuteResponse is the 202 (or, for a repeated idempotency key, 200) body.
type ExecuteResponse struct {
	ExecutionID string              `json:"execution_id"`
	Backend     featureflag.Backend `json:"backend"`
	Status      string              `json:"status"`
	Reason      featureflag.Reason  `json:"reason"`
	// Replayed is true when an earlier request with the same idempotency
	// key already created this execution.
	Replayed bool `json:"replayed,omitempty"`
	// OverrideIgnored is true when the request's use_abstraction was not
	// honoured (request overrides are off, or a rule above them decided).
	OverrideIgnored bool `json:"override_ignored,omitempty"`
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request) error {
	req, err := DecodeExecute(http.MaxBytesReader(w, r.Body, s.maxBody), s.maxBody)
	if err != nil {
		return err
	}
	a, err := s.d.Execute(r.Context(), req)
	if err != nil {
		return err
	}
	status := http.StatusAccepted
	if a.Replayed {
		status = http.StatusOK
	}
	httpjson.Write(w, status, ExecuteResponse{ExecutionID: a.ID, Backend: a.Backend, Status: shim.StateQueued, Reason: a.Reason,
		Replayed: a.Replayed, OverrideIgnored: a.OverrideIgnored})
	return nil
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) error {
	st, err := s.d.Status(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, st)
	return nil
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) error {
	e, err := s.d.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusAccepted, map[string]string{"execution_id": e.ID, "backend": string(e.Backend), "status": "cancelling"})
	return nil
}

func (s *Server) listWorkflows(w http.ResponseWriter, _ *http.Request) error {
	httpjson.Write(w, http.StatusOK, map[string]any{"workflows": s.d.Workflows()})
	return nil
}

func (s *Server) showFlags(w http.ResponseWriter, _ *http.Request) error {
	httpjson.Write(w, http.StatusOK, s.flagsNow())
	return nil
}
