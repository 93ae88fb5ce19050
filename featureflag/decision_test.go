package featureflag

import (
	"encoding/json"
	"testing"
)

func TestDecisionString(t *testing.T) {
	tests := []struct {
		d    Decision
		want string
	}{
		{Decision{Backend: BackendHatchet, Reason: ReasonPercentage, Workflow: "wf", Percentage: 12.5}, "wf -> hatchet (percentage 12.5%)"},
		{Decision{Backend: BackendCelery, Reason: ReasonOrgDeny, Workflow: "wf", OverrideIgnored: true}, "wf -> celery (org-deny, request override ignored)"},
		{Decision{Backend: BackendHatchet, Reason: ReasonRequest, Workflow: "wf"}, "wf -> hatchet (request)"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestDecisionJSON(t *testing.T) {
	d := Decision{Backend: BackendCelery, Reason: ReasonGlobal, Workflow: "wf"}
	got, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"backend":"celery","reason":"global","workflow":"wf","percentage":0}`
	if string(got) != want {
		t.Errorf("json = %s, want %s", got, want)
	}
}
