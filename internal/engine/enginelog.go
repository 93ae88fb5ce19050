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
// while it is being stopped, and its notes of slow passes, are debug lines.
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
// stop, or a note that something took long (a pass over 100 ms, a long
// transaction, a slow lookup), which a busy machine makes often and which
// carries no error, or the API's access line of a run not found yet (debug
// shows them).
func (l *engineLog) quiet(event map[string]any) bool {
	e, failed := event["error"].(string)
	if !failed {
		return slowNote(event) || notFound(event)
	}
	return l.stopping.Load() && strings.Contains(e, "context canceled")
}

// notFound reports whether event is the engine API's access line of a 404:
// the shim asks for runs the API's read model may not show yet, and reads
// them from the engine's own records then.
func notFound(event map[string]any) bool {
	status, _ := event["status"].(float64)
	return event["message"] == "API" && status == 404
}

// slowNote reports whether event's message says only that something was
// slow.
func slowNote(event map[string]any) bool {
	msg, _ := event["message"].(string)
	return strings.Contains(msg, " took ") || strings.HasPrefix(msg, "slow ") || strings.HasPrefix(msg, "long ")
}

// close restores os.Stderr and waits until every line written is logged.
func (l *engineLog) close() {
	os.Stderr = l.saved
	_ = l.w.Close()
	<-l.done
}
