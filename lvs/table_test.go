//go:build linux

package lvs

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/ipvs"
)

// This table runs against the in-memory fake (TestReconcileFake) and against
// the kernel in a VM (TestKernelReconcile), so the fake cannot drift.

var (
	vip1 = netip.MustParseAddrPort("192.0.2.100:80")
	vip2 = netip.MustParseAddrPort("192.0.2.101:443")
	vip6 = netip.MustParseAddrPort("[2001:db8::100]:53")
)

func rs(addr string, weight int, healthy bool) RealState {
	return RealState{Real: Real{Address: netip.MustParseAddrPort(addr), Weight: weight}, Healthy: healthy}
}

func inhibit(r RealState) RealState { r.InhibitOnFailure = true; return r }

func svc(addr netip.AddrPort, sched string, reals ...RealState) ServiceState {
	return ServiceState{Service: Service{Address: addr, Scheduler: sched}, Reals: reals}
}

type step struct {
	name    string
	restart bool                                           // a new Reconciler over the same table (vipd restarted)
	behind  func(h ipvsHandle) error                       // a change made behind vipd's back first
	op      func(ctx context.Context, r *Reconciler) error // default: Reconcile(desired)
	desired []ServiceState
	wantErr bool
	// wantCalls is the kernel calls of this step (counted by the reconciler).
	wantCalls CallCounts
	// wantTable is the whole kernel table afterwards (dumpTable).
	wantTable []string
	// wantQuorum lists the OnQuorum calls of this step.
	wantQuorum []string
}

type tableCase struct {
	name  string
	steps []step
}

