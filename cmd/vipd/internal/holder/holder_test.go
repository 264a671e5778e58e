package holder

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/providertest"
)

var testVIP = providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.100/24"), Interface: "eth0"}

// Every test runs in a synctest bubble: the holder's timers (backoff,
// verify, drift) and the tests' waits run on the bubble's fake clock, which
// moves only when every goroutine is blocked, so the outcome does not depend
// on how busy the machine is.

// newTestHolder starts a holder (inside the caller's bubble).
func newTestHolder(t *testing.T, cloud bool) (*Holder, *providertest.Fake, *providertest.Fake, context.CancelFunc) {
	t.Helper()
	local := providertest.New("local")
	var c *providertest.Fake
	var cp providers.Provider
	if cloud {
		c = providertest.New("cloud")
		cp = c
	}
	h := New(slog.New(slog.NewTextHandler(io.Discard, nil)), []providers.VIP{testVIP}, local, cp, Options{})
	h.backoff = providers.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond, Multiplier: 2}
	h.verifyEvery = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("holder did not stop")
		}
	})
	return h, local, c, cancel
}

// waitState polls the holder's state; the deadline is fake time.
func waitState(t *testing.T, h *Holder, want State) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		st := h.Status().State
		if st == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("provider state %q, want %q", st, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestHolderAcquiresOnMasterAndReleasesOnBackup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, local, _, _ := newTestHolder(t, false)
		h.SetMaster(true)
		waitState(t, h, Confirmed)
		if !local.Held(testVIP) {
			t.Fatal("vip not held after master")
		}
		h.SetMaster(false)
		waitState(t, h, Released)
		if local.Held(testVIP) {
			t.Fatal("vip still held after backup")
		}
		if n := local.Count(providertest.OpAcquire); n != 1 {
			t.Fatalf("acquire calls = %d, want 1", n)
		}
	})
}

func TestHolderRetriesCloudUntilSuccessThenConfirms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _, cloud, _ := newTestHolder(t, true)
		retryable := &providers.CallError{Provider: "cloud", Action: "Assign", Code: "Throttling", Retryable: true, Err: context.DeadlineExceeded}
		cloud.FailNext(providertest.OpAcquire, 3, retryable)
		var confirmed atomic.Int64
		h.onConfirm = func(d time.Duration) { confirmed.Store(int64(d)) }
		h.SetMaster(true)
		waitState(t, h, Confirmed)
		if n := cloud.Count(providertest.OpAcquire); n != 4 {
			t.Fatalf("cloud acquire calls = %d, want 4 (3 throttled + 1)", n)
		}
		if confirmed.Load() <= 0 {
			t.Fatal("onConfirm not called")
		}
	})
}

func TestHolderStaysPendingUntilCloudConfirms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _, cloud, _ := newTestHolder(t, true)
		cloud.SetOwnership(providers.Ownership{Here: false, Owner: "i-other"})
		h.SetMaster(true)
		waitState(t, h, Pending)
		if err := cloud.WaitFor(context.Background(), providertest.OpVerify, 3); err != nil {
			t.Fatal(err)
		}
		if st := h.Status().State; st != Pending {
			t.Fatalf("state %q while cloud says elsewhere, want pending", st)
		}
		cloud.SetOwnership(providers.Ownership{Here: true})
		waitState(t, h, Confirmed)
	})
}

func TestHolderStopsRetryingWhenNoLongerMaster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _, cloud, _ := newTestHolder(t, true)
		retryable := &providers.CallError{Provider: "cloud", Action: "Assign", Retryable: true, Err: context.DeadlineExceeded}
		cloud.FailNext(providertest.OpAcquire, 1000, retryable)
		h.SetMaster(true)
		if err := cloud.WaitFor(context.Background(), providertest.OpAcquire, 2); err != nil {
			t.Fatal(err)
		}
		h.SetMaster(false)
		waitState(t, h, Released)
		n := cloud.Count(providertest.OpAcquire)
		time.Sleep(50 * time.Millisecond)
		if m := cloud.Count(providertest.OpAcquire); m != n {
			t.Fatalf("acquire retried after leaving master: %d → %d calls", n, m)
		}
	})
}

func TestHolderRepairsDrift(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _, cloud, _ := newTestHolder(t, true)
		h.driftInterval = 10 * time.Millisecond
		h.SetMaster(true)
		waitState(t, h, Confirmed)
		before := cloud.Count(providertest.OpAcquire)
		// A backup's transient takeover moves the VIP away at the cloud.
		if err := cloud.Release(context.Background(), testVIP); err != nil {
			t.Fatal(err)
		}
		if err := cloud.WaitFor(context.Background(), providertest.OpAcquire, before+1); err != nil {
			t.Fatal(err)
		}
		waitState(t, h, Confirmed)
		if !cloud.Held(testVIP) {
			t.Fatal("drift not repaired")
		}
	})
}

