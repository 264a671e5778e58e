package integration

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vipd/vipd/test/harness"
)

// interopVariant is one way keepalived and vipd share a unicast group.
type interopVariant struct {
	name    string
	version int
	adv     time.Duration
	auth    string // v2 auth_type PASS password
	v6      bool
}

var interopVariants = []interopVariant{
	{name: "v2_auth_1s", version: 2, adv: time.Second, auth: "s3cret"},
	{name: "v3_1s", version: 3, adv: time.Second},
	{name: "v3_100ms", version: 3, adv: 100 * time.Millisecond},
	{name: "v3_ipv6_100ms", version: 3, adv: 100 * time.Millisecond, v6: true},
}

func (v interopVariant) instance(b *harness.Bed, n *harness.NS, prio int) harness.Instance {
	in := pairInstance(b, n, prio, v.version, v.adv, v.v6)
	in.AuthPass = v.auth
	return in
}

func (v interopVariant) vip() netip.Addr {
	if v.v6 {
		return vip6.Addr()
	}
	return vip4.Addr()
}

// failover bounds a takeover after a kill -9: Master_Down_Interval (3
// intervals + skew < 1 interval) plus slack.
func (v interopVariant) failover() time.Duration { return 4*v.adv + 2*time.Second }

// countLog counts the occurrences of s in p's log (a restarted daemon
// appends to the same log).
func countLog(p *harness.Proc, s string) int { return strings.Count(p.Output(), s) }

// waitLogCount waits until s occurs at least n times in p's log.
func waitLogCount(t *testing.T, p *harness.Proc, s string, n int, timeout time.Duration) {
	t.Helper()
	if !waitFor(timeout, func() bool { return countLog(p, s) >= n }) {
		t.Fatalf("%s: %q occurs %d times after %v, want ≥ %d\n%s", p.Name, s, countLog(p, s), timeout, n, tail(p.Output(), 40))
	}
}

// noDual stops w and fails the test if the VIP was on two nodes for longer
// than allowed: handoverOverlap(advert) across a handover, 0 where none
// happens.
func noDual(t *testing.T, w *harness.HolderWatch, allowed time.Duration, phase string, procs ...*harness.Proc) {
	t.Helper()
	dual, err := w.Stop(allowed)
	if err != nil {
		t.Fatal(err)
	}
	if eps := w.Episodes(); len(eps) > 0 {
		t.Logf("%s: overlaps (allowed %v): %v", phase, allowed, eps)
	}
	if len(dual) > 0 {
		var logs strings.Builder
		for _, p := range procs {
			logs.WriteString("--- " + p.Name + ":\n" + tail(p.Output(), 40) + "\n")
		}
		t.Errorf("%s: VIP on two nodes: %v\n%s", phase, dual, logs.String())
	}
}

// removeKeepalivedPidfiles removes the pid files of a keepalived killed
// with -9: its VRRP child may not be reaped yet when it restarts, and
// keepalived then refuses to start ("daemon is already running").
func removeKeepalivedPidfiles(dir string, n *harness.NS) {
	for _, s := range []string{".pid", "-vrrp.pid", "-chk.pid"} {
		_ = os.Remove(filepath.Join(dir, n.Role+"-ka"+s))
	}
}

const kaMaster, kaBackup = "Entering MASTER STATE", "Entering BACKUP STATE"

// waitKaState waits until keepalived's last state line is state (kaMaster
// or kaBackup).
func waitKaState(t *testing.T, p *harness.Proc, state string, timeout time.Duration) {
	t.Helper()
	last := func() string {
		out := p.Output()
		if strings.LastIndex(out, kaMaster) > strings.LastIndex(out, kaBackup) {
			return kaMaster
		}
		if strings.Contains(out, kaBackup) {
			return kaBackup
		}
		return ""
	}
	if !waitFor(timeout, func() bool { return last() == state }) {
		t.Fatalf("%s: last state %q after %v, want %q\n%s", p.Name, last(), timeout, state, tail(p.Output(), 40))
	}
}

