package platform

import "time"

// SetWorkerRetryFor sets how long r's FailedWithoutContext retries each
// call, so that a test need not wait the platform workers' 8 s.
func SetWorkerRetryFor(r *Reporter, d time.Duration) { r.workerRetryFor = d }
