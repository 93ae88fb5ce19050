package shim_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
	"github.com/unstract/hatchet-worker/shim"
)

// TestHatchetRunTheEngineNeverMade asks the real engine about a run it has
// no record of: queued while it may still be being created, unknown with
// the reason once SHIM_LOST_AFTER has passed.
func TestHatchetRunTheEngineNeverMade(t *testing.T) {
	conn := hatchettest.Engine(t)
	h := shim.NewHatchet(conn.Client, conn.Ready, shim.WithLostAfter(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tests := []struct {
		age  time.Duration
		want string
	}{
		{10 * time.Second, shim.StateQueued},
		{2 * time.Minute, shim.StateUnknown},
	}
	for _, tt := range tests {
		st, err := h.Status(ctx, shim.Execution{ID: uuid.NewString(), Backend: featureflag.BackendHatchet,
			BackendRef: uuid.NewString(), CreatedAt: time.Now().Add(-tt.age)})
		if err != nil {
			t.Fatalf("Status (%s old): %v", tt.age, err)
		}
		if st.State != tt.want {
			t.Errorf("a run the engine never made, %s old: status %s, want %s", tt.age, st.State, tt.want)
		}
		if tt.want == shim.StateUnknown && (st.Error == nil || st.Error.Type != shim.UnknownRunNotFound) {
			t.Errorf("unknown run: error = %+v, want type %s", st.Error, shim.UnknownRunNotFound)
		}
	}
}
