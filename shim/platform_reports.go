package shim

import (
	"context"
	"time"
)

// PlatformReport is what the platform was told of an execution: whether
// its final status reached the platform, and the last report that failed.
type PlatformReport struct {
	// Reported is true once the platform took the execution's final status.
	Reported bool `json:"platform_reported"`
	// LastError is the last failed report, nil when none failed.
	LastError *PlatformError `json:"platform_error,omitempty"`
}

// PlatformError is one failed report.
type PlatformError struct {
	Message string    `json:"message"`
	At      time.Time `json:"at"`
	// Retrying says the report was still being retried then.
	Retrying bool `json:"retrying"`
}

// PlatformReports reads what the platform was told of executions.
type PlatformReports interface {
	// PlatformReport returns the report of the execution with id, false
	// when nothing was reported of it.
	PlatformReport(ctx context.Context, id string) (PlatformReport, bool, error)
}

// WithPlatformReports adds what the platform was told of each execution
// to its status.
func WithPlatformReports(r PlatformReports) DispatcherOption {
	return func(x *Dispatcher) { x.reports = r }
}

// withPlatformReport adds the execution's platform report to st; a store
// that cannot say leaves st as it is (the status matters more).
func (d *Dispatcher) withPlatformReport(ctx context.Context, st Status) Status {
	if d.reports == nil {
		return st
	}
	r, ok, err := d.reports.PlatformReport(ctx, st.ExecutionID)
	if err != nil {
		d.log.Warn("read platform report", "execution_id", st.ExecutionID, "error", err)
		return st
	}
	if ok {
		st.PlatformReport = &r
	}
	return st
}
