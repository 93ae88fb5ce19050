package featureflag

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// defaultPoll is how often Watch re-reads the file by default.
const defaultPoll = 5 * time.Second

// Flags holds the current rules and decides with them; it is safe for
// concurrent use, and Decide never blocks on a reload. Build it with New;
// the zero value is not usable.
type Flags struct {
	cfg   Config
	known []string
	poll  time.Duration
	log   *slog.Logger
	cur   atomic.Pointer[state]

	mu      sync.Mutex   // serialises reloads and guards the fields below
	seen    string       // fingerprint of the file content (or error) last tried
	lastErr *ReloadError // the last failed reload, nil after a good one
}

// New builds Flags from cfg and, when cfg.File is set, the flags file; a
// missing or invalid file is an error.
func New(ctx context.Context, cfg Config, opts ...Option) (*Flags, error) {
	f := &Flags{cfg: cfg, poll: defaultPoll, log: slog.Default()}
	for _, o := range opts {
		o(f)
	}
	load := f.Reload
	if cfg.File == "" {
		load = f.fromEnv
	}
	if err := load(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

// fromEnv installs the rules of cfg alone.
func (f *Flags) fromEnv(context.Context) error {
	r := rulesFromConfig(f.cfg)
	if err := r.validate(f.known); err != nil {
		return fmt.Errorf("feature flags from environment: %w", err)
	}
	f.cur.Store(compile(r, "env", "", time.Now()))
	return nil
}

// Decide routes one request; see the package doc for the rules.
func (f *Flags) Decide(r Request) Decision {
	return f.cur.Load().decide(r)
}

// Reload re-reads the flags file and installs it if it is valid; otherwise
// it returns the error and the last good rules stay. Without a file it does
// nothing.
func (f *Flags) Reload(ctx context.Context) error {
	if f.cfg.File == "" {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	data, sum, err := f.read()
	return f.apply(ctx, data, sum, err)
}

// reloadIfChanged reloads the file unless its content (or read error) is
// the one last tried, and reports whether it tried.
func (f *Flags) reloadIfChanged(ctx context.Context) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, sum, err := f.read()
	if sum == f.seen {
		return false, nil
	}
	return true, f.apply(ctx, data, sum, err)
}

// read returns the file content and a fingerprint of it, or of the error.
func (f *Flags) read() ([]byte, string, error) {
	data, err := os.ReadFile(f.cfg.File)
	if err != nil {
		return nil, "error: " + err.Error(), fmt.Errorf("read feature flags: %w", err)
	}
	sum := sha256.Sum256(data)
	return data, hex.EncodeToString(sum[:]), nil
}

// apply installs data unless readErr is set, and records the outcome under
// the fingerprint sum; f.mu must be held.
func (f *Flags) apply(ctx context.Context, data []byte, sum string, readErr error) error {
	err := readErr
	if err == nil {
		err = f.install(ctx, data, sum)
	}
	f.seen, f.lastErr = sum, nil
	if err != nil {
		f.lastErr = &ReloadError{Error: err.Error(), At: time.Now()}
	}
	return err
}

// install decodes, validates and swaps in the file content data.
func (f *Flags) install(ctx context.Context, data []byte, sum string) error {
	spec, err := decodeFile(f.cfg.File, data)
	if err != nil {
		return err
	}
	r := spec.overlay(rulesFromConfig(f.cfg))
	if err := r.validate(f.known); err != nil {
		return fmt.Errorf("%s: %w", f.cfg.File, err)
	}
	source := "file:" + f.cfg.File
	f.cur.Store(compile(r, source, sum, time.Now()))
	f.log.InfoContext(ctx, "feature flags loaded", "source", source, "sha256", sum)
	return nil
}
