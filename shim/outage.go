package shim

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Bounds on retrying the store while its database restarts.
const (
	// refRetryFor is how long a submitted execution's backend reference is
	// retried before the request gives up: a Postgres restart takes seconds.
	refRetryFor = 30 * time.Second
	// refRetryMax caps the wait between two attempts.
	refRetryMax = 2 * time.Second
)

// recordRef stores ref for e once the backend has accepted the work. The
// work exists now, so a store outage is retried for up to refRetryFor
// rather than answered at once: a client retry would otherwise submit the
// same work a second time. When the store stays away the answer is a 503
// and the claim keeps no reference (a retry after claimGrace submits again).
func (s *Server) recordRef(ctx context.Context, e Execution, ref string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refRetryFor)
	defer cancel()
	wait := 100 * time.Millisecond
	for {
		err := s.store.SetRef(ctx, e.ID, ref)
		if err == nil || !errors.Is(err, ErrStoreUnavailable) {
			return err
		}
		s.log.Warn("execution store unavailable, retrying", "execution_id", e.ID, "backend_ref", ref, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s accepted execution %s as %s but it could not be recorded: %w", e.Backend, e.ID, ref, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, refRetryMax)
	}
}

// noteUnknown records, once per execution, that its backend cannot show it
// any more: it counts it in shim_executions_unknown_total and logs why.
func (s *Server) noteUnknown(ctx context.Context, e Execution, st Status) {
	first, err := s.store.MarkUnknown(ctx, e.ID)
	if err != nil {
		s.log.Warn("record unknown execution", "execution_id", e.ID, "err", err)
		return
	}
	if !first {
		return
	}
	reason := ""
	if st.Error != nil {
		reason = st.Error.Type
	}
	s.metrics.unknown.WithLabelValues(e.Workflow, e.Backend, reason).Inc()
	s.log.Error("execution unknown to its backend", "execution_id", e.ID, "workflow", e.Workflow,
		"backend", e.Backend, "backend_ref", e.BackendRef, "reason", reason, "created_at", e.CreatedAt)
}
