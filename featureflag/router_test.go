package featureflag

import "testing"

// fixed is a Decider that always answers d.
type fixed Decision

// Decide returns the fixed decision for the request's workflow.
func (f fixed) Decide(r Request) Decision {
	d := Decision(f)
	d.Workflow = r.Workflow
	return d
}

var no = false

// TestRouterDecide checks the order: Hatchet-only, then the pin, then the
// flags; and that an override the rules did not honour is named.
func TestRouterDecide(t *testing.T) {
	flags := fixed{Backend: BackendHatchet, Reason: ReasonPercentage}
	tests := []struct {
		name   string
		opts   []RouterOption
		req    Request
		want   Backend
		reason Reason
		// ignored: the request's override was not honoured.
		ignored bool
	}{
		{"flags decide", nil, Request{Workflow: "w"}, BackendHatchet, ReasonPercentage, false},
		{"pinned to celery", []RouterOption{WithPin(BackendCelery)}, Request{Workflow: "w"}, BackendCelery, ReasonPinned, false},
		{"hatchet-only beats the pin", []RouterOption{WithPin(BackendCelery)}, Request{Workflow: "w", HatchetOnly: true}, BackendHatchet, ReasonHatchetOnly, false},
		{"hatchet-only", nil, Request{Workflow: "w", HatchetOnly: true}, BackendHatchet, ReasonHatchetOnly, false},
		{"override not honoured", nil, Request{Workflow: "w", Override: &no}, BackendHatchet, ReasonPercentage, true},
		{"override not honoured when pinned", []RouterOption{WithPin(BackendCelery)}, Request{Workflow: "w", Override: &no}, BackendCelery, ReasonPinned, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewRouter(flags, tt.opts...).Decide(tt.req)
			if d.Backend != tt.want || d.Reason != tt.reason || d.Workflow != "w" || d.OverrideIgnored != tt.ignored {
				t.Errorf("Decide = %+v, want %s by %s for w, override ignored %v", d, tt.want, tt.reason, tt.ignored)
			}
		})
	}
}

// TestRouterFallback checks when a decision may move to the other backend
// and how its reason says so.
func TestRouterFallback(t *testing.T) {
	tests := []struct {
		name   string
		on     bool
		d      Decision
		ok     bool
		want   Backend
		reason Reason
	}{
		{"off", false, Decision{Backend: BackendCelery, Reason: ReasonGlobal}, false, "", ""},
		{"celery to hatchet", true, Decision{Backend: BackendCelery, Reason: ReasonGlobal}, true, BackendHatchet, "fallback:global"},
		{"hatchet to celery", true, Decision{Backend: BackendHatchet, Reason: ReasonPercentage, Percentage: 50}, true, BackendCelery, "fallback:percentage"},
		{"pinned falls back too", true, Decision{Backend: BackendCelery, Reason: ReasonPinned}, true, BackendHatchet, "fallback:backend-pinned"},
		{"hatchet-only never", true, Decision{Backend: BackendHatchet, Reason: ReasonHatchetOnly}, false, "", ""},
		{"not twice", true, Decision{Backend: BackendHatchet, Reason: "fallback:global"}, false, "", ""},
		{"keeps the ignored override", true, Decision{Backend: BackendCelery, Reason: ReasonGlobal, OverrideIgnored: true}, true, BackendHatchet, "fallback:global"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := NewRouter(fixed{}, WithFallback(tt.on)).Fallback(tt.d)
			if ok != tt.ok || d.Backend != tt.want || d.Reason != tt.reason || (ok && d.OverrideIgnored != tt.d.OverrideIgnored) {
				t.Errorf("Fallback = %+v, %v; want %s by %q, %v", d, ok, tt.want, tt.reason, tt.ok)
			}
			if ok && d.Percentage != 0 {
				t.Errorf("fallback keeps percentage %g", d.Percentage)
			}
		})
	}
}
