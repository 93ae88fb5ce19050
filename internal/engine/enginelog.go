//go:build !hatchet_external

package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/unstract/hatchet-worker/internal/logging"
)

// engineLog carries the embedded engine's own log into the service's
// logger. Hatchet's loggers write zerolog JSON to os.Stderr as it is when
// they are created, with no option to give them a writer, so while the
// engine runs os.Stderr is a pipe read here (the service's own logger
// writes to the stderr it was given at start; a crash's trace goes to file
// descriptor 2 directly). The engine's lines then carry the service's
// format and levels; the "context canceled" errors its listeners report
// while it is being stopped, and its slow-pass notes, are debug lines.
type engineLog struct {
	saved    *os.File
	w        *os.File
	done     chan struct{}
	stopping atomic.Bool
}

// dropClosedWrites makes zerolog drop, rather than print, the events an
// engine goroutine still writes after Stop closed the pipe.
var dropClosedWrites sync.Once

// routeLog points os.Stderr at a pipe whose lines go to log.
func routeLog(log *slog.Logger) (*engineLog, error) {
	dropClosedWrites.Do(func() {
		next := zerolog.ErrorHandler
		zerolog.ErrorHandler = func(err error) {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			if next != nil {
				next(err)
				return
			}
			fmt.Fprintf(os.Stderr, "zerolog: could not write event: %v\n", err)
		}
	})
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("engine log pipe: %w", err)
	}
	l := &engineLog{saved: os.Stderr, w: w, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		defer r.Close()
		logging.ZerologLines(r, log, "hatchet-engine", l.quiet)
	}()
	os.Stderr = w
	return l, nil
}

// quiet reports whether event is routine: an expected consequence of the
// stop, or the scheduler's note that a pass took more than 100 ms, which a
// busy machine makes often and which says nothing failed (debug shows it).
func (l *engineLog) quiet(event map[string]any) bool {
	if msg, _ := event["message"].(string); strings.Contains(msg, "took longer than 100ms") {
		return true
	}
	if !l.stopping.Load() {
		return false
	}
	e, _ := event["error"].(string)
	return strings.Contains(e, "context canceled")
}

// close restores os.Stderr and waits until every line written is logged.
func (l *engineLog) close() {
	os.Stderr = l.saved
	_ = l.w.Close()
	<-l.done
}
