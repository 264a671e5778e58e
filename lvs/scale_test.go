//go:build linux

package lvs

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vipd/vipd/lvs/lvstest"
	"github.com/vipd/vipd/test/vm/vmnet"
)

// scaleStates is nSvc services (VIP 192.0.2.100, ports 1000…) with nReal
// real servers each (203.0.113.1…, same port).
func scaleStates(nSvc, nReal int) []ServiceState {
	out := make([]ServiceState, 0, nSvc)
	for i := range nSvc {
		port := uint16(1000 + i)
		st := ServiceState{Service: Service{Address: netip.AddrPortFrom(labVIP, port), Scheduler: "wrr"}}
		for j := range nReal {
			st.Reals = append(st.Reals, RealState{Real: Real{Address: netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(1 + j)}), port), Weight: 1 + j}, Healthy: true})
		}
		out = append(out, st)
	}
	return out
}

// measureScale applies 1,000 services × 10 real servers, then changes one
// real server, restarts, and flushes, checking the call counts and
// reporting the times.
func measureScale(t *testing.T, h ipvsHandle) {
	const nSvc, nReal = 1000, 10
	ctx := t.Context()
	desired := scaleStates(nSvc, nReal)
	r := NewReconciler(h, Config{})
	step := func(name string, fn func() error, want CallCounts) {
		t.Helper()
		before := r.Metrics().Snapshot()
		start := time.Now()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		took := time.Since(start)
		got := r.Metrics().Snapshot().Sub(before)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: kernel calls (-want +got):\n%s", name, diff)
		}
		t.Logf("lvs scale: %-40s %10v  %6d kernel calls (%d writes)", name, took.Round(time.Microsecond), got.Total(), got.Writes())
	}
	step("apply 1000 services x 10 real servers", func() error { return r.Reconcile(ctx, desired) },
		CallCounts{GetServices: 1, NewService: nSvc, NewDest: nSvc * nReal})
	desired[500].Reals[3].Healthy = false
	step("one real server fails", func() error { return r.Reconcile(ctx, desired) }, CallCounts{DelDest: 1})
	desired[500].Reals[3].Healthy = true
	desired[500].Reals[3].Weight = 42
	step("one real server back, new weight", func() error { return r.Reconcile(ctx, desired) }, CallCounts{NewDest: 1})
	step("nothing changed", func() error { return r.Reconcile(ctx, desired) }, CallCounts{})
	r = NewReconciler(h, Config{})
	step("restart: adopt 1000 services", func() error { return r.Reconcile(ctx, desired) }, CallCounts{GetServices: 1, GetDests: nSvc})
	step("flush", func() error { return r.Flush(ctx) }, CallCounts{DelService: nSvc})
}

func TestScaleFake(t *testing.T) {
	if testing.Short() {
		t.Skip("skip: scale measurement in -short mode")
	}
	measureScale(t, lvstest.New())
}

func TestKernelScale(t *testing.T) {
	requireKernel(t)
	measureScale(t, vmnet.New(t, "vlvs-scale").IPVS(t))
}

// BenchmarkReconcileFake measures a full apply of 1,000 × 10 and a
// one-server change against the fake.
func BenchmarkReconcileFake(b *testing.B) {
	desired := scaleStates(1000, 10)
	b.Run("apply-1000x10", func(b *testing.B) {
		for b.Loop() {
			if err := NewReconciler(lvstest.New(), Config{}).Reconcile(b.Context(), desired); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-server-change", func(b *testing.B) {
		r := NewReconciler(lvstest.New(), Config{})
		if err := r.Reconcile(b.Context(), desired); err != nil {
			b.Fatal(err)
		}
		down := scaleStates(1000, 10)
		down[500].Reals[3].Healthy = false
		before := r.Metrics().Snapshot()
		n := 0
		for b.Loop() {
			st := desired
			if n%2 == 0 {
				st = down
			}
			n++
			if err := r.Reconcile(b.Context(), st); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(r.Metrics().Snapshot().Sub(before).Total())/float64(n), "kernel-calls/op")
	})
}
