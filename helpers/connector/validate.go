package connector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// ErrInvalidSettings means the settings cannot describe a connection at all;
// checking them again will not help.
var ErrInvalidSettings = errors.New("invalid connector settings")

// errAuth marks a connector's refusal of the given credentials.
var errAuth = errors.New("authentication failed")

// checker connects with normalized settings and returns the server version.
type checker func(ctx context.Context, s Settings) (string, error)

// checkers holds the checker of every Type.
var checkers = map[Type]checker{
	TypePostgres:   checkPostgres,
	TypeMySQL:      checkMySQL,
	TypeRedis:      checkRedis,
	TypeAMQP:       checkAMQP,
	TypeFilesystem: checkFilesystem,
}

// Validate connects to the connector s describes, within s's timeout, and
// reports whether it worked. The error is non-nil only when s is invalid
// (wrapping ErrInvalidSettings) or when ctx ends before a verdict (wrapping
// ctx's error); every other failure is a Result with OK false.
func Validate(ctx context.Context, s Settings) (Result, error) {
	red := newRedactor(s)
	n, err := s.normalized()
	if err != nil {
		return Result{}, fmt.Errorf("%w: %s", ErrInvalidSettings, red.redact(err.Error()))
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("check %s connector: %w", n.Type, err)
	}
	checkCtx, cancel := context.WithTimeout(ctx, n.timeout())
	defer cancel()

	start := time.Now()
	version, err := checkers[n.Type](checkCtx, n)
	res := Result{LatencyMS: millis(time.Since(start))}
	switch {
	case err == nil:
		res.OK, res.ServerVersion = true, version
	case ctx.Err() != nil:
		return res, fmt.Errorf("check %s connector: %w", n.Type, ctx.Err())
	default:
		res.Error = red.redact(describe(checkCtx, n.timeout(), err))
	}
	return res, nil
}

// describe turns a check's error into the message a user reads, naming the
// usual causes plainly.
func describe(ctx context.Context, timeout time.Duration, err error) string {
	var dnsErr *net.DNSError
	switch {
	case expired(ctx) || isTimeout(err):
		return fmt.Sprintf("timed out after %s: %v", timeout, err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("connection refused: %v", err)
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("host not found: %v", err)
	default:
		return err.Error()
	}
}

// expired reports whether ctx's deadline has passed, even if its timer has
// not fired yet: a connection given the same deadline may fail first.
func expired(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ok && !time.Now().Before(deadline)
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}
