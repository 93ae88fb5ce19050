package featureflag

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
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
		return spec, fmt.Errorf("%w: %s: %s", ErrInvalid, path, describe(err))
	}
	return spec, nil
}

// Patterns of the YAML decoder's messages, which name Go types.
var (
	yamlUnknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)
	yamlWrongType    = regexp.MustCompile("cannot unmarshal !!(\\w+)(?: `([^`]*)`)? into (\\S+)")
)

// kinds names Go types the way the file's author thinks of them.
var kinds = map[string]string{"float64": "a number", "bool": "true or false", "string": "a string",
	"[]string": "a list of strings", "*float64": "a number", "*bool": "true or false"}

// kind names the Go type t for a file's author.
func kind(t string) string {
	if k, ok := kinds[t]; ok {
		return k
	}
	if strings.HasPrefix(t, "map[") || strings.Contains(t, ".") {
		return "a mapping"
	}
	return t
}

// describe rewrites a decoding error in the file's own terms, without the
// Go type names the decoders use.
func describe(err error) string {
	var ye *yaml.TypeError
	var jt *json.UnmarshalTypeError
	switch {
	case errors.As(err, &ye):
		lines := make([]string, len(ye.Errors))
		for i, e := range ye.Errors {
			e = yamlUnknownField.ReplaceAllString(e, `unknown field "$1"`)
			lines[i] = yamlWrongType.ReplaceAllStringFunc(e, func(m string) string {
				sub := yamlWrongType.FindStringSubmatch(m)
				if sub[2] != "" {
					return fmt.Sprintf("%q is not %s", sub[2], kind(sub[3]))
				}
				return fmt.Sprintf("a %s is not %s", sub[1], kind(sub[3]))
			})
		}
		return strings.Join(lines, "; ")
	case errors.As(err, &jt):
		return fmt.Sprintf("field %q must be %s", jt.Field, kind(jt.Type.String()))
	}
	return strings.TrimPrefix(strings.TrimPrefix(err.Error(), "json: "), "yaml: ")
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
