package integration

import (
	"context"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/vipd/vipd/test/harness"
	"github.com/vipd/vipd/vrrp"
)

// sendRaw sends payload as IP protocol 112 from ns, with source src (an
// address of ns) and TTL 255, like a VRRP router would.
func sendRaw(t *testing.T, ns *harness.NS, src, dst netip.Addr, payload []byte) {
	t.Helper()
	err := ns.Do(func() error {
		c, err := net.ListenPacket("ip4:112", "0.0.0.0")
		if err != nil {
			return err
		}
		defer c.Close()
		p := ipv4.NewPacketConn(c)
		if err := p.SetTTL(vrrp.TTL); err != nil {
			return err
		}
		_, err = p.WriteTo(payload, &ipv4.ControlMessage{Src: src.AsSlice()}, &net.IPAddr{IP: dst.AsSlice()})
		return err
	})
	if err != nil {
		t.Fatalf("raw send %v > %v: %v", src, dst, err)
	}
}

// dropsOf returns n's drop counters: the instance's, plus any agent-wide
// (wire) counters the status reports at the top level.
func dropsOf(t *testing.T, n *harness.NS, dir string) (inst, wire map[string]int64) {
	t.Helper()
	st, err := statusOf(t, n, dir)
	if err != nil {
		t.Fatal(err)
	}
	in, ok := st.instance("VI_1")
	if !ok {
		t.Fatalf("no VI_1 in the status of %s: %+v", n.Role, st)
	}
	return in.Drops, st.Drops
}

