package featureflag

import "errors"

// Sentinel errors callers can branch on with errors.Is.
var (
	// ErrInvalid marks a configuration or flags file that fails to decode or
	// validate.
	ErrInvalid = errors.New("invalid feature flags")
	// ErrUnknownWorkflow marks a flags file naming a workflow outside the set
	// given with WithKnownWorkflows. It also matches ErrInvalid.
	ErrUnknownWorkflow = errors.New("unknown workflow")
	// ErrUnsupportedFormat marks a flags file whose extension is not .json,
	// .yaml or .yml.
	ErrUnsupportedFormat = errors.New("unsupported flags file format")
)
