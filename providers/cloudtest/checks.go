package cloudtest

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/providers"
)

// Takeover is one row of a provider's acquire/verify table: the VIP starts
// elsewhere, one Acquire moves it here. Check asserts what every cloud
// provider promises (providers.Provider, providers.Verifier): Verify reports
// WantBefore; Acquire makes exactly WantWrites; after them (and AfterWrite)
// Verify reports Here; a second Acquire makes no write; Release makes no
// call at all.
//
// W is how the provider's tests record one write request (action and the
// parameters that matter).
type Takeover[W any] struct {
	Provider CloudProvider
	Server   *Server
	VIP      providers.VIP
	// Writes returns the write requests recorded since Server.Reset.
	Writes     func() []W
	WantBefore providers.Ownership
	WantWrites []W
	// AfterWrite, when set, is what the cloud does after the writes (the
	// GARP moving a HAVIP).
	AfterWrite func()
}

// Check runs the takeover against the emulator.
func (tk Takeover[W]) Check(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	p, srv := tk.Provider, tk.Server
	got, err := p.Verify(ctx, tk.VIP)
	if err != nil {
		t.Fatalf("Verify before: %v", err)
	}
	if diff := cmp.Diff(tk.WantBefore, got); diff != "" {
		t.Errorf("Verify before (-want +got):\n%s", diff)
	}
	srv.Reset()
	if err := p.Acquire(ctx, tk.VIP); err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	if diff := cmp.Diff(tk.WantWrites, tk.Writes()); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	if tk.AfterWrite != nil {
		tk.AfterWrite()
	}
	got, err = p.Verify(ctx, tk.VIP)
	if err != nil {
		t.Fatalf("Verify after: %v", err)
	}
	if !got.Here {
		t.Errorf("Verify after Acquire: not here: %+v", got)
	}
	// Idempotent: the cloud points here, a second Acquire writes nothing.
	srv.Reset()
	if err := p.Acquire(ctx, tk.VIP); err != nil {
		t.Fatalf("second Acquire: %v", err)
	}
	if w := tk.Writes(); len(w) != 0 {
		t.Errorf("second Acquire wrote %v, want no write", w)
	}
	CheckReleaseNoCall(t, p, srv, tk.VIP)
}

// CheckReleaseNoCall asserts that Release succeeds without any API call
// (the next master takes the VIP over). It resets srv's record first.
func CheckReleaseNoCall(t testing.TB, p providers.Provider, srv *Server, vip providers.VIP) {
	t.Helper()
	srv.Reset()
	if err := p.Release(context.Background(), vip); err != nil {
		t.Errorf("Release: %v", err)
	}
	if a := srv.Actions(); len(a) != 0 {
		t.Errorf("Release called %v, want nothing", a)
	}
}

// CheckIPv6Rejected asserts that an IPv6 VIP fails Acquire and Verify with a
// permanent "only IPv4" error before any API call.
func CheckIPv6Rejected(t testing.TB, p CloudProvider, srv *Server) {
	t.Helper()
	srv.Reset()
	v6 := providers.VIP{Prefix: netip.MustParsePrefix("2001:db8::100/64")}
	if err := p.Acquire(context.Background(), v6); err == nil || providers.IsRetryable(err) || !strings.Contains(err.Error(), "only IPv4") {
		t.Errorf("Acquire(v6) = %v, want a permanent IPv4-only error", err)
	}
	if _, err := p.Verify(context.Background(), v6); err == nil {
		t.Errorf("Verify(v6) succeeded")
	}
	if len(srv.Requests()) != 0 {
		t.Errorf("v6 VIP reached the API: %v", srv.Actions())
	}
}

// CheckDeadlineBoundsCall asserts that an API call slower than its context
// (the emulator answers after 2s, the deadline is 100ms) returns within 1s
// with a retryable error that wraps context.DeadlineExceeded.
func CheckDeadlineBoundsCall(t testing.TB, p providers.Provider, srv *Server, vip providers.VIP) {
	t.Helper()
	srv.SetLatency(2 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.Acquire(ctx, vip)
	if el := time.Since(start); el > time.Second {
		t.Errorf("Acquire took %v, the context deadline was 100ms", el)
	}
	if !providers.IsRetryable(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire = %v, want a retryable deadline error", err)
	}
}

// RetryCase is one row of a provider's retry table: the next Fails answers
// to the write action are Resp, and Acquire runs through providers.Retry
// (1-5ms backoff, 1s per call, 10s in all).
type RetryCase struct {
	Name         string
	Resp         Response
	Fails        int
	WantErr      bool
	WantAttempts int // requests for the action, failed ones included
}

// Check runs the case: action is the write that fails.
func (rc RetryCase) Check(t testing.TB, p CloudProvider, srv *Server, vip providers.VIP, action string) {
	t.Helper()
	srv.FailNext(action, rc.Fails, rc.Resp)
	b := providers.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond, Multiplier: 2}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := providers.Retry(ctx, slog.New(slog.DiscardHandler), b, time.Second, "acquire", func(ctx context.Context) error { return p.Acquire(ctx, vip) })
	if (err != nil) != rc.WantErr {
		t.Fatalf("Retry = %v, wantErr %v", err, rc.WantErr)
	}
	if n := srv.Count(action); n != rc.WantAttempts {
		t.Errorf("%s sent %d times, want %d", action, n, rc.WantAttempts)
	}
	if !rc.WantErr {
		if o, err := p.Verify(ctx, vip); err != nil || !o.Here {
			t.Errorf("Verify = %+v, %v; want here", o, err)
		}
	}
}

// Handover is the pair on one emulated cloud: From holds the VIP, To (the
// backup becoming master) acquires it. Check asserts that To's Acquire makes
// exactly WantWrites, and that From's Verify then reports WantFrom (it names
// the new owner: what fencing and drift repair read).
type Handover[W any] struct {
	From, To CloudProvider
	Server   *Server
	VIP      providers.VIP
	// Writes returns the write requests recorded since Server.Reset.
	Writes     func() []W
	WantWrites []W
	WantFrom   providers.Ownership
}

// Check runs the handover against the emulator.
func (h Handover[W]) Check(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	h.Server.Reset()
	if err := h.To.Acquire(ctx, h.VIP); err != nil {
		t.Fatalf("backup Acquire: %v", err)
	}
	if diff := cmp.Diff(h.WantWrites, h.Writes()); diff != "" {
		t.Errorf("takeover writes (-want +got):\n%s", diff)
	}
	o, err := h.From.Verify(ctx, h.VIP)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(h.WantFrom, o); diff != "" {
		t.Errorf("old master's Verify (-want +got):\n%s", diff)
	}
}

// Locked returns fn applied to v with mu held, for a Takeover's AfterWrite
// or a Failover's Reset changing an emulator's state (nil when fn is nil).
func Locked[T any](mu sync.Locker, v T, fn func(T)) func() {
	if fn == nil {
		return nil
	}
	return func() {
		mu.Lock()
		defer mu.Unlock()
		fn(v)
	}
}
