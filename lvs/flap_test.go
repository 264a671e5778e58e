//go:build linux

package lvs

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vipd/vipd/lvs/lvstest"
	"github.com/vipd/vipd/test/vm/vmnet"
)

// expectTable is an independent model of what the kernel table must hold
// for desired (quorum 1, no hysteresis): healthy servers with their weight,
// inhibited unhealthy ones at weight 0, and the sorry server alone (plus
// inhibited servers at 0) when no healthy weight is left.
func expectTable(desired []ServiceState) map[string]string {
	out := map[string]string{}
	for _, st := range desired {
		k := st.Key().String()
		out[k] = st.scheduler()
		sum := 0
		for _, r := range st.Reals {
			if r.Healthy {
				sum += r.Weight
			}
		}
		sorry := sum < 1 && st.Sorry.IsValid()
		for _, r := range st.Reals {
			switch {
			case r.Healthy && !sorry:
				out[k+" -> "+r.Address.String()] = fmt.Sprint(r.Weight)
			case r.InhibitOnFailure:
				out[k+" -> "+r.Address.String()] = "0"
			}
		}
		if sorry {
			out[k+" -> "+st.Sorry.String()] = "1"
		}
	}
	return out
}

// diffSize is the number of kernel writes that turn table a into b: one
// per added, changed or removed destination, one per added or changed
// service, one per removed service (its destinations go with it).
func diffSize(a, b map[string]string) int {
	n := 0
	removedSvc := map[string]bool{}
	for k := range a {
		if _, ok := b[k]; !ok && !isDest(k) {
			removedSvc[k] = true
			n++
		}
	}
	for k, v := range a {
		if w, ok := b[k]; !ok {
			if isDest(k) && !removedSvc[svcOf(k)] {
				n++
			}
		} else if v != w {
			n++
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			n++
		}
	}
	return n
}

func isDest(k string) bool  { _, _, ok := cutArrow(k); return ok }
func svcOf(k string) string { s, _, _ := cutArrow(k); return s }
func cutArrow(k string) (string, string, bool) {
	for i := 0; i+4 <= len(k); i++ {
		if k[i:i+4] == " -> " {
			return k[:i], k[i+4:], true
		}
	}
	return k, "", false
}

// kernelTable reads h into the model's form.
func kernelTable(t *testing.T, h ipvsHandle) map[string]string {
	t.Helper()
	out := map[string]string{}
	svcs, err := h.GetServices()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs {
		k, p, _ := fromIPVS(s)
		out[k.String()] = p.Scheduler
		ds, err := h.GetDestinations(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			a, dp, _ := fromIPVSDest(d)
			out[k.String()+" -> "+a.String()] = fmt.Sprint(dp.Weight)
		}
	}
	return out
}

// runFlaps applies a seeded random walk of health flaps, weight and
// scheduler changes, inhibit toggles and services coming and going, and
// checks after every step that the table matches the model and that the
// reconciler made exactly the minimal number of writes.
func runFlaps(t *testing.T, h ipvsHandle, steps int) {
	rng := rand.New(rand.NewPCG(7, 7))
	all := make([]ServiceState, 6)
	for i := range all {
		st := ServiceState{Service: Service{Address: netip.AddrPortFrom(labVIP, uint16(8000+i)), Scheduler: "wrr"}}
		for j := range 4 {
			st.Reals = append(st.Reals, RealState{Real: Real{Address: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(11 + j)}), uint16(8000+i)), Weight: 1 + j}, Healthy: true})
		}
		if i%2 == 0 {
			st.Sorry = netip.AddrPortFrom(netip.MustParseAddr("192.0.2.99"), uint16(8000+i))
		}
		all[i] = st
	}
	present := []bool{true, true, true, true, false, false}
	r := NewReconciler(h, Config{})
	prev := map[string]string{}
	for n := range steps {
		switch op := rng.IntN(10); {
		case op < 6: // a health flap
			s := &all[rng.IntN(len(all))]
			rr := &s.Reals[rng.IntN(len(s.Reals))]
			rr.Healthy = !rr.Healthy
		case op == 6:
			s := &all[rng.IntN(len(all))]
			s.Reals[rng.IntN(len(s.Reals))].Weight = rng.IntN(5)
		case op == 7:
			s := &all[rng.IntN(len(all))]
			rr := &s.Reals[rng.IntN(len(s.Reals))]
			rr.InhibitOnFailure = !rr.InhibitOnFailure
		case op == 8:
			s := &all[rng.IntN(len(all))]
			s.Scheduler = []string{"rr", "wrr", "wlc", "sh"}[rng.IntN(4)]
		default:
			i := rng.IntN(len(all))
			present[i] = !present[i]
		}
		var desired []ServiceState
		for i, st := range all {
			if present[i] {
				st.Reals = slices.Clone(st.Reals)
				desired = append(desired, st)
			}
		}
		before := r.Metrics().Snapshot()
		if err := r.Reconcile(t.Context(), desired); err != nil {
			t.Fatalf("step %d: %v", n, err)
		}
		want := expectTable(desired)
		if diff := cmp.Diff(want, kernelTable(t, h)); diff != "" {
			t.Fatalf("step %d: table (-want +got):\n%s", n, diff)
		}
		if got, min := r.Metrics().Snapshot().Sub(before).Writes(), uint64(diffSize(prev, want)); got != min {
			t.Fatalf("step %d: %d kernel writes, the minimal diff is %d", n, got, min)
		}
		prev = want
	}
}

func TestReconcileFlapsFake(t *testing.T) { runFlaps(t, lvstest.New(), 500) }

func TestKernelReconcileFlaps(t *testing.T) {
	requireKernel(t)
	runFlaps(t, vmnet.New(t, "vlvs-flaps").IPVS(t), 500)
}
