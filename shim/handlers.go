package shim

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// ExecuteResponse is the 202 (or, for a repeated idempotency key, 200) body.
type ExecuteResponse struct {
	ExecutionID string `json:"execution_id"`
	Backend     string `json:"backend"`
	Status      string `json:"status"`
	Reason      string `json:"reason"`
	// Replayed is true when an earlier request with the same idempotency
	// key already created this execution.
	Replayed bool `json:"replayed,omitempty"`
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request) error {
	req, err := DecodeExecute(http.MaxBytesReader(w, r.Body, s.maxBody), s.maxBody)
	if err != nil {
		s.reject(err)
		return err
	}
	route, ok := s.catalog[req.Workflow]
	if !ok {
		err := apiError(http.StatusNotFound, CodeUnknownWorkflow, "unknown workflow "+quote(req.Workflow)+"; GET /api/v2/workflows lists them")
		s.reject(err)
		return err
	}
	if err := check(route, req); err != nil {
		s.reject(err)
		return err
	}
	d := s.route(route, req)
	s.metrics.decisions.WithLabelValues(route.Name, d.Backend, d.Reason).Inc()
	e, fresh, err := s.store.Claim(r.Context(), Execution{
		ID: newID(), Workflow: route.Name, OrganizationID: req.OrganizationID,
		IdempotencyKey: req.IdempotencyKey, Backend: d.Backend, Reason: d.Reason,
	})
	if err != nil {
		s.reject(err)
		return err
	}
	if !fresh && e.BackendRef != "" {
		s.log.Info("idempotent replay", "execution_id", e.ID, "workflow", e.Workflow, "idempotency_key", e.IdempotencyKey)
		writeJSON(w, http.StatusOK, ExecuteResponse{ExecutionID: e.ID, Backend: e.Backend, Status: StateQueued, Reason: e.Reason, Replayed: true})
		return nil
	}
	if !fresh && time.Since(e.CreatedAt) < claimGrace {
		return apiError(http.StatusConflict, CodeInProgress, "an execution with this idempotency key is being submitted; retry shortly")
	}
	e, err = s.submit(r.Context(), e, route, req)
	if err != nil {
		s.reject(err)
		return err
	}
	s.metrics.accepted.WithLabelValues(route.Name, e.Backend).Inc()
	s.log.Info("execution accepted", "execution_id", e.ID, "workflow", e.Workflow, "organization_id", e.OrganizationID,
		"backend", e.Backend, "reason", e.Reason, "backend_ref", e.BackendRef)
	writeJSON(w, http.StatusAccepted, ExecuteResponse{ExecutionID: e.ID, Backend: e.Backend, Status: StateQueued, Reason: e.Reason})
	return nil
}

// check runs the route's input check, refusing with a 422.
func check(route Route, req ExecuteRequest) error {
	if route.Check == nil {
		return nil
	}
	if err := route.Check(req.Input); err != nil {
		return apiError(http.StatusUnprocessableEntity, CodeInvalid, err.Error())
	}
	return nil
}

// claimGrace is how long an unsubmitted claim belongs to the request that
// made it; after that a retry with the same key submits it again.
const claimGrace = 30 * time.Second

// route decides the backend; workflows without a legacy task always go to
// Hatchet.
func (s *Server) route(route Route, req ExecuteRequest) Decision {
	if route.Legacy == nil {
		return Decision{Backend: BackendHatchet, Reason: "hatchet-only"}
	}
	key := req.IdempotencyKey
	return s.decide(route.Name, req.OrganizationID, key, req.UseAbstraction)
}

