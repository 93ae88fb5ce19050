package featureflag

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeFile(t *testing.T) {
	tests := []struct {
		name string
		path string
		data string
		want error // nil: decodes
	}{
		{"yaml", "f.yaml", "use_task_abstraction: true\nworkflows:\n  wf: {percentage: 50, allow_orgs: [a]}\n", nil},
		{"yml", "f.yml", "percentage: 12.5\n", nil},
		{"json", "f.json", `{"deny_orgs":["b"],"workflows":{"wf":{"enabled":false}}}`, nil},
		{"empty", "f.yaml", " \n", ErrInvalid},
		{"bad json", "f.json", `{"percentage":`, ErrInvalid},
		{"bad yaml", "f.yaml", "workflows: [unclosed\n", ErrInvalid},
		{"unknown field json", "f.json", `{"percent":5}`, ErrInvalid},
		{"unknown field yaml", "f.yaml", "percent: 5\n", ErrInvalid},
		{"unknown workflow field", "f.yaml", "workflows:\n  wf: {enable: true}\n", ErrInvalid},
		{"wrong type", "f.json", `{"percentage":"fifty"}`, ErrInvalid},
		{"trailing json", "f.json", `{} {}`, ErrInvalid},
		{"two yaml docs", "f.yaml", "percentage: 1\n---\npercentage: 2\n", ErrInvalid},
		{"unsupported", "f.toml", "percentage = 1\n", ErrUnsupportedFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeFile(tt.path, []byte(tt.data))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		rules Rules
		known []string
		want  error
	}{
		{"ok", Rules{Percentage: 100, Workflows: map[string]WorkflowRules{"wf": {Percentage: ptr(0.0)}}}, []string{"wf"}, nil},
		{"global over 100", Rules{Percentage: 150}, nil, ErrInvalid},
		{"global negative", Rules{Percentage: -1}, nil, ErrInvalid},
		{"workflow over 100", Rules{Workflows: map[string]WorkflowRules{"wf": {Percentage: ptr(150.0)}}}, nil, ErrInvalid},
		{"enabled and percentage", Rules{Workflows: map[string]WorkflowRules{"wf": {Enabled: ptr(true), Percentage: ptr(5.0)}}}, nil, ErrInvalid},
		{"unknown workflow", Rules{Workflows: map[string]WorkflowRules{"nope": {}}}, []string{"wf"}, ErrUnknownWorkflow},
		{"any workflow without known set", Rules{Workflows: map[string]WorkflowRules{"nope": {}}}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rules.validate(tt.known)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if errors.Is(err, ErrUnknownWorkflow) && !errors.Is(err, ErrInvalid) {
				t.Errorf("unknown workflow error %v does not match ErrInvalid", err)
			}
		})
	}
}

func TestOverlay(t *testing.T) {
	env := Rules{UseTaskAbstraction: true, AllowRequestOverride: true, Percentage: 30}
	tests := []struct {
		name string
		spec fileSpec
		want Rules
	}{
		{"absent fields keep env", fileSpec{}, env},
		{"present fields win", fileSpec{UseTaskAbstraction: ptr(false), AllowRequestOverride: ptr(false), Percentage: ptr(0.0)}, Rules{}},
	}
	for _, tt := range tests {
		got := tt.spec.overlay(env)
		if got.UseTaskAbstraction != tt.want.UseTaskAbstraction || got.AllowRequestOverride != tt.want.AllowRequestOverride || got.Percentage != tt.want.Percentage {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestDecodeErrorsSpeakTheFilesLanguage checks that decoding errors name the
// file's fields and kinds of value, not Go types.
func TestDecodeErrorsSpeakTheFilesLanguage(t *testing.T) {
	tests := []struct {
		path, data, want string
	}{
		{"f.yaml", "use_task_abstracton: true\n", `line 1: unknown field "use_task_abstracton"`},
		{"f.yaml", "workflows:\n  w: {percentag: 3}\n", `line 2: unknown field "percentag"`},
		{"f.json", `{"use_task_abstracton": true}`, `unknown field "use_task_abstracton"`},
		{"f.yaml", "percentage: abc\n", `line 1: "abc" is not a number`},
		{"f.yaml", "workflows: [1]\n", `line 1: a seq is not a mapping`},
		{"f.json", `{"percentage": "abc"}`, `field "percentage" must be a number`},
		{"f.json", `{"workflows": {"w": {"enabled": 3}}}`, `field "workflows.enabled" must be true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := decodeFile(tt.path, []byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %s", err, tt.want)
			}
			for _, goName := range []string{"fileSpec", "WorkflowRules", "featureflag.", "float64", "Go struct"} {
				if err != nil && strings.Contains(err.Error(), goName) {
					t.Errorf("error %q names the Go type %s", err, goName)
				}
			}
		})
	}
}
