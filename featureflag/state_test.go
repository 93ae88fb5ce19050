package featureflag

import (
	"strconv"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

const wf = "document-processing-v2"

func TestDecidePrecedence(t *testing.T) {
	base := Rules{
		AllowRequestOverride: true,
		UseTaskAbstraction:   true,
		DenyOrgs:             []string{"org_gdeny"},
		AllowOrgs:            []string{"org_gallow"},
		Workflows: map[string]WorkflowRules{
			wf:        {Percentage: ptr(100.0), AllowOrgs: []string{"org_allow", "org_both"}, DenyOrgs: []string{"org_deny", "org_both"}},
			"off":     {Enabled: ptr(false), AllowOrgs: []string{"org_allow"}},
			"on":      {Enabled: ptr(true)},
			"zero":    {Percentage: ptr(0.0)},
			"noflags": {},
		},
	}
	noOverride := base
	noOverride.AllowRequestOverride = false
	globalRollout := Rules{Percentage: 100}

	tests := []struct {
		name    string
		rules   Rules
		req     Request
		backend Backend
		reason  Reason
		ignored bool
	}{
		{"request override beats deny", base, Request{Workflow: wf, Org: "org_deny", Override: ptr(true)}, BackendHatchet, ReasonRequest, false},
		{"request override to celery", base, Request{Workflow: wf, Org: "org_allow", Override: ptr(false)}, BackendCelery, ReasonRequest, false},
		{"override not allowed is ignored", noOverride, Request{Workflow: wf, Org: "org_deny", Override: ptr(true)}, BackendCelery, ReasonOrgDeny, true},
		{"ignored override keeps global", noOverride, Request{Workflow: "other", Override: ptr(false)}, BackendHatchet, ReasonGlobal, true},
		{"workflow deny", base, Request{Workflow: wf, Org: "org_deny"}, BackendCelery, ReasonOrgDeny, false},
		{"global deny", base, Request{Workflow: wf, Org: "org_gdeny"}, BackendCelery, ReasonOrgDeny, false},
		{"deny beats allow", base, Request{Workflow: wf, Org: "org_both"}, BackendCelery, ReasonOrgDeny, false},
		{"workflow allow beats enabled off", base, Request{Workflow: "off", Org: "org_allow"}, BackendHatchet, ReasonOrgAllow, false},
		{"global allow", base, Request{Workflow: "off", Org: "org_gallow"}, BackendHatchet, ReasonOrgAllow, false},
		{"org list of other workflow ignored", base, Request{Workflow: "on", Org: "org_deny"}, BackendHatchet, ReasonWorkflow, false},
		{"workflow off beats global", base, Request{Workflow: "off", Org: "org_x"}, BackendCelery, ReasonWorkflow, false},
		{"workflow on", base, Request{Workflow: "on"}, BackendHatchet, ReasonWorkflow, false},
		{"workflow percentage", base, Request{Workflow: wf, Org: "org_x"}, BackendHatchet, ReasonPercentage, false},
		{"workflow percentage zero beats global", base, Request{Workflow: "zero", Org: "org_x"}, BackendCelery, ReasonPercentage, false},
		{"global percentage", globalRollout, Request{Workflow: wf, Key: "k"}, BackendHatchet, ReasonPercentage, false},
		{"global switch on", base, Request{Workflow: "noflags"}, BackendHatchet, ReasonGlobal, false},
		{"global switch off", Rules{}, Request{Workflow: wf, Org: "org_deny"}, BackendCelery, ReasonGlobal, false},
		{"empty org matches no list", Rules{AllowOrgs: []string{""}}, Request{Workflow: wf}, BackendCelery, ReasonGlobal, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := compile(tt.rules, "test", "", time.Time{}).decide(tt.req)
			if d.Backend != tt.backend || d.Reason != tt.reason || d.OverrideIgnored != tt.ignored {
				t.Errorf("got %+v, want backend %s reason %s ignored %v", d, tt.backend, tt.reason, tt.ignored)
			}
			if d.Workflow != tt.req.Workflow {
				t.Errorf("workflow = %q, want %q", d.Workflow, tt.req.Workflow)
			}
		})
	}
}

