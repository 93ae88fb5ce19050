//lint:file-ignore SA1019 the engine's own records of a run come back as the SDK's v0 type (pkg/client.RunDetails).

package hatchetrun

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	v0client "github.com/hatchet-dev/hatchet/pkg/client"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Details reads run runID from the engine's own records (gRPC
// GetRunDetails), which hold a run from the moment the engine creates it,
// unlike the API's read model. found is false for a run they do not hold,
// or an id that is not a UUID.
func Details(ctx context.Context, client *hatchet.Client, runID string) (d *v0client.RunDetails, found bool, err error) {
	id, err := uuid.Parse(runID)
	if err != nil {
		return nil, false, nil
	}
	d, err = client.Runs().GetDetails(ctx, id)
	if status.Code(err) == codes.NotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read hatchet run details %s: %w", runID, err)
	}
	return d, true, nil
}

// Records answers whether the engine's own records hold a run, for a
// workflow that watches the runs it spawns (workflows.RunRecords).
type Records struct {
	// Client asks the engine.
	Client *hatchet.Client
}

// Exists reports whether the engine's records hold run runID.
func (r Records) Exists(ctx context.Context, runID string) (bool, error) {
	_, found, err := Details(ctx, r.Client, runID)
	return found, err
}