func reconcileCases() []tableCase {
	web := func(r2Healthy bool) ServiceState {
		return svc(vip1, "rr", rs("192.0.2.11:80", 1, true), rs("192.0.2.12:80", 1, r2Healthy), rs("192.0.2.13:80", 1, true))
	}
	fwm := ServiceState{Service: Service{FWMark: 3, Scheduler: "wrr", Forwarding: DR},
		Reals: []RealState{rs("192.0.2.21:0", 2, true), rs("192.0.2.22:0", 3, true)}}
	webTable := func(r2 bool) []string {
		t := []string{"TCP 192.0.2.100:80 rr", "TCP 192.0.2.100:80 -> 192.0.2.11:80 NAT w=1", "TCP 192.0.2.100:80 -> 192.0.2.13:80 NAT w=1"}
		if r2 {
			t = append(t, "TCP 192.0.2.100:80 -> 192.0.2.12:80 NAT w=1")
		}
		return t
	}
	foreign := func(h ipvsHandle) error {
		s := &ipvs.Service{AddressFamily: syscall.AF_INET, Protocol: syscall.IPPROTO_TCP, Address: netip.MustParseAddr("203.0.113.9").AsSlice(), Port: 80, SchedName: "rr", Netmask: 0xffffffff}
		if err := h.NewService(s); err != nil {
			return err
		}
		return h.NewDestination(s, &ipvs.Destination{Address: netip.MustParseAddr("203.0.113.10").AsSlice(), Port: 80, Weight: 1})
	}
	foreignTable := []string{"TCP 203.0.113.9:80 rr", "TCP 203.0.113.9:80 -> 203.0.113.10:80 NAT w=1"}
	withSorry := func(st ServiceState) ServiceState { st.Sorry = netip.MustParseAddrPort("192.0.2.99:80"); return st }
	quorum := func(healthy int) ServiceState {
		st := svc(vip2, "wlc")
		for i := range 4 {
			st.Reals = append(st.Reals, rs(fmt.Sprintf("192.0.2.%d:443", 31+i), 1, i < healthy))
		}
		st.Quorum, st.Hysteresis = 3, 1
		return withSorry(st)
	}
	quorumTable := func(healthy int, sorry bool) []string {
		t := []string{"TCP 192.0.2.101:443 wlc"}
		if sorry {
			return append(t, "TCP 192.0.2.101:443 -> 192.0.2.99:80 NAT w=1")
		}
		for i := range healthy {
			t = append(t, fmt.Sprintf("TCP 192.0.2.101:443 -> 192.0.2.%d:443 NAT w=1", 31+i))
		}
		return t
	}
	linked := web(true)
	linked.Instance = "VI_1"
	activate := func(on bool) func(ctx context.Context, r *Reconciler) error {
		return func(ctx context.Context, r *Reconciler) error { return r.SetActive(ctx, "VI_1", on) }
	}

	return []tableCase{
		{name: "create, then nothing to do", steps: []step{
			{name: "create", desired: []ServiceState{web(true), fwm},
				wantCalls: CallCounts{GetServices: 1, NewService: 2, NewDest: 5},
				wantTable: append(webTable(true), "FWM 3 wrr", "FWM 3 -> 192.0.2.21:0 DR w=2", "FWM 3 -> 192.0.2.22:0 DR w=3")},
			{name: "same again", desired: []ServiceState{web(true), fwm},
				wantTable: append(webTable(true), "FWM 3 wrr", "FWM 3 -> 192.0.2.21:0 DR w=2", "FWM 3 -> 192.0.2.22:0 DR w=3")},
		}},
		{name: "a real server flaps: one call each way", steps: []step{
			{name: "create", desired: []ServiceState{web(true)}, wantCalls: CallCounts{GetServices: 1, NewService: 1, NewDest: 3}, wantTable: webTable(true)},
			{name: "down", desired: []ServiceState{web(false)}, wantCalls: CallCounts{DelDest: 1}, wantTable: webTable(false)},
			{name: "up", desired: []ServiceState{web(true)}, wantCalls: CallCounts{NewDest: 1}, wantTable: webTable(true)},
			{name: "weight", desired: []ServiceState{svc(vip1, "rr", rs("192.0.2.11:80", 1, true), rs("192.0.2.12:80", 5, true), rs("192.0.2.13:80", 1, true))},
				wantCalls: CallCounts{UpdateDest: 1},
				wantTable: []string{"TCP 192.0.2.100:80 rr", "TCP 192.0.2.100:80 -> 192.0.2.11:80 NAT w=1", "TCP 192.0.2.100:80 -> 192.0.2.12:80 NAT w=5", "TCP 192.0.2.100:80 -> 192.0.2.13:80 NAT w=1"}},
		}},
		{name: "inhibit_on_failure keeps the server with weight 0", steps: []step{
			{name: "create", desired: []ServiceState{svc(vip1, "wrr", inhibit(rs("192.0.2.11:80", 4, true)), rs("192.0.2.12:80", 1, true))},
				wantCalls: CallCounts{GetServices: 1, NewService: 1, NewDest: 2},
				wantTable: []string{"TCP 192.0.2.100:80 wrr", "TCP 192.0.2.100:80 -> 192.0.2.11:80 NAT w=4", "TCP 192.0.2.100:80 -> 192.0.2.12:80 NAT w=1"}},
			{name: "down", desired: []ServiceState{svc(vip1, "wrr", inhibit(rs("192.0.2.11:80", 4, false)), rs("192.0.2.12:80", 1, true))},
				wantCalls: CallCounts{UpdateDest: 1},
				wantTable: []string{"TCP 192.0.2.100:80 wrr", "TCP 192.0.2.100:80 -> 192.0.2.11:80 NAT w=0", "TCP 192.0.2.100:80 -> 192.0.2.12:80 NAT w=1"}},
			{name: "up", desired: []ServiceState{svc(vip1, "wrr", inhibit(rs("192.0.2.11:80", 4, true)), rs("192.0.2.12:80", 1, true))},
				wantCalls: CallCounts{UpdateDest: 1},
				wantTable: []string{"TCP 192.0.2.100:80 wrr", "TCP 192.0.2.100:80 -> 192.0.2.11:80 NAT w=4", "TCP 192.0.2.100:80 -> 192.0.2.12:80 NAT w=1"}},
		}},
		{name: "parameters change in place", steps: []step{
			{name: "create", desired: []ServiceState{web(true)}, wantCalls: CallCounts{GetServices: 1, NewService: 1, NewDest: 3}, wantTable: webTable(true)},
			{name: "scheduler, persistence, granularity", desired: func() []ServiceState {
				st := web(true)
				st.Scheduler, st.Persistence, st.Netmask = "sh", 300*time.Second, 24
				st.SchedFlags = SchedFlag1 | SchedFlag2
				return []ServiceState{st}
			}(), wantCalls: CallCounts{UpdateService: 1},
				wantTable: append([]string{"TCP 192.0.2.100:80 sh flags=0x19 persistence=300 mask=/24"}, webTable(true)[1:]...)},
			{name: "forwarding and thresholds", desired: func() []ServiceState {
				st := web(true)
				st.Reals[0].Forwarding = DR
				st.Reals[2].UpperThreshold, st.Reals[2].LowerThreshold = 100, 10
				return []ServiceState{st}
			}(), wantCalls: CallCounts{UpdateService: 1, UpdateDest: 2},
				wantTable: []string{"TCP 192.0.2.100:80 rr", "TCP 192.0.2.100:80 -> 192.0.2.11:80 DR w=1", "TCP 192.0.2.100:80 -> 192.0.2.12:80 NAT w=1", "TCP 192.0.2.100:80 -> 192.0.2.13:80 NAT w=1 u=100 l=10"}},
		}},
		{name: "restart adopts without touching the kernel", steps: []step{
			{name: "create", desired: []ServiceState{web(true), fwm}, wantCalls: CallCounts{GetServices: 1, NewService: 2, NewDest: 5},
				wantTable: append(webTable(true), "FWM 3 wrr", "FWM 3 -> 192.0.2.21:0 DR w=2", "FWM 3 -> 192.0.2.22:0 DR w=3")},
			{name: "restart", restart: true, desired: []ServiceState{web(true), fwm}, wantCalls: CallCounts{GetServices: 1, GetDests: 2},
				wantTable: append(webTable(true), "FWM 3 wrr", "FWM 3 -> 192.0.2.21:0 DR w=2", "FWM 3 -> 192.0.2.22:0 DR w=3")},
			{name: "restart with one server down", restart: true, desired: []ServiceState{web(false), fwm}, wantCalls: CallCounts{GetServices: 1, GetDests: 2, DelDest: 1},
				wantTable: append(webTable(false), "FWM 3 wrr", "FWM 3 -> 192.0.2.21:0 DR w=2", "FWM 3 -> 192.0.2.22:0 DR w=3")},
		}},
		{name: "foreign services are never touched", steps: []step{
			{name: "create beside a foreign service", behind: foreign, desired: []ServiceState{web(true)},
				wantCalls: CallCounts{GetServices: 1, NewService: 1, NewDest: 3}, wantTable: append(webTable(true), foreignTable...)},
			{name: "service removed from the config", desired: []ServiceState{}, wantCalls: CallCounts{DelService: 1}, wantTable: foreignTable},
			{name: "back", desired: []ServiceState{web(true)}, wantCalls: CallCounts{NewService: 1, NewDest: 3}, wantTable: append(webTable(true), foreignTable...)},
			{name: "flush", op: func(ctx context.Context, r *Reconciler) error { return r.Flush(ctx) }, wantCalls: CallCounts{DelService: 1}, wantTable: foreignTable},
			{name: "after restart, flush without a config owns nothing", restart: true, behind: func(h ipvsHandle) error {
				return h.NewService(toIPVS(vip1Key(), Service{Address: vip1, Scheduler: "rr"}.params()))
			}, op: func(ctx context.Context, r *Reconciler) error { return r.Flush(ctx) },
				wantCalls: CallCounts{GetServices: 1}, wantTable: append([]string{"TCP 192.0.2.100:80 rr"}, foreignTable...)},
			{name: "after restart, remove owned with the config's keys (vipd cleanup)", restart: true,
				op:        func(ctx context.Context, r *Reconciler) error { return r.RemoveOwned(ctx, vip1Key(), vip2Key()) },
				wantCalls: CallCounts{GetServices: 1, GetDests: 1, DelService: 1}, wantTable: foreignTable},
		}},
		{name: "flush all empties the table, foreign services too (lvs_flush)", steps: []step{
			{name: "create beside a foreign service", behind: foreign, desired: []ServiceState{web(true), fwm},
				wantCalls: CallCounts{GetServices: 1, NewService: 2, NewDest: 5},
				wantTable: append(append(webTable(true), "FWM 3 wrr", "FWM 3 -> 192.0.2.21:0 DR w=2", "FWM 3 -> 192.0.2.22:0 DR w=3"), foreignTable...)},
			{name: "flush all", op: func(ctx context.Context, r *Reconciler) error { return r.FlushAll(ctx) },
				wantCalls: CallCounts{GetServices: 1, DelService: 3}},
			{name: "reconcile programs from scratch", desired: []ServiceState{web(true)},
				wantCalls: CallCounts{GetServices: 1, NewService: 1, NewDest: 3}, wantTable: webTable(true)},
			{name: "remove owned", op: func(ctx context.Context, r *Reconciler) error { return r.RemoveOwned(ctx) },
				wantCalls: CallCounts{DelService: 1}},
		}},
		{name: "sorry server while no real server is healthy", steps: []step{
			{name: "all down at start", desired: []ServiceState{withSorry(svc(vip1, "rr", rs("192.0.2.11:80", 1, false), rs("192.0.2.12:80", 1, false)))},
				wantCalls: CallCounts{GetServices: 1, NewService: 1, NewDest: 1}, wantQuorum: []string{"TCP 192.0.2.100:80 down"},
				wantTable: []string{"TCP 192.0.2.100:80 rr", "TCP 192.0.2.100:80 -> 192.0.2.99:80 NAT w=1"}},
			{name: "one back", desired: []ServiceState{withSorry(svc(vip1, "rr", rs("192.0.2.11:80", 1, true), rs("192.0.2.12:80", 1, false)))},
				wantCalls: CallCounts{NewDest: 1, DelDest: 1}, wantQuorum: []string{"TCP 192.0.2.100:80 up"},
				wantTable: []string{"TCP 192.0.2.100:80 rr", "TCP 192.0.2.100:80 -> 192.0.2.11:80 NAT w=1"}},
			{name: "down again, inhibited servers stay at weight 0", desired: []ServiceState{withSorry(svc(vip1, "rr", inhibit(rs("192.0.2.11:80", 1, false)), rs("192.0.2.12:80", 1, false)))},
				wantCalls: CallCounts{NewDest: 1, UpdateDest: 1}, wantQuorum: []string{"TCP 192.0.2.100:80 down"},
				wantTable: []string{"TCP 192.0.2.100:80 rr", "TCP 192.0.2.100:80 -> 192.0.2.11:80 NAT w=0", "TCP 192.0.2.100:80 -> 192.0.2.99:80 NAT w=1"}},
		}},
		{name: "quorum with hysteresis", steps: []step{
			{name: "4 of 4", desired: []ServiceState{quorum(4)}, wantCalls: CallCounts{GetServices: 1, NewService: 1, NewDest: 4}, wantTable: quorumTable(4, false)},
			{name: "2 of 4 keeps quorum (3-1)", desired: []ServiceState{quorum(2)}, wantCalls: CallCounts{DelDest: 2}, wantTable: quorumTable(2, false)},
			{name: "1 of 4 loses it", desired: []ServiceState{quorum(1)}, wantCalls: CallCounts{NewDest: 1, DelDest: 2},
				wantQuorum: []string{"TCP 192.0.2.101:443 down"}, wantTable: quorumTable(0, true)},
			{name: "3 of 4 is not enough to regain (3+1)", desired: []ServiceState{quorum(3)}, wantTable: quorumTable(0, true)},
			{name: "4 of 4 regains", desired: []ServiceState{quorum(4)}, wantCalls: CallCounts{NewDest: 4, DelDest: 1},
				wantQuorum: []string{"TCP 192.0.2.101:443 up"}, wantTable: quorumTable(4, false)},
		}},
		{name: "programmed only while the VRRP instance is master", steps: []step{
			{name: "backup", desired: []ServiceState{linked}, wantCalls: CallCounts{GetServices: 1}},
			{name: "master", op: activate(true), wantCalls: CallCounts{NewService: 1, NewDest: 3}, wantTable: webTable(true)},
			{name: "backup again", op: activate(false), wantCalls: CallCounts{DelService: 1}},
		}},
		{name: "a restart leaves linked services alone until VRRP decides", steps: []step{
			{name: "master", op: activate(true)},
			{name: "programmed", desired: []ServiceState{linked}, wantCalls: CallCounts{GetServices: 1, NewService: 1, NewDest: 3}, wantTable: webTable(true)},
			{name: "restart, VRRP state unknown", restart: true, desired: []ServiceState{linked}, wantCalls: CallCounts{GetServices: 1, GetDests: 1}, wantTable: webTable(true)},
			{name: "a server fails meanwhile: still untouched", desired: []ServiceState{func() ServiceState { st := web(false); st.Instance = "VI_1"; return st }()}, wantTable: webTable(true)},
			{name: "backup", op: activate(false), wantCalls: CallCounts{DelService: 1}},
		}},
		{name: "changes behind vipd's back are repaired", steps: []step{
			{name: "create", desired: []ServiceState{web(true)}, wantCalls: CallCounts{GetServices: 1, NewService: 1, NewDest: 3}, wantTable: webTable(true)},
			{name: "a destination deleted behind its back: the update fails", behind: func(h ipvsHandle) error {
				return h.DelDestination(toIPVS(vip1Key(), Service{Address: vip1, Scheduler: "rr"}.params()), toIPVSDest(netip.MustParseAddrPort("192.0.2.11:80"), dstParams{Weight: 1, Forwarding: NAT}))
			}, desired: []ServiceState{svc(vip1, "rr", rs("192.0.2.11:80", 2, true), rs("192.0.2.12:80", 1, true), rs("192.0.2.13:80", 1, true))},
				wantErr: true, wantCalls: CallCounts{UpdateDest: 1, Errors: 1},
				wantTable: []string{"TCP 192.0.2.100:80 rr", "TCP 192.0.2.100:80 -> 192.0.2.12:80 NAT w=1", "TCP 192.0.2.100:80 -> 192.0.2.13:80 NAT w=1"}},
			{name: "the next reconcile re-reads and adds it", desired: []ServiceState{svc(vip1, "rr", rs("192.0.2.11:80", 2, true), rs("192.0.2.12:80", 1, true), rs("192.0.2.13:80", 1, true))},
				wantCalls: CallCounts{GetServices: 1, GetDests: 1, NewDest: 1},
				wantTable: []string{"TCP 192.0.2.100:80 rr", "TCP 192.0.2.100:80 -> 192.0.2.11:80 NAT w=2", "TCP 192.0.2.100:80 -> 192.0.2.12:80 NAT w=1", "TCP 192.0.2.100:80 -> 192.0.2.13:80 NAT w=1"}},
			{name: "a weight changed behind its back: resync", behind: func(h ipvsHandle) error {
				return h.UpdateDestination(toIPVS(vip1Key(), Service{Address: vip1, Scheduler: "rr"}.params()), toIPVSDest(netip.MustParseAddrPort("192.0.2.12:80"), dstParams{Weight: 9, Forwarding: NAT}))
			}, op: func(ctx context.Context, r *Reconciler) error { return r.Resync(ctx) },
				wantCalls: CallCounts{GetServices: 1, GetDests: 1, UpdateDest: 1},
				wantTable: []string{"TCP 192.0.2.100:80 rr", "TCP 192.0.2.100:80 -> 192.0.2.11:80 NAT w=2", "TCP 192.0.2.100:80 -> 192.0.2.12:80 NAT w=1", "TCP 192.0.2.100:80 -> 192.0.2.13:80 NAT w=1"}},
		}},
		{name: "families, protocols and scheduler flags", steps: []step{
			{name: "create", desired: []ServiceState{
				{Service: Service{Address: vip6, Protocol: UDP, Scheduler: "mh", SchedFlags: SchedFlag2, OnePacket: true}, Reals: []RealState{rs("[2001:db8::11]:53", 1, true)}},
				{Service: Service{Address: vip1, Protocol: SCTP, Scheduler: "lc"}, Reals: []RealState{rs("192.0.2.11:80", 1, true)}},
				{Service: Service{FWMark: 7, Family: IPv6, Scheduler: "sed", Persistence: 60 * time.Second, Netmask: 64}, Reals: []RealState{rs("[2001:db8::12]:0", 1, true)}},
			}, wantCalls: CallCounts{GetServices: 1, NewService: 3, NewDest: 3},
				wantTable: []string{
					"FWM 7 IPv6 sed flags=0x1 persistence=60 mask=/64", "FWM 7 IPv6 -> [2001:db8::12]:0 NAT w=1",
					"SCTP 192.0.2.100:80 lc", "SCTP 192.0.2.100:80 -> 192.0.2.11:80 NAT w=1",
					"UDP [2001:db8::100]:53 mh flags=0x14", "UDP [2001:db8::100]:53 -> [2001:db8::11]:53 NAT w=1",
				}},
		}},
	}
}

