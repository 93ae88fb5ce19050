package featureflag

import (
	"math"
	"time"
)

// buckets is how many hash buckets a rollout percentage divides; 10,000
// gives a resolution of 0.01 %.
const buckets = 10000

// state is one immutable, compiled rule set; a reload replaces it whole.
type state struct {
	rules    Rules
	source   string
	sha256   string
	loadedAt time.Time
	global   rollout
	allow    set
	deny     set
	flows    map[string]*flow
}

// flow is one workflow's compiled rules.
type flow struct {
	enabled *bool
	pct     *rollout
	allow   set
	deny    set
}

// noFlow stands in for a workflow without rules of its own.
var noFlow = &flow{}

// rollout is a percentage and its bucket threshold.
type rollout struct {
	percent   float64
	threshold uint64
}

// set is a string set.
type set map[string]struct{}

// has reports whether k is in s; the empty string never is.
func (s set) has(k string) bool {
	_, ok := s[k]
	return ok && k != ""
}

// newSet builds a set from a list.
func newSet(items []string) set {
	s := make(set, len(items))
	for _, it := range items {
		s[it] = struct{}{}
	}
	return s
}

// newRollout compiles a percentage.
func newRollout(p float64) rollout {
	return rollout{percent: p, threshold: uint64(math.Round(p * buckets / 100))}
}

// compile turns validated rules into a state.
func compile(r Rules, source, sum string, at time.Time) *state {
	s := &state{
		rules: r, source: source, sha256: sum, loadedAt: at,
		global: newRollout(r.Percentage),
		allow:  newSet(r.AllowOrgs), deny: newSet(r.DenyOrgs),
		flows: make(map[string]*flow, len(r.Workflows)),
	}
	for name, w := range r.Workflows {
		f := &flow{enabled: w.Enabled, allow: newSet(w.AllowOrgs), deny: newSet(w.DenyOrgs)}
		if w.Percentage != nil {
			ro := newRollout(*w.Percentage)
			f.pct = &ro
		}
		s.flows[name] = f
	}
	return s
}

// decide applies the rules in precedence order.
func (s *state) decide(r Request) Decision {
	d := Decision{Workflow: r.Workflow}
	if r.Override != nil {
		if s.rules.AllowRequestOverride {
			return d.by(backendFor(*r.Override), ReasonRequest)
		}
		d.OverrideIgnored = true
	}
	f := s.flows[r.Workflow]
	if f == nil {
		f = noFlow
	}
	switch {
	case f.deny.has(r.Org) || s.deny.has(r.Org):
		return d.by(BackendCelery, ReasonOrgDeny)
	case f.allow.has(r.Org) || s.allow.has(r.Org):
		return d.by(BackendHatchet, ReasonOrgAllow)
	case f.enabled != nil:
		return d.by(backendFor(*f.enabled), ReasonWorkflow)
	}
	return s.rollout(f, r, d)
}

// rollout applies the percentage rule, falling back to the global switch.
func (s *state) rollout(f *flow, r Request, d Decision) Decision {
	ro := f.pct
	if ro == nil && s.global.percent > 0 {
		ro = &s.global
	}
	if ro == nil {
		return d.by(backendFor(s.rules.UseTaskAbstraction), ReasonGlobal)
	}
	id := r.Org
	if id == "" {
		id = r.Key
	}
	d.Percentage = ro.percent
	return d.by(backendFor(bucket(r.Workflow, id) < ro.threshold), ReasonPercentage)
}

// by sets the outcome of d.
func (d Decision) by(b Backend, r Reason) Decision {
	d.Backend, d.Reason = b, r
	return d
}

// FNV-1a 64-bit parameters.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// bucket hashes workflow+"/"+id with FNV-1a into [0, buckets) without
// allocating.
func bucket(workflow, id string) uint64 {
	h := uint64(fnvOffset)
	h = fnvString(h, workflow)
	h = (h ^ '/') * fnvPrime
	return fnvString(h, id) % buckets
}

// fnvString folds s into an FNV-1a hash.
func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}
