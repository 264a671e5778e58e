package providertest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/vipd/vipd/providers"
)

// Operation names, as recorded in Call.Op and accepted by FailNext and
// SetLatency.
const (
	OpAcquire  = "acquire"
	OpRelease  = "release"
	OpVerify   = "verify"
	OpAnnounce = "announce"
	OpCleanup  = "cleanup"
)

var (
	_ providers.Provider  = (*Fake)(nil)
	_ providers.Verifier  = (*Fake)(nil)
	_ providers.Announcer = (*Fake)(nil)
	_ providers.Cleaner   = (*Fake)(nil)
)

// Call is one recorded call.
type Call struct {
	Op  string        // one of the Op constants
	VIP providers.VIP // the VIP it was called with
	At  time.Time     // when the call started (Fake's clock)
	Err error         // what the call returned
}

// Fake is an in-memory provider. It records every call, can fail or slow
// down chosen operations, and keeps which VIPs it holds: a successful
// Acquire holds a VIP, a successful Release or Cleanup drops it. Safe for
// concurrent use.
type Fake struct {
	name string

	mu        sync.Mutex
	now       func() time.Time
	calls     []Call                   // in order of completion
	fail      map[string][]error       // queued errors by op
	latency   map[string]time.Duration // by op; "" applies to every op
	held      map[string]bool          // by VIP.String()
	ownership *providers.Ownership     // fixed Verify answer; nil: derived from held
	changed   chan struct{}            // closed and replaced on every recorded call
}

// New returns a Fake whose Name is name ("fake" when empty).
func New(name string) *Fake {
	if name == "" {
		name = "fake"
	}
	return &Fake{
		name:    name,
		now:     time.Now,
		fail:    map[string][]error{},
		latency: map[string]time.Duration{},
		held:    map[string]bool{},
		changed: make(chan struct{}),
	}
}

// Name implements providers.Provider.
func (f *Fake) Name() string { return f.name }

// FailNext makes the next n calls of op return err (queued after any
// failures already set for op).
func (f *Fake) FailNext(op string, n int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.fail[op] = append(f.fail[op], err)
	}
}

// SetLatency makes every later call of op ("" for every op) take d, or until
// its ctx ends, whichever is first. A per-op value wins over "".
func (f *Fake) SetLatency(op string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency[op] = d
}

// SetOwnership fixes what Verify returns for every VIP. Without it, Verify
// reports Here when the Fake holds the VIP.
func (f *Fake) SetOwnership(o providers.Ownership) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ownership = &o
}

// SetClock replaces the clock that stamps Call.At.
func (f *Fake) SetClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// Acquire implements providers.Provider.
func (f *Fake) Acquire(ctx context.Context, vip providers.VIP) error {
	return f.do(ctx, OpAcquire, vip, func() { f.held[vip.String()] = true })
}

// Release implements providers.Provider.
func (f *Fake) Release(ctx context.Context, vip providers.VIP) error {
	return f.do(ctx, OpRelease, vip, func() { delete(f.held, vip.String()) })
}

// Announce implements providers.Announcer.
func (f *Fake) Announce(ctx context.Context, vip providers.VIP) error {
	return f.do(ctx, OpAnnounce, vip, func() {})
}

// Cleanup implements providers.Cleaner.
func (f *Fake) Cleanup(ctx context.Context, vip providers.VIP) error {
	return f.do(ctx, OpCleanup, vip, func() { delete(f.held, vip.String()) })
}

// Verify implements providers.Verifier.
func (f *Fake) Verify(ctx context.Context, vip providers.VIP) (providers.Ownership, error) {
	var o providers.Ownership
	err := f.do(ctx, OpVerify, vip, func() {
		if f.ownership != nil {
			o = *f.ownership
			return
		}
		o = providers.Ownership{Here: f.held[vip.String()], Detail: "fake"}
	})
	return o, err
}

// do runs one call: latency, then an injected error or apply (under f.mu),
// then records it.
func (f *Fake) do(ctx context.Context, op string, vip providers.VIP, apply func()) error {
	f.mu.Lock()
	at := f.now()
	d, ok := f.latency[op]
	if !ok {
		d = f.latency[""]
	}
	f.mu.Unlock()

	var err error
	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			err = fmt.Errorf("fake: %s %s: %w", op, vip, ctx.Err())
		case <-t.C:
		}
		t.Stop()
	} else if ctx.Err() != nil {
		err = fmt.Errorf("fake: %s %s: %w", op, vip, ctx.Err())
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		if q := f.fail[op]; len(q) > 0 {
			err, f.fail[op] = q[0], q[1:]
		} else {
			apply()
		}
	}
	f.calls = append(f.calls, Call{Op: op, VIP: vip, At: at, Err: err})
	close(f.changed)
	f.changed = make(chan struct{})
	return err
}

// Calls returns a copy of every recorded call of the given ops (all calls
// when none is given), in order of completion.
func (f *Fake) Calls(ops ...string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if len(ops) == 0 || slices.Contains(ops, c.Op) {
			out = append(out, c)
		}
	}
	return out
}

// Count returns how many calls of op were recorded.
func (f *Fake) Count(op string) int { return len(f.Calls(op)) }

// Held reports whether the Fake currently holds vip.
func (f *Fake) Held(vip providers.VIP) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held[vip.String()]
}

// WaitFor blocks until at least n calls of op have been recorded or ctx ends,
// so tests of asynchronous callers need no sleeps.
func (f *Fake) WaitFor(ctx context.Context, op string, n int) error {
	for {
		f.mu.Lock()
		got := 0
		for _, c := range f.calls {
			if c.Op == op {
				got++
			}
		}
		ch := f.changed
		f.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("fake: waiting for %d %s calls, have %d: %w", n, op, got, ctx.Err())
		case <-ch:
		}
	}
}
