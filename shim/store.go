package shim

import (
	"errors"
	"time"

	"github.com/unstract/hatchet-worker/featureflag"
)

// ErrClaimLost reports a write by a request whose claim another request has
// taken over (its lease ran out) or whose record is already complete.
var ErrClaimLost = errors.New("claim lost")

// Execution is the shim's durable record of one request: where it went and
// how to find it there.
type Execution struct {
	ID             string              `json:"execution_id"`
	Workflow       string              `json:"workflow"`
	OrganizationID string              `json:"organization_id"`
	IdempotencyKey string              `json:"idempotency_key,omitempty"`
	Backend        featureflag.Backend `json:"backend"`
	Reason         featureflag.Reason  `json:"reason"`
	BackendRef     string              `json:"backend_ref,omitempty"`
	CreatedAt      time.Time           `json:"created_at"`
	// Ingress is how the request came in: IngressAPI or IngressFrontDoor.
	Ingress string `json:"ingress"`
	// CancelRequestedAt is when a cancel was last sent to its backend.
	CancelRequestedAt *time.Time `json:"cancel_requested_at,omitempty"`
	Outcome
}

// The ingresses of executions.
const (
	// IngressAPI is a request to the shim's HTTP API.
	IngressAPI = "api"
	// IngressFrontDoor is a Celery task message the front door took off
	// one of the platform's queues.
	IngressFrontDoor = "front_door"
)

// ClaimState is the outcome of Store.Claim.
type ClaimState int

// The outcomes of a claim.
const (
	// ClaimNew: the record was created; the caller holds its lease.
	ClaimNew ClaimState = iota
	// ClaimTakenOver: an earlier claim's lease ran out before its backend
	// accepted the work (its process died); the caller now holds the lease.
	ClaimTakenOver
	// ClaimDone: a backend accepted the work earlier; replay the record.
	ClaimDone
	// ClaimHeld: another request holds a live lease on the record.
	ClaimHeld
)

// Claim is a record returned by Store.Claim; Token is set when the caller
// holds the lease, and only it may then record a ref, reroute or release.
type Claim struct {
	Execution
	State ClaimState
	Token string
}
