package hatchet

import (
	"context"
	"fmt"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"

	"github.com/unstract/hatchet-worker/internal/hatchetrun"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/route"
)

// followChunk is how many executions one runs-list request asks for: each
// adds an execution_id:<uuid> pair (about 50 bytes) to its URL.
const followChunk = 100

// listSkew widens the runs list's time window for clocks that disagree
// between the shim and the engine's database.
const listSkew = time.Minute

// Follow reads es through the engine's runs list, filtered by their
// execution_id metadata (one request per followChunk executions, without
// payloads), and matched by run id. A failed run is then read alone, for
// its error and to confirm it against the engine's records (see Status), as
// is a run the list does not show lostAfter after acceptance, to tell a
// lost run from a slow one. Executions of workflows that spawn runs are
// read alone too: their runs' children carry the same metadata and would
// crowd a list.
func (h *Backend) Follow(ctx context.Context, es []shim.Execution) ([]shim.Status, error) {
	var out []shim.Status
	var listed []shim.Execution
	for _, e := range es {
		if !h.spawning[e.Workflow] {
			listed = append(listed, e)
			continue
		}
		st, err := h.Status(ctx, e)
		if err != nil {
			return out, err
		}
		out = append(out, st)
	}
	for start := 0; start < len(listed); start += followChunk {
		sts, err := h.followChunk(ctx, listed[start:min(start+followChunk, len(listed))])
		if err != nil {
			return out, err
		}
		out = append(out, sts...)
	}
	return out, nil
}

// followChunk follows up to followChunk executions with one list request.
func (h *Backend) followChunk(ctx context.Context, es []shim.Execution) ([]shim.Status, error) {
	rows, err := h.listRuns(ctx, es)
	if err != nil {
		return nil, err
	}
	var out []shim.Status
	for _, e := range es {
		row, listed := rows[e.BackendRef]
		if listed && row.Status != rest.V1TaskStatusFAILED {
			out = append(out, fromSummary(e, row))
			continue
		}
		if listed || time.Since(e.CreatedAt) >= h.lostAfter {
			st, err := h.Status(ctx, e)
			if err != nil {
				return out, err
			}
			out = append(out, st)
		}
	}
	return out, nil
}

// listRuns lists the runs of es by their execution_id metadata, keyed by
// run id (a run the shim started is its execution's backend ref).
func (h *Backend) listRuns(ctx context.Context, es []shim.Execution) (map[string]rest.V1TaskSummary, error) {
	since := es[0].CreatedAt
	pairs := make([]string, len(es))
	for i, e := range es {
		pairs[i] = route.MetaExecution + ":" + e.ID
		since = minTime(since, e.CreatedAt)
	}
	or := rest.OR
	limit := int64(2 * len(es))
	list, err := h.client.Runs().List(ctx, rest.V1WorkflowRunListParams{
		Since: since.Add(-listSkew), AdditionalMetadata: &pairs, AdditionalMetadataOperator: &or,
		Limit: &limit, IncludePayloads: new(false),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: list hatchet runs of %d executions: %w", shim.ErrUnavailable, len(es), err)
	}
	rows := make(map[string]rest.V1TaskSummary, len(list.Rows))
	for _, r := range list.Rows { // a DAG's row has its run's id; a lone task's, its own, which is its run's too
		rows[r.Metadata.Id] = r
		rows[r.WorkflowRunExternalId.String()] = r
	}
	return rows, nil
}

// FindRef returns the id of the run the shim started for e, found by its
// execution_id metadata, or "" when the engine lists none. Runs spawned by
// it carry the same metadata and were created after it.
func (h *Backend) FindRef(ctx context.Context, e shim.Execution) (string, error) {
	rows, err := h.listRuns(ctx, []shim.Execution{e})
	if err != nil {
		return "", err
	}
	var first *rest.V1TaskSummary
	for _, r := range rows {
		if first == nil || r.CreatedAt.Before(first.CreatedAt) {
			first = &r
		}
	}
	if first == nil {
		return "", nil
	}
	return first.WorkflowRunExternalId.String(), nil
}

// fromSummary is e's status from its run's row in the runs list.
func fromSummary(e shim.Execution, r rest.V1TaskSummary) shim.Status {
	st := e.Status()
	st.BackendState, st.State, st.StartedAt = string(r.Status), hatchetState(r.Status), r.StartedAt
	if hatchetrun.Final(r.Status) {
		st.FinishedAt = r.FinishedAt
	}
	return st
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
