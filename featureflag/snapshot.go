package featureflag

import "time"

// Snapshot is the effective flag state for GET /api/v2/flags.
type Snapshot struct {
	// Source is "env", or "file:<path>" when a flags file is in force.
	Source string `json:"source"`
	// SHA256 is the hex digest of the flags file in force, if any.
	SHA256 string `json:"sha256,omitempty"`
	// LoadedAt is when the rules in force were loaded.
	LoadedAt time.Time `json:"loaded_at"`
	// Rules are the effective rules; they share memory with the state in
	// force, so treat them as read-only.
	Rules Rules `json:"rules"`
	// LastError is the most recent failed reload since the last good one.
	LastError *ReloadError `json:"last_error,omitempty"`
}

// ReloadError is a failed reload of the flags file.
type ReloadError struct {
	Error string    `json:"error"`
	At    time.Time `json:"at"`
}

// Snapshot returns the effective state and the last reload error, if any.
func (f *Flags) Snapshot() Snapshot {
	s := f.cur.Load()
	snap := Snapshot{Source: s.source, SHA256: s.sha256, LoadedAt: s.loadedAt, Rules: s.rules}
	f.mu.Lock()
	if f.lastErr != nil {
		e := *f.lastErr
		snap.LastError = &e
	}
	f.mu.Unlock()
	return snap
}
