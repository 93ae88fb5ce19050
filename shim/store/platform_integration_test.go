//go:build integration

package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
)

// TestStorePlatformReports walks one execution's reports: a retried
// failure, a success that keeps the last error, the final status, and the
// record's deletion taking the report with it.
func TestStorePlatformReports(t *testing.T) {
	ctx := context.Background()
	store, _ := openStore(t, "hw_test_shim_platform")
	c, err := store.Claim(ctx, shim.Execution{ID: uuid.NewString(), Workflow: "w", OrganizationID: "o",
		Backend: featureflag.BackendHatchet, Reason: featureflag.ReasonHatchetOnly}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := store.PlatformReport(ctx, c.ID); ok || err != nil {
		t.Fatalf("before any report: %v, %v", ok, err)
	}
	steps := []struct {
		name     string
		final    bool
		err      error
		retrying bool
		want     shim.PlatformReport
	}{
		{"retried failure", false, errors.New("503 Service Unavailable"), true,
			shim.PlatformReport{LastError: &shim.PlatformError{Message: "503 Service Unavailable", Retrying: true}}},
		{"success after it", false, nil, false,
			shim.PlatformReport{LastError: &shim.PlatformError{Message: "503 Service Unavailable"}}},
		{"final status", true, nil, false,
			shim.PlatformReport{Reported: true, LastError: &shim.PlatformError{Message: "503 Service Unavailable"}}},
		{"a late failure never unreports", false, errors.New("401 refused"), false,
			shim.PlatformReport{Reported: true, LastError: &shim.PlatformError{Message: "401 refused"}}},
	}
	for _, s := range steps {
		if err := store.NotePlatformReport(ctx, c.ID, s.final, s.err, s.retrying); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got, ok, err := store.PlatformReport(ctx, c.ID)
		if err != nil || !ok {
			t.Fatalf("%s: %v, %v", s.name, ok, err)
		}
		if got.Reported != s.want.Reported || got.LastError == nil || got.LastError.Message != s.want.LastError.Message ||
			got.LastError.Retrying != s.want.LastError.Retrying || got.LastError.At.IsZero() {
			t.Errorf("%s: %+v %+v, want %+v %+v", s.name, got, got.LastError, s.want, s.want.LastError)
		}
	}
	for _, id := range []string{"not-a-uuid", uuid.NewString()} { // runs the shim did not start
		if err := store.NotePlatformReport(ctx, id, true, nil, false); err != nil {
			t.Errorf("report of unknown execution %s: %v", id, err)
		}
		if _, ok, _ := store.PlatformReport(ctx, id); ok {
			t.Errorf("unknown execution %s has a report", id)
		}
	}
	if n, err := store.Prune(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v", n, err)
	}
	if _, ok, err := store.PlatformReport(ctx, c.ID); ok || err != nil {
		t.Errorf("after pruning: %v, %v", ok, err)
	}
}
