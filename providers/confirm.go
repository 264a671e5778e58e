package providers

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Confirm makes an Acquire whose write is asynchronous at the cloud finish
// what it started: after a write it polls Verify a bounded number of times
// and, when the cloud still does not point the VIP here, fails with a
// retryable *CallError (code NotConfirmed). The caller's retry loop
// (providers.Retry in the agent) then calls Acquire again, which re-reads
// the cloud and re-issues the write only if it is still needed; every
// write vipd makes is idempotent (AllowReassignment, ReplaceRoute, …), so a
// re-issued write that races a late confirmation is harmless.
//
// This is how a write that the cloud accepted and then lost (an
// asynchronous task that failed after the call returned) is repaired
// without the agent ever repeating a write itself: the agent waits on
// Verify only after Acquire returned nil, i.e. after the provider saw the
// VIP here (or made no write at all: dry-run, nothing to do).
type Confirm struct {
	// Polls is how many Verify calls follow a write before giving up on
	// this attempt (default 8).
	Polls int
	// Interval is the wait between two polls (default 500ms); the first
	// poll follows the write at once. No poll outlives the call's deadline.
	Interval time.Duration
}

func (c Confirm) withDefaults() Confirm {
	if c.Polls <= 0 {
		c.Polls = 8
	}
	if c.Interval <= 0 {
		c.Interval = 500 * time.Millisecond
	}
	return c
}

// Wrap returns md whose Acquire confirms its writes. provider names errors.
func (c Confirm) Wrap(provider, action string, md Mode) Mode {
	c = c.withDefaults()
	acquire, verify := md.Acquire, md.Verify
	md.Acquire = func(ctx context.Context, vip VIP) error {
		wctx, writes := CountWrites(ctx)
		if err := acquire(wctx, vip); err != nil {
			return err
		}
		if writes.Load() == 0 {
			return nil // nothing written (already here, or dry-run)
		}
		return c.wait(ctx, provider, action, vip, verify)
	}
	return md
}

func (c Confirm) wait(ctx context.Context, provider, action string, vip VIP, verify func(context.Context, VIP) (Ownership, error)) error {
	var last Ownership
	var lastErr error
	for i := 0; i < c.Polls; i++ {
		if i > 0 {
			t := time.NewTimer(c.Interval)
			select {
			case <-ctx.Done():
				t.Stop()
				return &CallError{Provider: provider, Action: action, Code: "NotConfirmed", Retryable: true,
					Err: fmt.Errorf("%s not confirmed after %d polls: %w (last: %s)", vip.Prefix, i, ctx.Err(), last.Detail)}
			case <-t.C:
			}
		}
		own, err := verify(ctx, vip)
		if err != nil {
			if !IsRetryable(err) {
				return err
			}
			lastErr = err
			continue
		}
		if own.Here {
			return nil
		}
		last = own
	}
	return &CallError{Provider: provider, Action: action, Code: "NotConfirmed", Retryable: true,
		Err: fmt.Errorf("%s not confirmed after %d polls, the write is re-issued on the next attempt (last: %s, last poll error: %v)", vip.Prefix, c.Polls, last.Detail, lastErr)}
}

type writeCountKey struct{}

// CountWrites returns a context under which every Writer.Do that makes its
// call (not in dry-run) adds one to the returned counter.
func CountWrites(ctx context.Context) (context.Context, *atomic.Int64) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, writeCountKey{}, n), n
}

func countWrite(ctx context.Context) {
	if n, ok := ctx.Value(writeCountKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
}

// MarkWrite counts one write on ctx's counter (see CountWrites), for a
// write made outside a Writer.
func MarkWrite(ctx context.Context) { countWrite(ctx) }
