//go:build linux

package directors

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/lvs"
	"github.com/vipd/vipd/test/vm/vmnet"
)

// routed returns the addresses of the real servers with weight > 0.
func routed(ds []ipvsDest) []string {
	out := []string{}
	for _, d := range ds {
		if d.Weight > 0 {
			out = append(out, d.Addr)
		}
	}
	slices.Sort(out)
	return out
}

type daemonID struct {
	State     lvs.SyncState
	Interface string
	SyncID    uint8
}

// syncDaemons lists the sync daemons running in d's namespace.
func syncDaemons(d *director) ([]daemonID, error) {
	c, err := lvs.OpenSync(int(d.ns.FD))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ds, err := c.SyncDaemons(ctx)
	if err != nil {
		return nil, err
	}
	out := []daemonID{}
	for _, x := range ds {
		out = append(out, daemonID{x.State, x.Interface, x.SyncID})
	}
	return out, nil
}

// waitDaemons waits (bounded) until d runs exactly want.
func waitDaemons(t *testing.T, d *director, want []daemonID, limit time.Duration) {
	t.Helper()
	var got []daemonID
	var err error
	took, ok := waitFor(limit, func() bool {
		got, err = syncDaemons(d)
		return err == nil && cmp.Equal(want, got)
	})
	if !ok {
		t.Errorf("%s: sync daemons after %v (err %v) (-want +got):\n%s", d.name, took.Round(time.Millisecond), err, cmp.Diff(want, got))
	}
}

// waitProgrammed waits (bounded) until d is VI_1 MASTER and its kernel
// routes serviceID to exactly want; it returns d's IPVS table.
func waitProgrammed(t *testing.T, step string, d *director, want []string, limit time.Duration) map[string][]ipvsDest {
	t.Helper()
	var st status
	var tab map[string][]ipvsDest
	took, ok := waitFor(limit, func() bool {
		if d.proc.exited() {
			t.Fatalf("%s: %s's vipd exited: %v", step, d.name, d.proc.err)
		}
		var err error
		if st, err = fetchStatus(d); err != nil {
			return false
		}
		tab, _ = ipvsTable(d)
		return st.state("VI_1") == "MASTER" && cmp.Equal(want, routed(tab[serviceID]))
	})
	if !ok {
		t.Fatalf("%s: %s not master with %s → %v after %v: state %q, table %v", step, d.name, serviceID, want, took.Round(time.Millisecond), st.state("VI_1"), tab)
	}
	return tab
}