// TestInteropKeepalivedMaster: keepalived (150) on n1 and vipd (100) on n2
// in one unicast group. They agree that keepalived is master; when
// keepalived dies (kill -9, then SIGTERM) vipd takes the VIP and the client
// reaches it; when keepalived returns it preempts and vipd releases.
func TestInteropKeepalivedMaster(t *testing.T) {
	requireKeepalived(t)
	for _, v := range interopVariants {
		t.Run(v.name, func(t *testing.T) {
			b := harness.New(t, 2)
			dir := t.TempDir()
			startEcho(t, b)
			n1, n2 := b.Node(1), b.Node(2)
			vip := v.vip()
			k := n1.StartKeepalived(t, dir, v.instance(b, n1, 150))
			p2 := n2.StartVipd(t, vipd(t), dir, v.instance(b, n2, 100))
			mustHolder(t, b, vip, "n1", v.failover()+5*time.Second, k, p2)
			waitLogCount(t, k, kaMaster, 1, time.Second)
			wantMaster := n1.IPv4.String()
			if v.v6 {
				wantMaster = n1.IPv6.String()
			}
			var st instStatus
			if !waitFor(2*time.Second, func() bool {
				s, err := statusOf(t, n2, dir)
				st, _ = s.instance("VI_1")
				return err == nil && st.State == "BACKUP" && st.Master == wantMaster
			}) {
				t.Errorf("vipd: %+v, want BACKUP behind keepalived's %s", st, wantMaster)
			}
			w := b.WatchHolders(vip, 5*time.Millisecond)
			mustReach(t, b, vip, "n1")
			time.Sleep(3 * v.adv) // a few adverts: they must keep agreeing
			mustHolder(t, b, vip, "n1", 0, k, p2)
			mustState(t, n2, dir, "VI_1", "BACKUP", 0, p2)
			noDual(t, w, handoverOverlap(v.adv), "keepalived master", k, p2)

			// kill -9: keepalived leaves the VIP on n1 (its known behaviour),
			// so the watch is off until n1 holds it legitimately again.
			k.Kill9()
			if err := k.Wait(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			if !waitFor(v.failover(), func() bool { return n2.HasAddr(vip) }) {
				t.Fatalf("vipd did not take the VIP after kill -9 of keepalived\n%s", tail(p2.Output(), 40))
			}
			mustState(t, n2, dir, "VI_1", "MASTER", time.Second, p2)
			mustReach(t, b, vip, "n2")

			removeKeepalivedPidfiles(dir, n1)
			m := countLog(k, kaMaster) // the log is appended to across restarts
			k2 := n1.StartKeepalived(t, dir, v.instance(b, n1, 150))
			waitLogCount(t, k2, kaMaster, m+1, v.failover()+5*time.Second)
			mustHolder(t, b, vip, "n1", 2*time.Second, k2, p2) // vipd released
			mustState(t, n2, dir, "VI_1", "BACKUP", time.Second, p2)
			mustReach(t, b, vip, "n1")

			// SIGTERM: keepalived resigns (priority 0) and removes the VIP;
			// the watch covers the handover and keepalived's return.
			w = b.WatchHolders(vip, 5*time.Millisecond)
			k2.Signal(syscall.SIGTERM)
			if err := k2.Wait(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			mustHolder(t, b, vip, "n2", 2*time.Second, k2, p2)
			mustState(t, n2, dir, "VI_1", "MASTER", time.Second, p2)
			mustReach(t, b, vip, "n2")

			m = countLog(k2, kaMaster)
			k3 := n1.StartKeepalived(t, dir, v.instance(b, n1, 150))
			waitLogCount(t, k3, kaMaster, m+1, v.failover()+5*time.Second)
			mustHolder(t, b, vip, "n1", 2*time.Second, k3, p2)
			mustState(t, n2, dir, "VI_1", "BACKUP", time.Second, p2)
			mustReach(t, b, vip, "n1")
			noDual(t, w, handoverOverlap(v.adv), "SIGTERM and return of keepalived", k2, k3, p2)
			if p2.Exited() {
				t.Fatalf("vipd exited:\n%s", tail(p2.Output(), 40))
			}
		})
	}
}

// TestInteropVipdMaster: vipd (150) on n1 and keepalived (100) on n2. When
// vipd dies (kill -9) keepalived takes over; the returning vipd removes the
// VIP it left behind at start-up and preempts back. On SIGTERM vipd hands
// over to keepalived without the VIP ever being on both.
func TestInteropVipdMaster(t *testing.T) {
	requireKeepalived(t)
	for _, v := range interopVariants {
		t.Run(v.name, func(t *testing.T) {
			b := harness.New(t, 2)
			dir := t.TempDir()
			startEcho(t, b)
			n1, n2 := b.Node(1), b.Node(2)
			vip := v.vip()
			p1 := n1.StartVipd(t, vipd(t), dir, v.instance(b, n1, 150))
			k := n2.StartKeepalived(t, dir, v.instance(b, n2, 100))
			mustHolder(t, b, vip, "n1", v.failover()+5*time.Second, p1, k)
			mustState(t, n1, dir, "VI_1", "MASTER", time.Second, p1)
			// Both daemons start together: keepalived may time out before
			// it hears vipd's first advert and be master for a moment (a
			// legitimate election). Count from when it has settled as backup.
			waitKaState(t, k, kaBackup, 2*time.Second)
			m0, b0 := countLog(k, kaMaster), countLog(k, kaBackup)
			w := b.WatchHolders(vip, 5*time.Millisecond)
			mustReach(t, b, vip, "n1")
			time.Sleep(3 * v.adv)
			mustHolder(t, b, vip, "n1", 0, p1, k)
			if n := countLog(k, kaMaster) - m0; n != 0 {
				t.Fatalf("keepalived entered MASTER %d times while vipd is master\n%s", n, tail(k.Output(), 30))
			}
			noDual(t, w, handoverOverlap(v.adv), "vipd master", p1, k)

			p1.Kill9()
			if err := p1.Wait(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			waitLogCount(t, k, kaMaster, m0+1, v.failover())
			if !waitFor(time.Second, func() bool { return n2.HasAddr(vip) }) {
				t.Fatalf("keepalived is master but n2 has no VIP\n%s", tail(k.Output(), 30))
			}
			mustReach(t, b, vip, "n2")

			// vipd returns: its start-up removes the VIP the killed run left,
			// then it preempts back.
			p1b := n1.StartVipd(t, vipd(t), dir, v.instance(b, n1, 150))
			if err := p1b.WaitLog(context.Background(), "removed stale vip", 5*time.Second); err != nil {
				t.Fatalf("%v\n%s", err, tail(p1b.Output(), 30))
			}
			w = b.WatchHolders(vip, 5*time.Millisecond)
			mustHolder(t, b, vip, "n1", v.failover()+2*time.Second, p1b, k)
			mustState(t, n1, dir, "VI_1", "MASTER", time.Second, p1b)
			waitLogCount(t, k, kaBackup, b0+1, 2*time.Second)
			mustReach(t, b, vip, "n1")

			// SIGTERM: make-before-break to keepalived.
			p1b.Signal(syscall.SIGTERM)
			if err := p1b.Wait(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			mustHolder(t, b, vip, "n2", 2*time.Second, p1b, k)
			waitLogCount(t, k, kaMaster, m0+2, time.Second)
			mustReach(t, b, vip, "n2")
			noDual(t, w, handoverOverlap(v.adv), "vipd restart, preempt and SIGTERM", p1b, k)
			if k.Exited() {
				t.Fatalf("keepalived exited:\n%s", tail(k.Output(), 30))
			}
		})
	}
}