// TestBadInputAdverts: adverts from a stranger, with a wrong v2 password,
// too short, or with a bad checksum are dropped and counted; they change
// nothing and the agents keep running. The stranger and the wrong password
// carry priority 254, so accepting either would make n1 step down.
func TestBadInputAdverts(t *testing.T) {
	b := harness.New(t, 2)
	dir := t.TempDir()
	n1, n2 := b.Node(1), b.Node(2)
	stranger := netip.MustParseAddr("192.0.2.3")
	if out, err := b.Client.IP("addr", "add", stranger.String()+"/24", "dev", "eth0"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	client := b.Client.IPv4 // a configured peer of n1, so its adverts reach the auth check
	const pass = "s3cret"
	p1, p2 := startPair(t, b, dir, time.Second, func(n *harness.NS, in *harness.Instance) {
		in.Version, in.AuthPass = 2, pass
		if n == n1 {
			in.Peers = append(in.Peers, client)
		}
	})
	mustState(t, n2, dir, "VI_1", "BACKUP", 2*time.Second, p2)
	before1, wire1 := dropsOf(t, n1, dir)
	before2, _ := dropsOf(t, n2, dir)

	adv := func(password string) vrrp.Advert {
		return vrrp.Advert{Version: 2, VRID: 51, Priority: 254, AdvertInterval: time.Second,
			AuthType: 1, AuthData: vrrp.AuthPassword(password), Addrs: []netip.Addr{vip4.Addr()}}
	}
	marshal := func(a vrrp.Advert, src, dst netip.Addr) []byte {
		m, err := vrrp.Marshal(a, src, dst)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	const rounds = 5
	for range rounds {
		for _, dst := range []netip.Addr{n1.IPv4, n2.IPv4} {
			sendRaw(t, b.Client, stranger, dst, marshal(adv(pass), stranger, dst))
		}
		sendRaw(t, b.Client, client, n1.IPv4, marshal(adv("wrong"), client, n1.IPv4))
		sendRaw(t, b.Client, client, n1.IPv4, []byte{0x21, 51, 254}) // shorter than a header
		bad := marshal(adv(pass), client, n1.IPv4)
		bad[6] ^= 0xff // checksum
		sendRaw(t, b.Client, client, n1.IPv4, bad)
		time.Sleep(100 * time.Millisecond)
	}
	// Longer than Master_Down_Interval (3.6 s): a priority 254 advert that
	// was accepted would have made n1 leave MASTER by now.
	time.Sleep(time.Second)
	mustState(t, n1, dir, "VI_1", "MASTER", 0, p1)
	mustState(t, n2, dir, "VI_1", "BACKUP", 0, p2)
	mustHolder(t, b, vip4.Addr(), "n1", 0, p1, p2)
	for _, p := range []*harness.Proc{p1, p2} {
		if p.Exited() {
			t.Fatalf("%s exited:\n%s", p.Name, tail(p.Output(), 30))
		}
	}
	if strings.Contains(p1.Output(), "from=MASTER") || strings.Contains(p2.Output(), "to=MASTER") {
		t.Errorf("a bad advert caused a transition:\nn1:\n%s\nn2:\n%s", tail(p1.Output(), 20), tail(p2.Output(), 20))
	}

	after1, wireAfter1 := dropsOf(t, n1, dir)
	after2, _ := dropsOf(t, n2, dir)
	for _, c := range []struct {
		node          string
		reason        string
		before, after map[string]int64
	}{
		{"n1", "not_peer", before1, after1},
		{"n2", "not_peer", before2, after2},
		{"n1", "auth", before1, after1},
	} {
		if got := c.after[c.reason] - c.before[c.reason]; got != rounds {
			t.Errorf("%s drops[%s] grew by %d, want %d (before %v, after %v)", c.node, c.reason, got, rounds, c.before, c.after)
		}
	}

	// Each cause is logged, naming the reason and the sender.
	for _, c := range []struct {
		p            *harness.Proc
		reason, peer string
	}{
		{p1, "not_peer", stranger.String()},
		{p2, "not_peer", stranger.String()},
		{p1, "auth", client.String()},
	} {
		if !strings.Contains(c.p.Output(), "reason="+c.reason+" peer="+c.peer) {
			t.Errorf("%s log has no dropped-advert line with reason=%s peer=%s:\n%s", c.p.Name, c.reason, c.peer, tail(c.p.Output(), 30))
		}
	}

	// Wire-level drops: not attributable to an instance; the agent's
	// receive loop logs them (debug) and counts them agent-wide.
	for _, reason := range []string{"malformed", "checksum"} {
		if !strings.Contains(p1.Output(), "reason="+reason) {
			t.Errorf("n1 log has no dropped-packet line with reason=%s:\n%s", reason, tail(p1.Output(), 30))
		}
		if got := wireAfter1[reason] - wire1[reason] + after1[reason] - before1[reason]; got != rounds {
			t.Errorf("n1 %s drops grew by %d, want %d (instance %v, agent %v)", reason, got, rounds, after1, wireAfter1)
		}
	}
}

// TestBadInputMissingInterface: `vipd check` names a missing interface and
// fails; `vipd run` keeps running with the instance in FAULT naming the
// cause, and starts the instance once the interface appears.
func TestBadInputMissingInterface(t *testing.T) {
	b := harness.New(t, 1)
	dir := t.TempDir()
	n := b.Node(1)
	const ifname = "vipd0"
	src := netip.MustParseAddr("198.51.100.1")
	vip := netip.MustParsePrefix("198.51.100.100/24")
	in := harness.Instance{Name: "VI_1", VRID: 60, Version: 3, Priority: 100, AdvertInterval: fast, Interface: ifname,
		Src: src, Peers: []netip.Addr{netip.MustParseAddr("198.51.100.2")}, VIPs: []netip.Prefix{vip}}
	cfg := harness.WriteFile(t, dir, "n1-vipd.yaml", harness.VipdConfig(n, n.StatusSocket(dir), in))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := n.Command(ctx, vipd(t), "check", "-c", cfg).CombinedOutput()
	if err == nil {
		t.Fatalf("vipd check with a missing interface exited 0:\n%s", out)
	}
	if !strings.Contains(string(out), "instances[0].interface") || !strings.Contains(string(out), ifname) {
		t.Errorf("vipd check output does not name instances[0].interface %s:\n%s", ifname, out)
	}

	p := n.Start(t, "n1-vipd", dir, vipd(t), "run", "-c", cfg)
	st, err := waitState(t, n, dir, "VI_1", "FAULT", 3*time.Second)
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(p.Output(), 30))
	}
	if !strings.Contains(st.Reason, ifname) {
		t.Errorf("FAULT reason %q does not name %s", st.Reason, ifname)
	}
	if !strings.Contains(p.Output(), ifname) {
		t.Errorf("log does not name %s:\n%s", ifname, tail(p.Output(), 20))
	}

	for _, args := range [][]string{
		{"link", "add", ifname, "type", "veth", "peer", "name", ifname + "p"},
		{"link", "set", ifname + "p", "up"},
		{"addr", "add", src.String() + "/24", "dev", ifname},
		{"link", "set", ifname, "up"},
	} {
		if out, err := n.IP(args...); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	// The agent retries every 2 s; then Master_Down_Interval.
	mustState(t, n, dir, "VI_1", "MASTER", 5*time.Second, p)
	if !waitFor(2*time.Second, func() bool { return n.HasAddr(vip.Addr()) }) {
		t.Fatalf("VIP not on %s after the instance started\n%s", ifname, tail(p.Output(), 30))
	}
}

// TestBadInputVIPCannotBeAdded: vipd without CAP_NET_ADMIN (a systemd unit
// missing it) still runs VRRP and becomes master, but cannot add the VIP:
// the cause is logged and shown in the status, and the agent keeps running.
func TestBadInputVIPCannotBeAdded(t *testing.T) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv (util-linux) to drop CAP_NET_ADMIN")
	}
	b := harness.New(t, 2)
	dir := t.TempDir()
	n1 := b.Node(1)
	cfg := harness.WriteFile(t, dir, "n1-vipd.yaml",
		harness.VipdConfig(n1, n1.StatusSocket(dir), pairInstance(b, n1, 150, 3, fast, false)))
	p := n1.Start(t, "n1-vipd", dir, "setpriv", "--bounding-set", "-net_admin", "--inh-caps", "-net_admin", vipd(t), "run", "-c", cfg)
	mustState(t, n1, dir, "VI_1", "MASTER", 3*time.Second, p)
	if err := p.WaitLog(context.Background(), "operation not permitted", 3*time.Second); err != nil {
		t.Fatalf("%v:\n%s", err, tail(p.Output(), 30))
	}
	if !strings.Contains(p.Output(), `msg="acquire vip failed, retrying"`) || !strings.Contains(p.Output(), "vip="+vip4.String()) {
		t.Errorf("log does not say which VIP failed:\n%s", tail(p.Output(), 30))
	}
	if n1.HasAddr(vip4.Addr()) {
		t.Fatalf("VIP on n1 although vipd lacks CAP_NET_ADMIN: the test bed is wrong")
	}
	time.Sleep(500 * time.Millisecond)
	if p.Exited() {
		t.Fatalf("vipd exited:\n%s", tail(p.Output(), 30))
	}
	mustState(t, n1, dir, "VI_1", "MASTER", 0, p)
	var st instStatus
	if !waitFor(2*time.Second, func() bool {
		s, err := statusOf(t, n1, dir)
		st, _ = s.instance("VI_1")
		return err == nil && st.ProviderState == "error"
	}) {
		t.Fatalf("provider state %q (error %q), want error\n%s", st.ProviderState, st.ProviderError, tail(p.Output(), 30))
	}
	if !strings.Contains(st.ProviderError, "not permitted") || !strings.Contains(st.ProviderError, vip4.Addr().String()) {
		t.Errorf("provider error %q does not give the VIP and the cause (operation not permitted)", st.ProviderError)
	}
}
