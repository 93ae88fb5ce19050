package connector

import "time"

// Result is the verdict of one check, in the JSON form the platform stores.
type Result struct {
	// OK is true when the connector was reached and accepted the settings.
	OK bool `json:"ok"`
	// LatencyMS is how long the check took, connection set-up included, in
	// milliseconds; it is filled in for failures too.
	LatencyMS float64 `json:"latency_ms"`
	// ServerVersion is the version the server reports about itself:
	// PostgreSQL's server_version, MySQL's VERSION(), Redis's redis_version,
	// an AMQP broker's product and version. Empty for filesystems, and for
	// a Redis user not allowed to run INFO.
	ServerVersion string `json:"server_version"`
	// Error says why the check failed, with secrets masked; empty when OK.
	Error string `json:"error"`
}

// millis converts d to fractional milliseconds.
func millis(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
