package checks

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"time"
)

// Checker probes one target once. Implementations must return by ctx's
// deadline and must be safe for concurrent use by different goroutines
// (the Scheduler never runs the same Checker concurrently with itself, but
// a Checker value may be shared between ids).
type Checker interface {
	// Check runs one probe.
	Check(ctx context.Context) Result
	// String names the target for logs, e.g. "tcp 192.0.2.11:80".
	String() string
}

// Result is the outcome of one probe.
type Result struct {
	OK bool
	// Reason says why the probe failed (or, for OK results, may be empty):
	// "timeout", "connection refused", "status 503", "digest mismatch",
	// "exit 1", …
	Reason string
	// Weight is set by MISC_CHECK in dynamic mode (keepalived
	// misc_dynamic): exit code 2..255 → weight code-2. nil otherwise.
	Weight *int
	// Duration is how long the probe took.
	Duration time.Duration
}

// Reasons shared by several checkers.
const (
	ReasonTimeout = "timeout"
	ReasonRefused = "connection refused"
)

// errReason maps a network error to a short, stable reason for logs and
// State.Reason.
func errReason(err error) string {
	if err == nil {
		return ""
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return ReasonTimeout
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return ReasonRefused
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	}
	return err.Error()
}

// withTimeout bounds ctx by d when d > 0 and ctx does not already end
// sooner (the Scheduler's per-attempt deadline usually does: this saves a
// timer per attempt).
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

func ok(start time.Time) Result { return Result{OK: true, Duration: time.Since(start)} }

func fail(start time.Time, reason string) Result {
	return Result{Reason: reason, Duration: time.Since(start)}
}