func TestHolderFenceDoesNotFight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _, cloud, _ := newTestHolder(t, true)
		h.driftInterval = 10 * time.Millisecond
		var heard atomic.Bool
		h.fenced = heard.Load
		h.SetMaster(true)
		waitState(t, h, Confirmed)
		heard.Store(true) // a higher-priority master is heard while we are master
		before := cloud.Count(providertest.OpAcquire)
		if err := cloud.Release(context.Background(), testVIP); err != nil {
			t.Fatal(err)
		}
		waitState(t, h, Fenced)
		if n := cloud.Count(providertest.OpAcquire); n != before {
			t.Fatalf("fenced node called acquire %d more times", n-before)
		}
	})
}

func TestHolderFenceWaitsBeforeTakingOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _, cloud, _ := newTestHolder(t, true)
		var heard atomic.Bool
		heard.Store(true)
		h.fenced = heard.Load
		cloud.SetOwnership(providers.Ownership{Here: false, Owner: "i-peer"})
		h.SetMaster(true)
		waitState(t, h, Fenced)
		if err := cloud.WaitFor(context.Background(), providertest.OpVerify, 3); err != nil {
			t.Fatal(err)
		}
		if n := cloud.Count(providertest.OpAcquire); n != 0 {
			t.Fatalf("fenced node wrote to the cloud %d times", n)
		}
		// The higher-priority master stays silent: a real failure, take over.
		heard.Store(false)
		cloud.SetOwnership(providers.Ownership{Here: true})
		waitState(t, h, Confirmed)
		if n := cloud.Count(providertest.OpAcquire); n != 1 {
			t.Fatalf("acquire calls = %d, want 1", n)
		}
	})
}

func TestHolderFencedTermEndsWithoutWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _, cloud, _ := newTestHolder(t, true)
		h.fenced = func() bool { return true }
		cloud.SetOwnership(providers.Ownership{Here: false, Owner: "i-peer"})
		h.SetMaster(true)
		waitState(t, h, Fenced)
		h.SetMaster(false) // the partition healed: the router went back to backup
		waitState(t, h, Released)
		if n := cloud.Count(providertest.OpAcquire); n != 0 {
			t.Fatalf("fenced node wrote to the cloud %d times", n)
		}
	})
}

func TestHolderRetriesLocalAcquireAndReportsError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, local, _, _ := newTestHolder(t, false)
		local.FailNext(providertest.OpAcquire, 3, errors.New("operation not permitted"))
		h.SetMaster(true)
		waitState(t, h, Error)
		if e := h.Status().LastErr; !strings.Contains(e, "operation not permitted") || !strings.Contains(e, testVIP.Prefix.String()) {
			t.Fatalf("error %q does not name the VIP and the cause", e)
		}
		waitState(t, h, Confirmed)
		if n := local.Count(providertest.OpAcquire); n != 4 {
			t.Fatalf("local acquire calls = %d, want 4", n)
		}
	})
}

func TestHolderSetVIPsWhileMasterAddsAndRemovesInPlace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, local, _, _ := newTestHolder(t, false)
		h.SetMaster(true)
		waitState(t, h, Confirmed)
		second := providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.101/32"), Interface: "eth0"}
		h.SetVIPs([]providers.VIP{testVIP, second})
		deadline := time.Now().Add(3 * time.Second)
		for !local.Held(second) {
			if time.Now().After(deadline) {
				t.Fatal("added vip not acquired while master")
			}
			time.Sleep(2 * time.Millisecond)
		}
		h.SetVIPs([]providers.VIP{second})
		for local.Held(testVIP) {
			if time.Now().After(deadline) {
				t.Fatal("removed vip still held")
			}
			time.Sleep(2 * time.Millisecond)
		}
		// The unchanged VIP was never released nor acquired again.
		if n := len(local.Calls(providertest.OpRelease)); n != 1 {
			t.Errorf("release calls = %d, want 1 (the removed vip only)", n)
		}
		if n := local.Count(providertest.OpAcquire); n != 2 {
			t.Errorf("acquire calls = %d, want 2 (one per vip)", n)
		}
		if !local.Held(second) {
			t.Error("the kept vip is no longer held")
		}
	})
}

func TestHolderDryRunShowsDryRunAndWaitsForNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		local, cloud := providertest.New("local"), providertest.New("cloud")
		cloud.SetOwnership(providers.Ownership{Here: false, Owner: "i-peer"}) // nothing moves in a dry run
		h := New(slog.New(slog.NewTextHandler(io.Discard, nil)), []providers.VIP{testVIP}, local, cloud,
			Options{Holder: plan.Holder{DryRun: true, DriftInterval: time.Millisecond}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { h.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		h.SetMaster(true)
		waitState(t, h, DryRun)
		time.Sleep(20 * time.Millisecond)
		if n := cloud.Count(providertest.OpVerify); n != 0 {
			t.Errorf("dry run verified %d times (drift or confirmation), want none", n)
		}
	})
}