// route decides one key at a percentage.
func route(pct float64, org, key string) Decision {
	r := Rules{Workflows: map[string]WorkflowRules{wf: {Percentage: &pct}}}
	return compile(r, "test", "", time.Time{}).decide(Request{Workflow: wf, Org: org, Key: key})
}

func TestPercentageShareAndStability(t *testing.T) {
	tests := []struct {
		pct      float64
		min, max int // hatchet count out of 10,000
	}{
		{0, 0, 0},
		{0.5, 20, 90},
		{10, 900, 1100},
		{50, 4500, 5500},
		{99.99, 9990, 10000},
		{100, 10000, 10000},
	}
	for _, tt := range tests {
		hatchet := 0
		for i := range 10000 {
			org := "org_" + strconv.Itoa(i)
			d := route(tt.pct, org, "")
			if d.Reason != ReasonPercentage || d.Percentage != tt.pct {
				t.Fatalf("pct %g: got %+v", tt.pct, d)
			}
			if route(tt.pct, org, "other-key") != d {
				t.Fatalf("pct %g: %s routed differently on a second call", tt.pct, org)
			}
			if d.Backend == BackendHatchet {
				hatchet++
			}
		}
		if hatchet < tt.min || hatchet > tt.max {
			t.Errorf("pct %g: %d of 10000 on hatchet, want %d..%d", tt.pct, hatchet, tt.min, tt.max)
		}
	}
}

func TestPercentageMonotone(t *testing.T) {
	steps := []float64{0, 0.01, 1, 5, 12.5, 25, 50, 75, 99, 100}
	for i := range 10000 {
		key := "exec-" + strconv.Itoa(i)
		was := BackendCelery
		for _, p := range steps {
			got := route(p, "", key).Backend
			if was == BackendHatchet && got == BackendCelery {
				t.Fatalf("key %s moved back to celery at %g%%", key, p)
			}
			was = got
		}
		if was != BackendHatchet {
			t.Fatalf("key %s not on hatchet at 100%%", key)
		}
	}
}

func TestPercentageUsesKeyWithoutOrg(t *testing.T) {
	moved := 0
	for i := range 1000 {
		if route(50, "", "a"+strconv.Itoa(i)) != route(50, "", "b"+strconv.Itoa(i)) {
			moved++
		}
	}
	if moved == 0 {
		t.Error("routing key has no effect when org is empty")
	}
	for i := range 1000 {
		if route(50, "org_1", "a"+strconv.Itoa(i)) != route(50, "org_1", "") {
			t.Fatal("routing key changed the route of a request with an org")
		}
	}
}

func TestDecideDoesNotAllocate(t *testing.T) {
	f := benchFlags()
	reqs := benchRequests()
	allocs := testing.AllocsPerRun(100, func() {
		for _, r := range reqs {
			_ = f.Decide(r)
		}
	})
	if allocs != 0 {
		t.Errorf("Decide allocates %v times per run, want 0", allocs)
	}
}

func BenchmarkDecide(b *testing.B) {
	f := benchFlags()
	reqs := benchRequests()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = f.Decide(reqs[i%len(reqs)])
	}
}

func benchFlags() *Flags {
	f := &Flags{}
	f.cur.Store(compile(Rules{
		Percentage: 30,
		DenyOrgs:   []string{"org_b"},
		Workflows:  map[string]WorkflowRules{wf: {Percentage: ptr(50.0), AllowOrgs: []string{"org_a"}}},
	}, "test", "", time.Time{}))
	return f
}

func benchRequests() []Request {
	return []Request{
		{Workflow: wf, Org: "org_a"},
		{Workflow: wf, Org: "org_b"},
		{Workflow: wf, Org: "org_c", Key: "k1"},
		{Workflow: "other", Key: "exec-123"},
		{Workflow: wf, Override: ptr(true)},
	}
}
