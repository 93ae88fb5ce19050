// Package frontdoor takes the platform's own Celery task messages off its
// queues, so a task moves to Hatchet with no change at its call sites.
package frontdoor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/unstract/hatchet-worker/internal/filewatch"
	"github.com/unstract/hatchet-worker/workflows"
)

// ErrSettings reports a settings file that cannot be used; the message
// names the file, and the workflow and field at fault.
var ErrSettings = errors.New("workflow settings")

// Settings are the document settings of the platform's workflows
// (WORKFLOW_SETTINGS_FILE), keyed by the platform's workflow_id: the
// prompts, adapter and chunking a task message does not carry.
type Settings struct {
	path  string
	check func(workflows.DocumentSettings) error
	log   *slog.Logger
	poll  time.Duration

	cur atomic.Pointer[settingsFile]

	mu      sync.Mutex // guards lastBad
	lastBad [sha256.Size]byte
}

// settingsFile is one loaded version of the file.
type settingsFile struct {
	sum       [sha256.Size]byte
	workflows map[string]workflows.DocumentSettings
}

// settingsSpec is the file's shape.
type settingsSpec struct {
	Workflows map[string]workflows.DocumentSettings `json:"workflows"`
}

// defaultSettingsPoll is how often Watch re-reads the file besides its
// change notifications.
const defaultSettingsPoll = 5 * time.Second

// OpenSettings reads the settings file at path (.json, .yaml or .yml) and
// checks each workflow's settings with check
// (workflows.DocumentSettings.Check with the service's LLM adapters).
func OpenSettings(path string, check func(workflows.DocumentSettings) error, log *slog.Logger) (*Settings, error) {
	s := &Settings{path: path, check: check, log: log, poll: defaultSettingsPoll}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	f, err := s.parse(data)
	if err != nil {
		return nil, err
	}
	s.cur.Store(f)
	return s, nil
}

// For returns the settings of the platform's workflow id, and whether the
// file has them.
func (s *Settings) For(workflowID string) (workflows.DocumentSettings, bool) {
	ds, ok := s.cur.Load().workflows[workflowID]
	return ds, ok
}

// Watch reloads the file whenever it changes, until ctx ends. A version
// that fails to load is logged once and the last good settings stay.
func (s *Settings) Watch(ctx context.Context) error {
	filewatch.Watch(ctx, s.path, s.poll, s.log, "workflow settings", s.reload)
	return nil
}

// reload loads the file if its content changed.
func (s *Settings) reload(ctx context.Context) {
	data, err := os.ReadFile(s.path)
	if err != nil {
		s.rejected(ctx, nil, fmt.Errorf("%w: %w", ErrSettings, err))
		return
	}
	if sha256.Sum256(data) == s.cur.Load().sum {
		return
	}
	f, err := s.parse(data)
	if err != nil {
		s.rejected(ctx, data, err)
		return
	}
	s.cur.Store(f)
	s.log.InfoContext(ctx, "workflow settings reloaded", "file", s.path, "workflows", len(f.workflows))
}

// rejected logs a refused version of the file once per content.
func (s *Settings) rejected(ctx context.Context, data []byte, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sum := sha256.Sum256(data); sum != s.lastBad {
		s.lastBad = sum
		s.log.ErrorContext(ctx, "workflow settings reload rejected; keeping the last good settings", "file", s.path, "error", err)
	}
}

// parse decodes and checks one version of the file.
func (s *Settings) parse(data []byte) (*settingsFile, error) {
	spec, err := decodeSettings(s.path, data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrSettings, s.path, err)
	}
	for _, id := range slices.Sorted(maps.Keys(spec.Workflows)) {
		if err := s.check(spec.Workflows[id]); err != nil {
			return nil, fmt.Errorf("%w: %s: workflow %s: %w", ErrSettings, s.path, id, err)
		}
	}
	return &settingsFile{sum: sha256.Sum256(data), workflows: spec.Workflows}, nil
}

// decodeSettings strictly decodes the file, JSON or YAML by path's
// extension. YAML is read as JSON would be, field names and all.
func decodeSettings(path string, data []byte) (settingsSpec, error) {
	var spec settingsSpec
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".json":
	case ".yaml", ".yml":
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return spec, err
		}
		var err error
		if data, err = json.Marshal(doc); err != nil {
			return spec, err
		}
	default:
		return spec, fmt.Errorf("extension %q: want .json, .yaml or .yml", ext)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return spec, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return spec, errors.New("trailing data after the settings")
	}
	return spec, nil
}