func vip1Key() ServiceKey { return Service{Address: vip1}.Key() }

func vip2Key() ServiceKey { return Service{Address: vip2}.Key() }

// dumpTable renders the whole kernel table, sorted.
func dumpTable(t *testing.T, h ipvsHandle) []string {
	t.Helper()
	svcs, err := h.GetServices()
	if err != nil {
		t.Fatalf("GetServices: %v", err)
	}
	var out []string
	for _, s := range svcs {
		k, p, ok := fromIPVS(s)
		if !ok {
			t.Fatalf("unreadable service %+v", s)
		}
		line := k.String() + " " + p.Scheduler
		if p.Flags != 0 {
			line += fmt.Sprintf(" flags=%#x", p.Flags)
		}
		if p.Timeout != 0 {
			line += fmt.Sprintf(" persistence=%d", p.Timeout)
		}
		if def := (Service{Address: netip.AddrPortFrom(k.Addr, 1), FWMark: k.FWMark, Family: k.Family}).kernelNetmask(); p.Netmask != def {
			line += " mask=" + maskString(k.Family, p.Netmask)
		}
		out = append(out, line)
		ds, err := h.GetDestinations(s)
		if err != nil {
			t.Fatalf("GetDestinations %v: %v", k, err)
		}
		for _, d := range ds {
			a, dp, ok := fromIPVSDest(d)
			if !ok {
				t.Fatalf("unreadable destination %+v", d)
			}
			l := fmt.Sprintf("%v -> %v %v w=%d", k, a, dp.Forwarding, dp.Weight)
			if dp.Upper != 0 || dp.Lower != 0 {
				l += fmt.Sprintf(" u=%d l=%d", dp.Upper, dp.Lower)
			}
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

func maskString(f Family, m uint32) string {
	if f == IPv6 {
		return fmt.Sprintf("/%d", m)
	}
	for bits := 0; bits <= 32; bits++ {
		if (Service{Address: netip.MustParseAddrPort("192.0.2.1:1"), Netmask: bits}).kernelNetmask() == m && bits > 0 {
			return fmt.Sprintf("/%d", bits)
		}
	}
	return fmt.Sprintf("%#x", m)
}

// runTable runs every case on a fresh table from newHandle.
func runTable(t *testing.T, newHandle func(t *testing.T) ipvsHandle) {
	for _, tc := range reconcileCases() {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandle(t)
			var events []string
			newRec := func() *Reconciler {
				return NewReconciler(h, Config{OnQuorum: func(st ServiceState, up bool) {
					events = append(events, st.Key().String()+map[bool]string{true: " up", false: " down"}[up])
				}})
			}
			r := newRec()
			ctx := t.Context()
			for _, s := range tc.steps {
				if s.restart {
					r = newRec()
				}
				if s.behind != nil {
					if err := s.behind(h); err != nil {
						t.Fatalf("%s: change behind vipd's back: %v", s.name, err)
					}
				}
				events = nil
				before := r.Metrics().Snapshot()
				var err error
				if s.op != nil {
					err = s.op(ctx, r)
				} else {
					err = r.Reconcile(ctx, s.desired)
				}
				if (err != nil) != s.wantErr {
					t.Fatalf("%s: err = %v, want error %v", s.name, err, s.wantErr)
				}
				if diff := cmp.Diff(s.wantCalls, r.Metrics().Snapshot().Sub(before)); diff != "" {
					t.Errorf("%s: kernel calls (-want +got):\n%s", s.name, diff)
				}
				if diff := cmp.Diff(s.wantTable, dumpTable(t, h), cmpEmpty); diff != "" {
					t.Errorf("%s: kernel table (-want +got):\n%s", s.name, diff)
				}
				if diff := cmp.Diff(s.wantQuorum, events, cmpEmpty); diff != "" {
					t.Errorf("%s: quorum hooks (-want +got):\n%s", s.name, diff)
				}
			}
		})
	}
}

// cmpEmpty treats nil and empty slices as equal and ignores order.
var cmpEmpty = cmp.Comparer(func(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
})
