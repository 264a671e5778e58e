package integration

import (
	"context"
	"net/netip"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vipd/vipd/test/harness"
)

// TestReloadLive: SIGHUP with an unchanged configuration changes nothing
// (no transition, the VIP never leaves the master, clients keep their
// answers); a VIP added and removed by a reload appears and disappears on
// the master while the first one stays; an invalid configuration is
// refused problem by problem and the running one stays in force.
func TestReloadLive(t *testing.T) {
	b := harness.New(t, 2)
	dir := t.TempDir()
	for _, n := range b.Nodes {
		n.StartUDPEcho(t, echoPort)
	}
	adv := 100 * time.Millisecond
	p1, _ := startPair(t, b, dir, adv, nil)
	n1 := b.Node(1)
	sock := n1.StatusSocket(dir)
	in := pairInstance(b, n1, 150, 3, adv, false)
	write := func(in harness.Instance) { harness.WriteFile(t, dir, "n1-vipd.yaml", harness.VipdConfig(n1, sock, in)) }
	reloaded := func(n int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for strings.Count(p1.Output(), "configuration reloaded") < n {
			if ctx.Err() != nil {
				t.Fatalf("reload %d not logged:\n%s", n, p1.Output())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	probe, err := b.Client.StartProbe(vip4.Addr(), echoPort, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Stop()
	// The first VIP must stay on n1 alone throughout, sampled every 5 ms.
	var moved atomic.Int64
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if h := b.Holders(vip4.Addr()); len(h) != 1 || h[0] != "n1" {
				moved.Add(1)
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	transitions := strings.Count(p1.Output(), "msg=transition")

	// 1. Unchanged configuration, SIGHUP.
	start := time.Now()
	write(in)
	p1.Signal(syscall.SIGHUP)
	reloaded(1)
	time.Sleep(5 * adv)
	end := time.Now()
	if p1.Exited() {
		t.Fatalf("vipd exited on SIGHUP:\n%s", p1.Output())
	}
	if n := strings.Count(p1.Output(), "msg=transition"); n != transitions {
		t.Fatalf("an unchanged reload caused %d transitions:\n%s", n-transitions, p1.Output())
	}
	// Over a 1 ms probe, the longest silence stays below one advert
	// interval (a release and re-acquire would need an ARP round and more;
	// the margin absorbs a loaded CI machine's scheduling).
	if g := probe.LongestGap(start, end); g.Length > adv || g.Before != "n1" && g.Before != "" || g.After != "n1" && g.After != "" {
		t.Fatalf("client saw a gap of %v (%q → %q) during an unchanged reload", g.Length, g.Before, g.After)
	}

	// 2. A second VIP added, then removed; the first never moves.
	vip2 := netip.MustParsePrefix("192.0.2.101/24")
	in2 := in
	in2.VIPs = []netip.Prefix{vip4, vip2}
	write(in2)
	p1.Signal(syscall.SIGHUP)
	reloaded(2)
	if !waitAddr(n1, vip2.Addr(), true, 2*time.Second) {
		t.Fatalf("added vip %v not on n1:\n%s", vip2, p1.Output())
	}
	write(in)
	out, err := exec.Command(vipd(t), "reload", "--socket", sock).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "reloaded:") {
		t.Fatalf("vipd reload: %v\n%s", err, out)
	}
	if !waitAddr(n1, vip2.Addr(), false, 2*time.Second) {
		t.Fatalf("removed vip %v still on n1:\n%s", vip2, p1.Output())
	}

	// 3. Invalid: every problem printed, exit 1, the running one stays.
	bad := in
	bad.VRID, bad.Priority = 0, 300
	write(bad)
	out, err = exec.Command(vipd(t), "reload", "--socket", sock).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 ||
		!strings.Contains(string(out), "instances[0].vrid: 0 is out of range 1..255") ||
		!strings.Contains(string(out), "instances[0].priority: 300 is out of range 1..255") {
		t.Fatalf("vipd reload of an invalid config: %v\n%s", err, out)
	}
	if n := strings.Count(p1.Output(), "msg=transition"); n != transitions {
		t.Fatalf("reloads caused %d transitions:\n%s", n-transitions, p1.Output())
	}
	close(stopWatch)
	<-watched
	if n := moved.Load(); n > 0 {
		t.Fatalf("the first VIP was not on n1 alone in %d samples", n)
	}
	if p1.Exited() {
		t.Fatalf("vipd exited:\n%s", p1.Output())
	}
}

// waitAddr waits until ns has (or no longer has) addr.
func waitAddr(ns *harness.NS, addr netip.Addr, want bool, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ns.HasAddr(addr) == want {
			return true
		}
	}
	return ns.HasAddr(addr) == want
}
