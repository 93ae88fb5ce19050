package workflows

import (
	"errors"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/unstract/hatchet-worker/helpers/connector"
	"github.com/unstract/hatchet-worker/shim/route"
)

// ConnectorValidationName is the Hatchet name of the connector check.
const ConnectorValidationName = "connector-validation"

// ConnectorValidationInput asks whether a connector's settings work.
type ConnectorValidationInput struct {
	OrganizationID string             `json:"organization_id"`
	ConnectorID    string             `json:"connector_id"`
	Settings       connector.Settings `json:"settings"`
}

// ConnectorValidationOutput is the verdict: {ok, latency_ms, server_version, error}.
type ConnectorValidationOutput struct {
	ConnectorID string `json:"connector_id,omitempty"`
	connector.Result
}

// perOrgChecks bounds concurrent checks of one organisation, so one tenant
// testing many connectors cannot hold every slot.
const perOrgChecks = 5

// ConnectorValidation checks a connector's settings by really connecting.
// Invalid settings fail without retry; an unreachable or refusing server is
// a successful run whose output says ok=false.
func ConnectorValidation(deps Deps) Definition {
	return Definition{
		Name:        ConnectorValidationName,
		Description: "Check a connector's settings (PostgreSQL, MySQL/MariaDB, Redis, AMQP, filesystem) by connecting, within a timeout; secrets never appear in the output.",
		Timeout:     connector.MaxTimeout + 30*time.Second,
		Options:     []hatchet.WorkflowOption{perOrganization(perOrgChecks)},
		// The platform validates connectors inline: no Celery task.
		Route: &route.Route{},
		Tasks: []Task{{
			Name:    "validate-connection",
			Timeout: connector.MaxTimeout + 15*time.Second,
			Retries: 1,
			Fn: func(ctx hatchet.Context, in ConnectorValidationInput) (ConnectorValidationOutput, error) {
				progress(ctx, deps.Log, "checking connector", "connector", in.Settings.String())
				res, err := connector.Validate(ctx, in.Settings)
				if errors.Is(err, connector.ErrInvalidSettings) {
					return ConnectorValidationOutput{}, badInput("%w", err)
				}
				if err != nil {
					return ConnectorValidationOutput{}, err
				}
				progress(ctx, deps.Log, "connector checked", "ok", res.OK, "latency_ms", res.LatencyMS, "error", res.Error)
				return ConnectorValidationOutput{ConnectorID: in.ConnectorID, Result: res}, nil
			},
		}},
	}
}
