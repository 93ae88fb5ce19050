package featureflag

import (
	"fmt"
	"strings"
)

// Backend names where a request runs.
type Backend string

// The two backends.
const (
	BackendHatchet Backend = "hatchet"
	BackendCelery  Backend = "celery"
)

// Other returns the backend that is not b, where a fallback goes.
func (b Backend) Other() Backend {
	if b == BackendHatchet {
		return BackendCelery
	}
	return BackendHatchet
}

// backendFor maps "use the task abstraction" to a Backend.
func backendFor(hatchet bool) Backend {
	if hatchet {
		return BackendHatchet
	}
	return BackendCelery
}

// Reason names the rule that made a Decision; see the package doc for their
// precedence.
type Reason string

// The rules, in precedence order; the Router's own come first.
const (
	// ReasonHatchetOnly: the workflow has no legacy Celery task.
	ReasonHatchetOnly Reason = "hatchet-only"
	// ReasonPinned: TASK_QUEUE_BACKEND pins every request to one backend.
	ReasonPinned     Reason = "backend-pinned"
	ReasonRequest    Reason = "request"
	ReasonOrgDeny    Reason = "org-deny"
	ReasonOrgAllow   Reason = "org-allow"
	ReasonWorkflow   Reason = "workflow"
	ReasonPercentage Reason = "percentage"
	ReasonGlobal     Reason = "global"
)

// fallbackPrefix marks the Reason of a decision moved to the other backend.
const fallbackPrefix = "fallback:"

// IsFallback reports whether r is the reason of a fallback decision.
func (r Reason) IsFallback() bool { return strings.HasPrefix(string(r), fallbackPrefix) }

// Request is what a routing decision depends on.
type Request struct {
	// Workflow is the workflow name, e.g. "document-processing-v2".
	Workflow string
	// Org is the organisation id; it may be empty.
	Org string
	// Key is the idempotency key or execution id, hashed for the rollout
	// percentage when Org is empty.
	Key string
	// Override is the request's own use_abstraction choice, if any.
	Override *bool
	// HatchetOnly marks a workflow without a legacy Celery task.
	HatchetOnly bool
}

// Decision is the outcome of Decide.
type Decision struct {
	Backend  Backend `json:"backend"`
	Reason   Reason  `json:"reason"`
	Workflow string  `json:"workflow"`
	// Percentage is the rollout percentage that decided; zero unless Reason
	// is ReasonPercentage.
	Percentage float64 `json:"percentage"`
	// OverrideIgnored is true when the request carried an override that the
	// configuration does not allow.
	OverrideIgnored bool `json:"override_ignored,omitempty"`
}

// String renders d for logs, e.g.
// "document-processing-v2 -> hatchet (percentage 50%)".
func (d Decision) String() string {
	s := fmt.Sprintf("%s -> %s (%s", d.Workflow, d.Backend, d.Reason)
	if d.Reason == ReasonPercentage {
		s += fmt.Sprintf(" %g%%", d.Percentage)
	}
	if d.OverrideIgnored {
		s += ", request override ignored"
	}
	return s + ")"
}
