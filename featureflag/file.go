package featureflag

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fileSpec is the flags file's schema; nil fields leave Config in force.
type fileSpec struct {
	UseTaskAbstraction   *bool                    `json:"use_task_abstraction" yaml:"use_task_abstraction"`
	AllowRequestOverride *bool                    `json:"allow_request_override" yaml:"allow_request_override"`
	Percentage           *float64                 `json:"percentage" yaml:"percentage"`
	AllowOrgs            []string                 `json:"allow_orgs" yaml:"allow_orgs"`
	DenyOrgs             []string                 `json:"deny_orgs" yaml:"deny_orgs"`
	Workflows            map[string]WorkflowRules `json:"workflows" yaml:"workflows"`
}

// decodeFile strictly decodes a flags file, choosing the format by the
// extension of path.
func decodeFile(path string, data []byte) (fileSpec, error) {
	var spec fileSpec
	if len(bytes.TrimSpace(data)) == 0 {
		return spec, fmt.Errorf("%w: %s is empty", ErrInvalid, path)
	}
	var err error
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".json":
		err = decodeJSON(data, &spec)
	case ".yaml", ".yml":
		err = decodeYAML(data, &spec)
	default:
		return spec, fmt.Errorf("%w: %q (want .json, .yaml or .yml)", ErrUnsupportedFormat, ext)
	}
	if err != nil {
		return spec, fmt.Errorf("%w: decode %s: %w", ErrInvalid, path, err)
	}
	return spec, nil
}

// decodeJSON decodes exactly one JSON object with no unknown fields.
func decodeJSON(data []byte, spec *fileSpec) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(spec); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// decodeYAML decodes exactly one YAML document with no unknown fields.
func decodeYAML(data []byte, spec *fileSpec) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(spec); err != nil {
		return err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document")
	}
	return nil
}

// overlay returns r with the fields spec sets replaced.
func (spec fileSpec) overlay(r Rules) Rules {
	if spec.UseTaskAbstraction != nil {
		r.UseTaskAbstraction = *spec.UseTaskAbstraction
	}
	if spec.AllowRequestOverride != nil {
		r.AllowRequestOverride = *spec.AllowRequestOverride
	}
	if spec.Percentage != nil {
		r.Percentage = *spec.Percentage
	}
	r.AllowOrgs, r.DenyOrgs, r.Workflows = spec.AllowOrgs, spec.DenyOrgs, spec.Workflows
	return r
}