// TestKernelDirectorPair runs vipd on two directors in front of three real
// servers (LVS-DR, rr) and checks, with real client traffic: VRRP-gated
// programming, the split, a failing real server's removal, the sync
// daemon's replication of a live connection, a failover to the backup
// after kill -9 (service, new connections and the live connection), the
// status of the new master and lvs_flush on stop.
func TestKernelDirectorPair(t *testing.T) {
	requireVM(t)
	if _, err := os.Stat(vipdBin()); err != nil {
		t.Fatalf("no vipd binary (run.sh -f, or VIPD_BIN): %v", err)
	}
	l := newLab(t)
	rs3 := l.reals[2]
	all := []string{"192.0.2.11:80", "192.0.2.12:80", "192.0.2.13:80"}
	two := []string{"192.0.2.11:80", "192.0.2.12:80"}

	// d1 starts first and d2 joins a running master: starting both at once
	// is TestKernelDirectorPairSimultaneousStart.
	start := time.Now()
	l.startVipd(l.d1)
	tab := waitProgrammed(t, "step 1", l.d1, all, 20*time.Second)
	t.Logf("step 1: d1 MASTER with %s → %v programmed %v after vipd start", serviceID, tab[serviceID], time.Since(start).Round(time.Millisecond))
	waitDaemons(t, l.d1, []daemonID{{lvs.SyncMaster, "sync0", 7}}, 5*time.Second)
	l.startVipd(l.d2)
	if took, ok := waitFor(10*time.Second, func() bool { st, err := fetchStatus(l.d2); return err == nil && st.state("VI_1") == "BACKUP" }); !ok {
		t.Fatalf("step 1: d2 not BACKUP %v after its start", took.Round(time.Millisecond))
	}
	for _, d := range tab[serviceID] {
		if d.Forward != "Route" {
			t.Errorf("step 1: d1 real server %s forwards %q, want Route (DR)", d.Addr, d.Forward)
		}
	}
	watch := time.Now()
	for time.Since(watch) < time.Second {
		st2, err := fetchStatus(l.d2)
		if err != nil {
			t.Fatalf("step 1: d2 status: %v", err)
		}
		if s := st2.state("VI_1"); s != "BACKUP" {
			t.Fatalf("step 1: d2 VI_1 is %q, want BACKUP", s)
		}
		tab2, err := ipvsTable(l.d2)
		if err != nil {
			t.Fatalf("step 1: d2 ip_vs: %v", err)
		}
		if len(tab2) != 0 {
			t.Fatalf("step 1: d2 (backup) programmed %v, want nothing (vrrp_instance: VI_1)", tab2)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("step 1: d2 BACKUP with an empty IPVS table")
	// DR: only the master answers ARP for the VIP (the real servers carry
	// it on lo with arp_ignore=1, the backup does not carry it).
	if macs, err := l.arpAnswers(500 * time.Millisecond); err != nil || !cmp.Equal([]string{l.d1.mac(t)}, macs) {
		t.Errorf("step 1: ARP answers for %v: %v (%v), want only d1's %s", vip, macs, err, l.d1.mac(t))
	} else {
		t.Logf("step 1: only d1 (%s) answers ARP for %v", macs[0], vip)
	}
	waitDaemons(t, l.d2, []daemonID{{lvs.SyncBackup, "sync0", 7}}, 5*time.Second)

	// 2. Client connections split evenly (rr) across the real servers.
	if diff := cmp.Diff(map[string]int{"rs1": 10, "rs2": 10, "rs3": 10}, l.connect(30)); diff != "" {
		t.Fatalf("step 2: split of 30 connections through d1 (-want +got):\n%s", diff)
	}
	t.Logf("step 2: 30 connections through d1: 10 each on rs1, rs2, rs3")

	// 3. rs3 stops listening: its check fails, d1 removes it, new
	// connections go to rs1 and rs2 only.
	rs3.Stop()
	took, ok := waitFor(4*time.Second, func() bool {
		tab, _ = ipvsTable(l.d1)
		return cmp.Equal(two, routed(tab[serviceID]))
	})
	if !ok {
		t.Fatalf("step 3: rs3 still routed %v after its listener stopped: %v", took.Round(time.Millisecond), tab[serviceID])
	}
	t.Logf("step 3: rs3 removed from d1's table %v after its listener stopped (delay_loop 1s, retry 1, delay_before_retry 1s)", took.Round(time.Millisecond))
	if diff := cmp.Diff(map[string]int{"rs1": 10, "rs2": 10}, l.connect(20)); diff != "" {
		t.Errorf("step 3: split of 20 connections with rs3 down (-want +got):\n%s", diff)
	}

	// 4. A long-lived connection through d1 reaches d2's connection table
	// through the sync daemon (it syncs on the 3rd packet: SYN, ACK, data).
	lc, first, err := l.dialLong()
	if err != nil {
		t.Fatalf("step 4: long-lived connection: %v", err)
	}
	if got, err := lc.Ping(3 * time.Second); err != nil || got != first {
		t.Fatalf("step 4: ping on the long-lived connection: %q, %v; want %q", got, err, first)
	}
	from := netip.AddrPortFrom(clientIP, lc.LocalPort())
	if c, err := ipvsConns(l.d1, from); err != nil || len(c) != 1 {
		t.Fatalf("step 4: d1's ip_vs_conn for %v: %v (%v), want one line", from, c, err)
	}
	var synced []string
	took, ok = waitFor(10*time.Second, func() bool {
		synced, _ = ipvsConns(l.d2, from)
		return len(synced) > 0
	})
	if !ok {
		s, _ := l.d2.ns.ReadFile("/proc/thread-self/net/ip_vs_conn")
		t.Fatalf("step 4: connection %v (to %s) not in d2's ip_vs_conn after %v:\n%s", from, first, took.Round(time.Millisecond), s)
	}
	t.Logf("step 4: long-lived connection %v → %s in d2's table %v after its first ping: %s", from, first, took.Round(time.Millisecond), strings.Join(strings.Fields(synced[0]), " "))
	if tab2, err := ipvsTable(l.d2); err != nil || len(tab2) != 0 {
		t.Errorf("step 4: d2 (backup) IPVS table %v (%v), want empty", tab2, err)
	}

	// 5. Failover: kill -9 d1's vipd and take its LAN link down. d2
	// becomes master, programs the service (without rs3, which its own
	// checks found down), switches its sync daemon to master, and the
	// client's new and long-lived connections work through it.
	l.d1.proc.kill()
	if err := l.d1.ns.NL.LinkSetDown(l.d1.ns.Link(t, "eth0")); err != nil {
		t.Fatalf("step 5: d1 eth0 down: %v", err)
	}
	failAt := time.Now()
	var st2 status
	took, ok = waitFor(10*time.Second, func() bool {
		var err error
		if st2, err = fetchStatus(l.d2); err != nil {
			return false
		}
		tab, _ = ipvsTable(l.d2)
		return st2.state("VI_1") == "MASTER" && cmp.Equal(two, routed(tab[serviceID]))
	})
	if !ok {
		t.Fatalf("step 5: d2 not master with %s → %v after %v: state %q, table %v", serviceID, two, took.Round(time.Millisecond), st2.state("VI_1"), tab)
	}
	t.Logf("step 5: d2 MASTER with %s → %v programmed %v after kill -9 of d1's vipd", serviceID, tab[serviceID], took.Round(time.Millisecond))
	_, ok = waitFor(5*time.Second, func() bool { return vmnet.Probe(l.client, vipPort) })
	if !ok {
		t.Fatalf("step 5: no new client connection to %v through d2 %v after the failover", vipPort, time.Since(failAt).Round(time.Millisecond))
	}
	t.Logf("step 5: new client connections work %v after the failover", time.Since(failAt).Round(time.Millisecond))
	got := l.connect(10)
	if got["error"] != 0 || got["rs3"] != 0 || got["rs1"] == 0 || got["rs2"] == 0 {
		t.Errorf("step 5: 10 connections through d2: %v, want all on rs1 and rs2, both used", got)
	} else {
		t.Logf("step 5: 10 connections through d2: %v", got)
	}
	waitDaemons(t, l.d2, []daemonID{{lvs.SyncMaster, "sync0", 7}}, 5*time.Second)
	if macs, err := l.arpAnswers(500 * time.Millisecond); err != nil || !cmp.Equal([]string{l.d2.mac(t)}, macs) {
		t.Errorf("step 5: ARP answers for %v: %v (%v), want only d2's %s", vip, macs, err, l.d2.mac(t))
	} else {
		t.Logf("step 5: only d2 (%s) answers ARP for %v", macs[0], vip)
	}
	if got, err := lc.Ping(5 * time.Second); err != nil || got != first {
		c, _ := ipvsConns(l.d2, from)
		t.Errorf("step 5: the long-lived connection did not survive the failover: ping %q, %v; want %q; d2's entry: %v", got, err, first, c)
	} else {
		c, _ := ipvsConns(l.d2, from)
		t.Logf("step 5: the long-lived connection survived the failover (still %s, via the synced entry %v)", first, c)
	}

	// 6. `vipd status --json` on d2 shows the service, its real servers
	// and their check state.
	out, err := vipdCommand("status", "--json", "--socket", l.d2.sock).Output()
	if err != nil {
		t.Fatalf("step 6: vipd status --json: %v", err)
	}
	var js status
	if err := json.Unmarshal(out, &js); err != nil {
		t.Fatalf("step 6: vipd status --json: %v\n%s", err, out)
	}
	if s := js.state("VI_1"); s != "MASTER" {
		t.Errorf("step 6: status VI_1 %q, want MASTER", s)
	}
	var svc *serviceStatus
	for i := range js.Services {
		if js.Services[i].Name == serviceID {
			svc = &js.Services[i]
		}
	}
	if svc == nil {
		t.Fatalf("step 6: status has no service %q:\n%s", serviceID, out)
	}
	reals := slices.Clone(svc.RealServers)
	slices.SortFunc(reals, func(a, b realStatus) int { return strings.Compare(a.Address, b.Address) })
	for i := range reals {
		if reals[i].Address == "192.0.2.13:80" && strings.Contains(reals[i].CheckReason, "refused") {
			reals[i].CheckReason = "…refused…"
		}
	}
	want := serviceStatus{Name: serviceID, Scheduler: "rr", Active: true, RealServers: []realStatus{
		{Address: "192.0.2.11:80", Weight: 1, Healthy: true},
		{Address: "192.0.2.12:80", Weight: 1, Healthy: true},
		{Address: "192.0.2.13:80", Weight: 0, Healthy: false, CheckReason: "…refused…"},
	}}
	if diff := cmp.Diff(want, serviceStatus{svc.Name, svc.Scheduler, svc.Active, reals}); diff != "" {
		t.Errorf("step 6: d2's status of %s (-want +got):\n%s", serviceID, diff)
	}
	if human, err := vipdCommand("status", "--socket", l.d2.sock).CombinedOutput(); err == nil {
		t.Logf("step 6: vipd status on d2:\n%s", human)
	} else {
		t.Errorf("step 6: vipd status: %v\n%s", err, human)
	}

	// 6b. rs3 comes back: d2 adds it again.
	rs3.Start(t)
	took, ok = waitFor(4*time.Second, func() bool {
		tab, _ = ipvsTable(l.d2)
		return cmp.Equal(all, routed(tab[serviceID]))
	})
	if !ok {
		t.Errorf("step 6: rs3 not back in d2's table %v after it listens again: %v", took.Round(time.Millisecond), tab[serviceID])
	} else {
		t.Logf("step 6: rs3 back in d2's table %v after it listens again", took.Round(time.Millisecond))
	}

	// 7. SIGTERM: d2 stops within bounds and, with lvs_flush, leaves no
	// service and no sync daemon behind.
	stopAt := time.Now()
	if err := l.d2.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("step 7: SIGTERM d2: %v", err)
	}
	select {
	case <-l.d2.proc.done:
		t.Logf("step 7: d2's vipd stopped %v after SIGTERM (%v)", time.Since(stopAt).Round(time.Millisecond), l.d2.proc.err)
	case <-time.After(20 * time.Second):
		t.Fatalf("step 7: d2's vipd still running 20s after SIGTERM")
	}
	if tab2, err := ipvsTable(l.d2); err != nil || len(tab2) != 0 {
		t.Errorf("step 7: d2's IPVS table after stop: %v (%v), want empty (lvs_flush)", tab2, err)
	}
	waitDaemons(t, l.d2, []daemonID{}, 2*time.Second)
}

// TestKernelDirectorPairSimultaneousStart starts both directors at once,
// as after a power cut (d2 20 ms before d1). Both may be master for a few milliseconds until
// d2 hears d1 (ordinary VRRP); afterwards d1 must be master with the
// service and the master sync daemon, and d2 backup with an empty table
// and the backup sync daemon, or d2 cannot take over d1's connections.
//
// Known defect this catches (intermittently: d2's MASTER and BACKUP events
// must be handled within a few ms): a DEL_DAEMON of a master sync daemon
// whose kernel thread has not run yet gets no netlink ACK (kthread_stop
// returns -EINTR, and netlink_rcv_skb sends no ACK for -EINTR) although
// the daemon is stopped; lvs.SyncConn waits for the ACK until the agent's
// 5 s switch timeout, the agent logs "ipvs sync daemon switch failed",
// never starts the backup daemon and never retries, so d2 syncs nothing.
func TestKernelDirectorPairSimultaneousStart(t *testing.T) {
	requireVM(t)
	if _, err := os.Stat(vipdBin()); err != nil {
		t.Fatalf("no vipd binary (run.sh -f, or VIPD_BIN): %v", err)
	}
	l := newLab(t)
	all := []string{"192.0.2.11:80", "192.0.2.12:80", "192.0.2.13:80"}
	// d2 a hair ahead: its master-down timer (361 ms) fires before it
	// hears d1, so both are master for a few ms and d2 flips its sync
	// daemon master → backup right away.
	start := time.Now()
	l.startVipd(l.d2)
	time.Sleep(20 * time.Millisecond)
	l.startVipd(l.d1)
	waitProgrammed(t, "start", l.d1, all, 20*time.Second)
	t.Logf("d1 MASTER with %s programmed %v after both started", serviceID, time.Since(start).Round(time.Millisecond))
	if took, ok := waitFor(10*time.Second, func() bool {
		st, err := fetchStatus(l.d2)
		tab, terr := ipvsTable(l.d2)
		return err == nil && terr == nil && st.state("VI_1") == "BACKUP" && len(tab) == 0
	}); !ok {
		t.Fatalf("d2 not BACKUP with an empty IPVS table %v after both started", took.Round(time.Millisecond))
	}
	waitDaemons(t, l.d1, []daemonID{{lvs.SyncMaster, "sync0", 7}}, 10*time.Second)
	waitDaemons(t, l.d2, []daemonID{{lvs.SyncBackup, "sync0", 7}}, 10*time.Second)
	for _, d := range []*director{l.d1, l.d2} {
		if out := d.proc.out.String(); strings.Contains(out, "level=ERROR") {
			t.Errorf("%s logged errors:\n%s", d.name, grepLines(out, "level=ERROR"))
		}
		t.Logf("%s VRRP and sync daemon history:\n%s", d.name, grepLines(d.proc.out.String(), "msg=transition", "sync daemon"))
	}
}

// grepLines returns the lines of s that contain any of subs.
func grepLines(s string, subs ...string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		for _, sub := range subs {
			if strings.Contains(line, sub) {
				out = append(out, line)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