// submit hands e to its backend, falling back to the other one when allowed.
// When no backend accepts, the claim is removed and the error is a 503.
func (s *Server) submit(ctx context.Context, e Execution, route Route, req ExecuteRequest) (Execution, error) {
	ref, err := s.trySubmit(ctx, e, route, req)
	if err != nil && s.fallback && route.Legacy != nil && errors.Is(err, ErrUnavailable) {
		other := otherBackend(e.Backend)
		s.log.Warn("backend unavailable, falling back", "execution_id", e.ID, "from", e.Backend, "to", other, "err", err)
		e.Backend, e.Reason = other, "fallback:"+e.Reason
		if rerr := s.store.Reroute(ctx, e.ID, e.Backend, e.Reason); rerr != nil {
			return e, rerr
		}
		ref, err = s.trySubmit(ctx, e, route, req)
	}
	if err != nil {
		if ferr := s.store.Forget(context.WithoutCancel(ctx), e.ID); ferr != nil {
			s.log.Error("forget unaccepted execution", "execution_id", e.ID, "err", ferr)
		}
		if errors.Is(err, ErrUnavailable) {
			s.log.Error("backend unavailable", "execution_id", e.ID, "backend", e.Backend, "err", err)
			msg := e.Backend + " backend is unavailable; the request was not accepted, retry later"
			if errors.Is(err, celerybridge.ErrUnroutable) {
				msg += " (the broker has no queue for this task: are the legacy Celery workers running?)"
			}
			return e, apiError(http.StatusServiceUnavailable, CodeUnavailable, msg)
		}
		return e, err
	}
	e.BackendRef = ref
	return e, s.recordRef(ctx, e, ref)
}

func (s *Server) trySubmit(ctx context.Context, e Execution, route Route, req ExecuteRequest) (string, error) {
	b, err := s.backendFor(e.Backend)
	if err != nil {
		return "", errors.Join(ErrUnavailable, err)
	}
	return b.Submit(ctx, e, route, req.Input)
}

func otherBackend(name string) string {
	if name == BackendHatchet {
		return BackendCelery
	}
	return BackendHatchet
}

func (s *Server) reject(err error) {
	s.metrics.rejected.WithLabelValues(errorOf(err).Code).Inc()
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) error {
	e, b, err := s.lookup(r)
	if err != nil {
		return err
	}
	st, err := b.Status(r.Context(), e)
	if errors.Is(err, ErrUnavailable) {
		return apiError(http.StatusServiceUnavailable, CodeUnavailable, e.Backend+" backend is unavailable: cannot read the execution now")
	}
	if err != nil {
		return err
	}
	if st.State == StateUnknown {
		s.noteUnknown(r.Context(), e, st)
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) error {
	e, b, err := s.lookup(r)
	if err != nil {
		return err
	}
	err = b.Cancel(r.Context(), e)
	switch {
	case errors.Is(err, ErrNotCancellable):
		return apiError(http.StatusConflict, CodeNotCancellable, "the "+e.Backend+" backend cannot cancel this execution: "+err.Error())
	case errors.Is(err, ErrUnavailable):
		return apiError(http.StatusServiceUnavailable, CodeUnavailable, e.Backend+" backend is unavailable")
	case err != nil:
		return err
	}
	s.log.Info("execution cancel requested", "execution_id", e.ID, "backend", e.Backend)
	writeJSON(w, http.StatusAccepted, map[string]string{"execution_id": e.ID, "backend": e.Backend, "status": "cancelling"})
	return nil
}

func (s *Server) lookup(r *http.Request) (Execution, Backend, error) {
	e, err := s.store.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, ErrNotFound) {
		return Execution{}, nil, apiError(http.StatusNotFound, CodeNotFound, "no execution "+quote(r.PathValue("id")))
	}
	if err != nil {
		return Execution{}, nil, err
	}
	b, err := s.backendFor(e.Backend)
	return e, b, err
}

// WorkflowInfo is one entry of GET /api/v2/workflows.
type WorkflowInfo struct {
	Route
	// RoutesTo is where a request without organisation or override goes now.
	RoutesTo Decision `json:"routes_to"`
}

func (s *Server) listWorkflows(w http.ResponseWriter, _ *http.Request) error {
	out := make([]WorkflowInfo, 0, len(s.catalog))
	for _, route := range s.catalog {
		out = append(out, WorkflowInfo{Route: route, RoutesTo: s.route(route, ExecuteRequest{})})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	writeJSON(w, http.StatusOK, map[string]any{"workflows": out})
	return nil
}

func (s *Server) showFlags(w http.ResponseWriter, _ *http.Request) error {
	var flags any = map[string]string{"source": "none"}
	if s.flags != nil {
		flags = s.flags()
	}
	writeJSON(w, http.StatusOK, flags)
	return nil
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return `"` + s + `"`
}
