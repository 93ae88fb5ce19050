package featureflag

// Decider decides with the flag rules; *Flags provides it.
type Decider interface {
	Decide(Request) Decision
}

// Router is the one place a request's backend is decided: workflows without
// a legacy task run on Hatchet, a pinned backend (TASK_QUEUE_BACKEND=celery)
// takes everything else, the flag rules decide the rest, and Fallback moves
// a decision to the other backend when its own is down. Every outcome is one
// Decision whose Reason names the rule.
type Router struct {
	flags    Decider
	pin      Backend
	fallback bool
}

// RouterOption configures a Router.
type RouterOption func(*Router)

// WithPin sends every request that has a legacy task to b, whatever the
// flags say; "" (the default) lets the flags decide.
func WithPin(b Backend) RouterOption { return func(r *Router) { r.pin = b } }

// WithFallback lets Fallback move decisions to the other backend
// (ROUTING_FALLBACK).
func WithFallback(on bool) RouterOption { return func(r *Router) { r.fallback = on } }

// NewRouter returns a Router deciding with flags.
func NewRouter(flags Decider, opts ...RouterOption) *Router {
	r := &Router{flags: flags}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Decide routes one request.
func (r *Router) Decide(req Request) Decision {
	var d Decision
	switch {
	case req.HatchetOnly:
		d = Decision{Backend: BackendHatchet, Reason: ReasonHatchetOnly, Workflow: req.Workflow}
	case r.pin != "":
		d = Decision{Backend: r.pin, Reason: ReasonPinned, Workflow: req.Workflow}
	default:
		d = r.flags.Decide(req)
	}
	if req.Override != nil && d.Reason != ReasonRequest {
		d.OverrideIgnored = true
	}
	return d
}

// Fallback returns the decision that sends d's request to the other backend,
// its Reason "fallback:<d's reason>", and true; or false when fallback is
// off, the workflow runs on Hatchet only, or d is a fallback already.
func (r *Router) Fallback(d Decision) (Decision, bool) {
	if !r.fallback || d.Reason == ReasonHatchetOnly || d.Reason.IsFallback() {
		return Decision{}, false
	}
	d.Backend, d.Reason = d.Backend.Other(), fallbackPrefix+d.Reason
	d.Percentage = 0
	return d, true
}
