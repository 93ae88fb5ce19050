package featureflag

import (
	"fmt"
	"math"
	"slices"
)

// Config is the environment's part of the rules; the caller parses it.
type Config struct {
	// UseTaskAbstraction is the global switch (USE_TASK_ABSTRACTION).
	UseTaskAbstraction bool
	// Percentage is the global rollout percent, 0–100; 0 means no global
	// rollout (TASK_ABSTRACTION_PERCENT).
	Percentage float64
	// AllowRequestOverride honours a request's own use_abstraction
	// (FEATURE_FLAGS_ALLOW_REQUEST_OVERRIDE).
	AllowRequestOverride bool
	// File is the optional flags file path (FEATURE_FLAGS_FILE).
	File string
}

// Rules is the effective rule set: Config overlaid by the flags file.
type Rules struct {
	UseTaskAbstraction   bool                     `json:"use_task_abstraction"`
	AllowRequestOverride bool                     `json:"allow_request_override"`
	Percentage           float64                  `json:"percentage"`
	AllowOrgs            []string                 `json:"allow_orgs,omitempty"`
	DenyOrgs             []string                 `json:"deny_orgs,omitempty"`
	Workflows            map[string]WorkflowRules `json:"workflows,omitempty"`
}

// WorkflowRules are one workflow's rules; nil fields are unset.
type WorkflowRules struct {
	// Enabled pins the workflow to Hatchet (true) or Celery (false).
	Enabled *bool `json:"enabled,omitempty" yaml:"enabled"`
	// Percentage is the workflow's rollout percent; it replaces the global
	// one, and may not be combined with Enabled.
	Percentage *float64 `json:"percentage,omitempty" yaml:"percentage"`
	AllowOrgs  []string `json:"allow_orgs,omitempty" yaml:"allow_orgs"`
	DenyOrgs   []string `json:"deny_orgs,omitempty" yaml:"deny_orgs"`
}

// rulesFromConfig is the rule set before any file.
func rulesFromConfig(c Config) Rules {
	return Rules{
		UseTaskAbstraction:   c.UseTaskAbstraction,
		AllowRequestOverride: c.AllowRequestOverride,
		Percentage:           c.Percentage,
	}
}

// validate checks r; known, when non-empty, lists the allowed workflows.
func (r Rules) validate(known []string) error {
	if err := checkPercent("percentage", r.Percentage); err != nil {
		return err
	}
	for name, w := range r.Workflows {
		if len(known) > 0 && !slices.Contains(known, name) {
			return fmt.Errorf("%w: %w %q", ErrInvalid, ErrUnknownWorkflow, name)
		}
		if err := w.validate(name); err != nil {
			return err
		}
	}
	return nil
}

// validate checks one workflow's rules.
func (w WorkflowRules) validate(name string) error {
	if w.Percentage == nil {
		return nil
	}
	if w.Enabled != nil {
		return fmt.Errorf("%w: workflow %q sets both enabled and percentage", ErrInvalid, name)
	}
	return checkPercent("workflows."+name+".percentage", *w.Percentage)
}

// checkPercent rejects a percentage outside 0–100.
func checkPercent(field string, p float64) error {
	if math.IsNaN(p) || p < 0 || p > 100 {
		return fmt.Errorf("%w: %s %g is outside 0-100", ErrInvalid, field, p)
	}
	return nil
}
