//go:build !hatchet_external

package engine

import (
	"slices"
	"testing"
)

// TestAbandoned checks that only messages ASSIGNED at two sweeps in a row
// count as abandoned.
func TestAbandoned(t *testing.T) {
	tests := []struct {
		before, now, want []int64
	}{
		{nil, []int64{1, 2}, nil},
		{[]int64{1, 2}, nil, nil},
		{[]int64{1, 2, 3}, []int64{2, 3, 4}, []int64{2, 3}},
	}
	for _, tt := range tests {
		if got := abandoned(tt.before, tt.now); !slices.Equal(got, tt.want) {
			t.Errorf("abandoned(%v, %v) = %v, want %v", tt.before, tt.now, got, tt.want)
		}
	}
}
