package providers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
)

// CallError is how every cloud provider reports a failed API call, so that the
// shared retry loop can log the request id and error code and decide whether
// to retry.
type CallError struct {
	Provider  string // "aws", "aliyun", "tencent"
	Action    string // API action, e.g. "AssignPrivateIpAddresses"
	RequestID string // the cloud's request id, when the response carried one
	Code      string // the cloud's error code, e.g. "RequestLimitExceeded"
	HTTPCode  int    // HTTP status, 0 when the call never got a response
	Retryable bool   // throttling, 5xx, network errors: true; auth or bad parameters: false
	Err       error
}

func (e *CallError) Error() string {
	s := fmt.Sprintf("%s: %s", e.Provider, e.Action)
	if e.Code != "" {
		s += " code=" + e.Code
	}
	if e.RequestID != "" {
		s += " request_id=" + e.RequestID
	}
	return s + ": " + e.Err.Error()
}

func (e *CallError) Unwrap() error { return e.Err }

// Backoff is an exponential backoff with full jitter.
type Backoff struct {
	Initial    time.Duration // first delay, e.g. 200ms
	Max        time.Duration // cap on one delay, e.g. 10s
	Multiplier float64       // growth per attempt, e.g. 2
	Jitter     float64       // 0..1: share of each delay that is randomised
}

// DefaultBackoff is used when a provider's config does not set one.
var DefaultBackoff = Backoff{Initial: 200 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2, Jitter: 0.5}

// Delay returns the wait before retry number attempt (1-based). rnd returns a
// number in [0,1); it is a parameter so tests are deterministic.
func (b Backoff) Delay(attempt int, rnd func() float64) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := float64(b.Initial)
	for i := 1; i < attempt && (b.Max <= 0 || d < float64(b.Max)); i++ {
		d *= b.Multiplier
	}
	if b.Max > 0 && d > float64(b.Max) {
		d = float64(b.Max)
	}
	j := b.Jitter
	if j < 0 {
		j = 0
	} else if j > 1 {
		j = 1
	}
	d = d*(1-j) + d*j*rnd()
	return time.Duration(d)
}

// Retry calls fn until it succeeds, returns a non-retryable error, or ctx
// ends. Each call gets its own deadline of callTimeout (0: no extra deadline).
// Every failed attempt is logged with the provider's request id and error
// code when fn returned a *CallError.
func Retry(ctx context.Context, log *slog.Logger, b Backoff, callTimeout time.Duration, op string, fn func(ctx context.Context) error) error {
	for attempt := 1; ; attempt++ {
		cctx, cancel := ctx, context.CancelFunc(func() {})
		if callTimeout > 0 {
			cctx, cancel = context.WithTimeout(ctx, callTimeout)
		}
		err := fn(cctx)
		cancel()
		if err == nil {
			if attempt > 1 {
				log.Info("provider call succeeded after retries", "op", op, "attempts", attempt)
			}
			return nil
		}
		retry := IsRetryable(err)
		attrs := []any{"op", op, "attempt", attempt, "retry", retry, "err", err}
		var ce *CallError
		if errors.As(err, &ce) {
			attrs = append(attrs, "action", ce.Action, "request_id", ce.RequestID, "code", ce.Code)
		}
		log.Warn("provider call failed", attrs...)
		if !retry {
			return err
		}
		t := time.NewTimer(b.Delay(attempt, rand.Float64))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: gave up after %d attempts: %w (last error: %v)", op, attempt, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// IsRetryable reports whether err is worth another attempt: a *CallError says
// so itself; a deadline on one call is retryable; anything else is not.
func IsRetryable(err error) bool {
	var ce *CallError
	if errors.As(err, &ce) {
		return ce.Retryable
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// Writer guards the calls that change cloud state, so dry-run lives in one
// place: with DryRun set it logs the call it would make and does nothing.
type Writer struct {
	DryRun bool
	Log    *slog.Logger
}

// Do runs fn unless in dry-run mode. params are logged as key/value pairs.
func (w Writer) Do(ctx context.Context, action string, params []any, fn func(ctx context.Context) error) error {
	if w.DryRun {
		w.Log.Info("dry-run: would call", append([]any{"action", action}, params...)...)
		return nil
	}
	w.Log.Info("provider write", append([]any{"action", action}, params...)...)
	countWrite(ctx)
	return fn(ctx)
}

// Redact replaces every occurrence of each non-empty secret in s (access
// key ids, session tokens, secrets) by "[redacted]". Providers apply it to
// server messages before they reach an error or a log line.
func Redact(s string, secrets ...string) string {
	for _, x := range secrets {
		if len(x) >= 4 {
			s = strings.ReplaceAll(s, x, "[redacted]")
		}
	}
	return s
}
