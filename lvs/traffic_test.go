//go:build linux

package lvs

import (
	"log/slog"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// TestKernelTraffic sends real TCP connections through LVS-NAT and LVS-DR
// in the VM and checks where they land as real servers fail and return.
func TestKernelTraffic(t *testing.T) {
	requireKernel(t)
	for _, tc := range []struct {
		name string
		fwd  Forwarding
	}{{"NAT", NAT}, {"DR", DR}} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t)
			from := l.client
			if tc.fwd == DR {
				from = l.lan
				checkARP(t, l)
			}
			h := l.dir.IPVS(t)
			r := NewReconciler(h, Config{Logger: testLogger(t)})
			desired := func(sched string, weights []int, inhibitIdx int) []ServiceState {
				return []ServiceState{{
					Service: Service{Address: labVIPPort, Scheduler: sched, Forwarding: tc.fwd},
					Reals:   l.health(weights, ForwardDefault, inhibitIdx),
					Sorry:   netip.AddrPortFrom(l.sorry.Addr, 80),
				}}
			}
			apply := func(step string, st []ServiceState, want CallCounts) {
				t.Helper()
				before := r.Metrics().Snapshot()
				if err := r.Reconcile(t.Context(), st); err != nil {
					t.Fatalf("%s: reconcile: %v", step, err)
				}
				if diff := cmp.Diff(want, r.Metrics().Snapshot().Sub(before)); diff != "" {
					t.Errorf("%s: kernel calls (-want +got):\n%s", step, diff)
				}
			}
			split := func(step string, want map[string]int) {
				t.Helper()
				if diff := cmp.Diff(want, l.connect(from, 12)); diff != "" {
					t.Errorf("%s: connections per server (-want +got):\n%s\ntable: %q", step, diff, dumpTable(t, h))
				}
			}

			apply("rr", desired("rr", []int{1, 1, 1}, -1), CallCounts{GetServices: 1, NewService: 1, NewDest: 3})
			split("rr", map[string]int{"rs1": 4, "rs2": 4, "rs3": 4})

			// An established connection survives parameter updates and a
			// restart of vipd (adoption, no delete+add).
			long, longName, err := l.dialLong(from)
			if err != nil {
				t.Fatalf("long connection: %v", err)
			}
			apply("wrr", desired("wrr", []int{1, 2, 3}, 2), CallCounts{UpdateService: 1, UpdateDest: 2})
			r = NewReconciler(h, Config{Logger: testLogger(t)})
			apply("vipd restarts", desired("wrr", []int{1, 2, 3}, 2), CallCounts{GetServices: 1, GetDests: 1})
			if got, err := long.Ping(3 * time.Second); err != nil || got != longName {
				t.Errorf("established connection after update and restart: answer %q, %v; want %q", got, err, longName)
			}
			long.Close()
			split("wrr", map[string]int{"rs1": 2, "rs2": 4, "rs3": 6})

			l.reals[1].Stop()
			st := desired("wrr", []int{1, 2, 3}, 2)
			if st[0].Reals[1].Healthy {
				t.Fatal("rs2 stopped but its TCP probe still passes")
			}
			apply("rs2 fails", st, CallCounts{DelDest: 1})
			got := l.connect(from, 12)
			if got["rs2"] != 0 || got["error"] != 0 || got["rs1"]+got["rs3"] != 12 {
				t.Errorf("rs2 removed: connections per server = %v, want 12 on rs1 and rs3 only", got)
			}

			l.reals[2].Stop()
			apply("rs3 fails, inhibited", desired("wrr", []int{1, 2, 3}, 2), CallCounts{UpdateDest: 1})
			want := []string{"TCP 192.0.2.100:80 -> 192.0.2.11:80 " + tc.fwd.String() + " w=1", "TCP 192.0.2.100:80 -> 192.0.2.13:80 " + tc.fwd.String() + " w=0", "TCP 192.0.2.100:80 wrr"}
			if !slices.Equal(want, dumpTable(t, h)) {
				t.Errorf("rs3 inhibited: table = %q, want %q", dumpTable(t, h), want)
			}
			split("rs3 at weight 0", map[string]int{"rs1": 12})

			l.reals[0].Stop()
			apply("all down", desired("wrr", []int{1, 2, 3}, 2), CallCounts{NewDest: 1, DelDest: 1})
			split("sorry server", map[string]int{"sorry": 12})

			l.reals[1].Start(t)
			apply("rs2 back", desired("wrr", []int{1, 2, 3}, 2), CallCounts{NewDest: 1, DelDest: 1})
			split("rs2 back", map[string]int{"rs2": 12})
		})
	}
}

// checkARP asserts that only the director answers ARP for the VIP, and that
// the assertion would catch a real server without arp_ignore.
func checkARP(t *testing.T, l *lab) {
	t.Helper()
	rs1 := l.reals[0].NS
	rs1.Sysctl(t, "net/ipv4/conf/all/arp_ignore", "0", "net/ipv4/conf/eth0/arp_ignore", "0")
	macs, err := l.arpAnswers(time.Second)
	if err != nil {
		t.Fatalf("arp: %v", err)
	}
	if !slices.Contains(macs, l.reals[0].mac.String()) {
		t.Errorf("with arp_ignore=0 on rs1, ARP answers %v should include rs1 %v", macs, l.reals[0].mac)
	}
	rs1.Sysctl(t, "net/ipv4/conf/all/arp_ignore", "1", "net/ipv4/conf/eth0/arp_ignore", "1")
	macs, err = l.arpAnswers(time.Second)
	if err != nil {
		t.Fatalf("arp: %v", err)
	}
	// The bridge takes a port's MAC as ports join: read it now.
	dirMAC := l.dir.Link(t, "vlvs-br").Attrs().HardwareAddr.String()
	if diff := cmp.Diff([]string{dirMAC}, macs); diff != "" {
		t.Errorf("ARP answers for the VIP (-want director +got):\n%s", diff)
	}
}
