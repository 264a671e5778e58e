package providertest

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vipd/vipd/providers"
)

var vip = providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.100/24"), Interface: "eth0"}

func TestFakeRecordsAndHolds(t *testing.T) {
	ctx := context.Background()
	f := New("")
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.SetClock(func() time.Time { clock = clock.Add(time.Second); return clock })

	if f.Name() != "fake" {
		t.Errorf("Name() = %q, want %q", f.Name(), "fake")
	}
	steps := []struct {
		op       string
		call     func() error
		wantHeld bool
	}{
		{OpAcquire, func() error { return f.Acquire(ctx, vip) }, true},
		{OpAnnounce, func() error { return f.Announce(ctx, vip) }, true},
		{OpVerify, func() error { _, err := f.Verify(ctx, vip); return err }, true},
		{OpRelease, func() error { return f.Release(ctx, vip) }, false},
		{OpAcquire, func() error { return f.Acquire(ctx, vip) }, true},
		{OpCleanup, func() error { return f.Cleanup(ctx, vip) }, false},
	}
	var want []Call
	for i, s := range steps {
		if err := s.call(); err != nil {
			t.Fatalf("step %d %s: %v", i, s.op, err)
		}
		if got := f.Held(vip); got != s.wantHeld {
			t.Errorf("after step %d %s: Held = %v, want %v", i, s.op, got, s.wantHeld)
		}
		want = append(want, Call{Op: s.op, VIP: vip, At: time.Date(2026, 1, 2, 3, 4, 6+i, 0, time.UTC)})
	}
	if diff := cmp.Diff(want, f.Calls(), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("Calls() (-want +got):\n%s", diff)
	}
	if got := f.Count(OpAcquire); got != 2 {
		t.Errorf("Count(acquire) = %d, want 2", got)
	}
	if got := len(f.Calls(OpRelease, OpCleanup)); got != 2 {
		t.Errorf("len(Calls(release, cleanup)) = %d, want 2", got)
	}
}

func TestFakeFailNext(t *testing.T) {
	ctx := context.Background()
	f := New("aws")
	boom := &providers.CallError{Provider: "aws", Action: "AssignPrivateIpAddresses", Retryable: true, Err: errors.New("throttled")}
	f.FailNext(OpAcquire, 2, boom)

	var got []error
	for range 3 {
		got = append(got, f.Acquire(ctx, vip))
	}
	if diff := cmp.Diff([]error{boom, boom, nil}, got, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("Acquire results (-want +got):\n%s", diff)
	}
	// A failed Acquire does not hold the VIP; only the third did.
	calls := f.Calls(OpAcquire)
	if len(calls) != 3 || calls[0].Err != boom || calls[2].Err != nil {
		t.Errorf("recorded calls = %+v, want 2 failures then a success", calls)
	}
	// Failures are per op.
	if err := f.Release(ctx, vip); err != nil {
		t.Errorf("Release: %v, want nil (no failure queued for release)", err)
	}
}

func TestFakeLatencyAndCtx(t *testing.T) {
	f := New("")
	f.SetLatency(OpAcquire, time.Hour)
	f.SetLatency("", 20*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := f.Acquire(ctx, vip)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow Acquire = %v, want DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("slow Acquire returned after %v, want about the ctx timeout", el)
	}
	if f.Held(vip) {
		t.Error("Held after a timed-out Acquire")
	}

	start = time.Now()
	if err := f.Release(context.Background(), vip); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 20*time.Millisecond {
		t.Errorf("Release took %v, want at least the default latency 20ms", el)
	}
}

func TestFakeVerify(t *testing.T) {
	ctx := context.Background()
	f := New("")
	if o, _ := f.Verify(ctx, vip); o.Here {
		t.Errorf("Verify before Acquire = %+v, want Here false", o)
	}
	_ = f.Acquire(ctx, vip)
	if o, _ := f.Verify(ctx, vip); !o.Here {
		t.Errorf("Verify after Acquire = %+v, want Here true", o)
	}
	fixed := providers.Ownership{Here: false, Owner: "i-other", Detail: "HAVIP master i-other"}
	f.SetOwnership(fixed)
	o, err := f.Verify(ctx, vip)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fixed, o); diff != "" {
		t.Errorf("Verify with SetOwnership (-want +got):\n%s", diff)
	}
}

func TestFakeWaitFor(t *testing.T) {
	f := New("")
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- f.WaitFor(ctx, OpRelease, 2)
	}()
	for range 2 {
		_ = f.Release(context.Background(), vip)
	}
	if err := <-done; err != nil {
		t.Errorf("WaitFor: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := f.WaitFor(ctx, OpAcquire, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFor with no calls = %v, want DeadlineExceeded", err)
	}
}
