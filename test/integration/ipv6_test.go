package integration

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vipd/vipd/test/harness"
)

// TestIPv6VIP: VRRPv3 over IPv6, unicast between the nodes' 2001:db8::
// addresses and multicast to ff02::12 (link-local sources): election, the
// client reaches [2001:db8::100], kill -9 of the master → the backup takes
// it, and its unsolicited NA repoints the client's neighbour entry without
// the client asking.
func TestIPv6VIP(t *testing.T) {
	for _, tt := range []struct {
		name      string
		multicast bool
	}{{name: "unicast"}, {name: "multicast", multicast: true}} {
		t.Run(tt.name, func(t *testing.T) {
			b := harness.New(t, 2)
			dir := t.TempDir()
			startEcho(t, b)
			var ps []*harness.Proc
			for i, prio := range []int{150, 100} {
				n := b.Node(i + 1)
				in := pairInstance(b, n, prio, 3, fast, true)
				if tt.multicast {
					in.Src, in.Peers = netip.Addr{}, nil
				}
				ps = append(ps, n.StartVipd(t, vipd(t), dir, in))
			}
			n1, n2 := b.Node(1), b.Node(2)
			mustHolder(t, b, vip6.Addr(), "n1", 10*time.Second, ps...)
			mustState(t, n2, dir, "VI_1", "BACKUP", 2*time.Second, ps[1])
			st := mustState(t, n1, dir, "VI_1", "MASTER", time.Second, ps[0])
			if tt.multicast && !strings.HasPrefix(st.Master, "fe80:") {
				t.Errorf("multicast v6 master address %q, want the link-local source", st.Master)
			}
			mustReach(t, b, vip6.Addr(), "n1")
			mac1, mac2 := macOf(t, n1), macOf(t, n2)
			if got := neighMAC(b.Client, vip6.Addr().String()); got != mac1 {
				t.Fatalf("client neighbour entry for the VIP: %q, want n1's %s", got, mac1)
			}

			ps[0].Kill9()
			if !waitFor(3*time.Second, func() bool { return n2.HasAddr(vip6.Addr()) }) {
				t.Fatalf("n2 did not take the IPv6 VIP after kill -9 of n1\n%s", tail(ps[1].Output(), 40))
			}
			mustState(t, n2, dir, "VI_1", "MASTER", time.Second, ps[1])
			// The unsolicited NA (override) must repoint the client's entry
			// on its own, well before neighbour unreachability detection would.
			if !waitFor(time.Second, func() bool { return neighMAC(b.Client, vip6.Addr().String()) == mac2 }) {
				t.Fatalf("client neighbour entry for the VIP is %q 1s after the takeover, want n2's %s (no unsolicited NA?)\n%s",
					neighMAC(b.Client, vip6.Addr().String()), mac2, tail(ps[1].Output(), 30))
			}
			mustReach(t, b, vip6.Addr(), "n2")
		})
	}
}

// macOf returns the MAC address of the namespace's eth0.
func macOf(t *testing.T, ns *harness.NS) string {
	t.Helper()
	var mac string
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		mac = ifi.HardwareAddr.String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return mac
}

// neighMAC returns the link-layer address of addr in the namespace's
// neighbour table ("" when there is no entry with one).
func neighMAC(ns *harness.NS, addr string) string {
	out, err := ns.IP("neigh", "show", addr, "dev", "eth0")
	if err != nil {
		return ""
	}
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "lladdr" {
			return f[i+1]
		}
	}
	return ""
}
