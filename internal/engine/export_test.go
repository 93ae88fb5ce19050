//go:build !hatchet_external

package engine

// ReleaseDuplicates is releaseDuplicates, for the external tests.
var ReleaseDuplicates = releaseDuplicates
