//go:build linux

package lvs

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/lvs/lvstest"
)

var _ ipvsHandle = (*lvstest.Fake)(nil)

func TestReconcileFake(t *testing.T) {
	runTable(t, func(t *testing.T) ipvsHandle { return lvstest.New() })
}

func TestReconcileCallErrors(t *testing.T) {
	ctx := t.Context()
	f := lvstest.New()
	r := NewReconciler(f, Config{})
	desired := []ServiceState{
		svc(vip1, "rr", rs("192.0.2.11:80", 1, true), rs("192.0.2.12:80", 1, true)),
		svc(vip2, "rr", rs("192.0.2.21:443", 1, true)),
	}
	f.FailNext("NewDestination", syscall.ENOMEM)
	err := r.Reconcile(ctx, desired)
	if !errors.Is(err, syscall.ENOMEM) {
		t.Fatalf("Reconcile with a failing NewDestination: %v, want ENOMEM", err)
	}
	// The other destinations and the other service were still applied.
	if got := len(dumpTable(t, f)); got != 4 {
		t.Errorf("after one failed call the table has %d lines, want 4: %q", got, dumpTable(t, f))
	}
	if got := r.Metrics().Snapshot().Errors; got != 1 {
		t.Errorf("Errors = %d, want 1", got)
	}
	f.ResetCalls()
	if err := r.Reconcile(ctx, desired); err != nil {
		t.Fatalf("second Reconcile: %v", err)
	}
	want := []lvstest.Call{
		{Op: "GetServices"},
		{Op: "GetDestinations", Service: "TCP 192.0.2.100:80"},
		{Op: "GetDestinations", Service: "TCP 192.0.2.101:443"},
		{Op: "NewDestination", Service: "TCP 192.0.2.100:80", Dest: "192.0.2.11:80"},
	}
	got := f.Calls()
	slices.SortFunc(got[1:3], func(a, b lvstest.Call) int { return strings.Compare(a.Service, b.Service) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls after the failure (-want +got):\n%s", diff)
	}

	// A failing read leaves the kernel alone and reports it.
	r2 := NewReconciler(f, Config{})
	f.FailNext("GetServices", syscall.EPERM)
	f.ResetCalls()
	if err := r2.Reconcile(ctx, desired); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("Reconcile with a failing GetServices: %v, want EPERM", err)
	}
	if diff := cmp.Diff([]lvstest.Call{{Op: "GetServices"}}, f.Calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestReconcileCanceled(t *testing.T) {
	f := lvstest.New()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := NewReconciler(f, Config{}).Reconcile(ctx, []ServiceState{svc(vip1, "rr", rs("192.0.2.11:80", 1, true))})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Reconcile with a canceled context: %v, want context.Canceled", err)
	}
	if got := dumpTable(t, f); len(got) != 0 {
		t.Errorf("a canceled Reconcile changed the table: %q", got)
	}
}

func TestReconcileRejectsBadInput(t *testing.T) {
	f := lvstest.New()
	r := NewReconciler(f, Config{})
	bad := svc(vip1, "fastest", rs("192.0.2.11:80", 1, true))
	if err := r.Reconcile(t.Context(), []ServiceState{bad}); err == nil || !strings.Contains(err.Error(), "scheduler") {
		t.Fatalf("Reconcile(unknown scheduler) = %v, want a scheduler error", err)
	}
	if got := f.Calls(); len(got) != 0 {
		t.Errorf("bad input reached the kernel: %v", got)
	}
}

func TestStatus(t *testing.T) {
	f := lvstest.New()
	r := NewReconciler(f, Config{})
	st := svc(vip1, "wrr", rs("192.0.2.11:80", 3, true), inhibit(rs("192.0.2.12:80", 2, false)), rs("192.0.2.13:80", 1, false))
	st.Sorry = netip.MustParseAddrPort("192.0.2.99:80")
	linked := svc(vip2, "rr", rs("192.0.2.21:443", 1, true))
	linked.Instance = "VI_1"
	if err := r.Reconcile(t.Context(), []ServiceState{st, linked}); err != nil {
		t.Fatal(err)
	}
	got, err := r.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []ServiceStatus{
		{Service: "TCP 192.0.2.100:80", Scheduler: "wrr", Programmed: true, QuorumUp: true, Reals: []RealStatus{
			{Address: netip.MustParseAddrPort("192.0.2.11:80"), Weight: 3, KernelWeight: 3, Healthy: true},
			{Address: netip.MustParseAddrPort("192.0.2.12:80"), Weight: 2, KernelWeight: 0},
			{Address: netip.MustParseAddrPort("192.0.2.13:80"), Weight: 1, KernelWeight: -1},
			{Address: netip.MustParseAddrPort("192.0.2.99:80"), Weight: 1, KernelWeight: -1, Sorry: true},
		}},
		{Service: "TCP 192.0.2.101:443", Scheduler: "rr", Instance: "VI_1", QuorumUp: true, Reals: []RealStatus{
			{Address: netip.MustParseAddrPort("192.0.2.21:443"), Weight: 1, KernelWeight: -1, Healthy: true},
		}},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("Status (-want +got):\n%s", diff)
	}
}

func TestSetActiveBeforeReconcile(t *testing.T) {
	f := lvstest.New()
	r := NewReconciler(f, Config{})
	if err := r.SetActive(t.Context(), "VI_1", true); err != nil {
		t.Fatal(err)
	}
	if got := f.Calls(); len(got) != 0 {
		t.Errorf("SetActive without a desired state called the kernel: %v", got)
	}
	linked := svc(vip1, "rr", rs("192.0.2.11:80", 1, true))
	linked.Instance = "VI_1"
	if err := r.Reconcile(t.Context(), []ServiceState{linked}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"TCP 192.0.2.100:80 -> 192.0.2.11:80 NAT w=1", "TCP 192.0.2.100:80 rr"}, dumpTable(t, f)); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}
