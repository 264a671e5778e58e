//go:build linux

package lvs

import (
	"regexp"
	"testing"
	"time"

	"github.com/vipd/vipd/test/vm/vmnet"
)

// TestKernelReconcile runs the reconcile table against the kernel's IPVS,
// in a fresh network namespace per case.
func TestKernelReconcile(t *testing.T) {
	requireKernel(t)
	runTable(t, func(t *testing.T) ipvsHandle { return vmnet.New(t, "vlvs-tbl").IPVS(t) })
}

// TestKernelPersistence checks that the kernel reads persistence and its
// granularity as meant (a round trip through netlink alone would not catch
// a byte-order mistake): /proc/net/ip_vs shows them.
func TestKernelPersistence(t *testing.T) {
	requireKernel(t)
	ns := vmnet.New(t, "vlvs-pers")
	r := NewReconciler(ns.IPVS(t), Config{})
	st := []ServiceState{{
		Service: Service{Address: vip1, Scheduler: "wlc", Persistence: 300 * time.Second, Netmask: 24},
		Reals:   []RealState{rs("192.0.2.11:80", 1, true)},
	}}
	if err := r.Reconcile(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	proc, err := ns.ReadFile("/proc/thread-self/net/ip_vs")
	if err != nil {
		t.Fatal(err)
	}
	// "TCP  C0000264:0050 wlc  persistent <jiffies> FFFFFF00": the mask
	// printed in host order.
	if want := regexp.MustCompile(`C0000264:0050 wlc +persistent [1-9][0-9]* FFFFFF00`); !want.MatchString(proc) {
		t.Errorf("/proc/net/ip_vs does not match %q:\n%s", want, proc)
	}
}
