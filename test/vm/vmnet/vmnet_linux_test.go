//go:build linux

package vmnet

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netlink"
)

// TestLab builds two namespaces joined by a veth pair, with a real server
// in one, and checks each helper against the kernel. It needs root (any
// kernel with veth and bridge: no VM, no IP_VS).
func TestLab(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skip: vmnet's namespace test needs root")
	}
	a, b := New(t, "vnet-a"), New(t, "vnet-b")
	Veth(t, a, "vnet-ab", b, "eth0")
	a.Bridge(t, "vnet-br")
	a.Enslave(t, "vnet-ab", "vnet-br")
	a.Up(t, "vnet-br", "192.0.2.1/24")
	a.Up(t, "vnet-ab")
	b.Up(t, "eth0", "192.0.2.2/24")
	b.AddAddr(t, "lo", "192.0.2.100/32")
	b.DefaultRoute(t, "192.0.2.1")
	a.WaitOperUp(t, "vnet-ab", "vnet-br")
	b.WaitOperUp(t, "eth0")

	if got, want := a.Link(t, "vnet-ab").Attrs().MasterIndex, a.Link(t, "vnet-br").Attrs().Index; got != want {
		t.Errorf("vnet-ab master index = %d, want the bridge's %d", got, want)
	}
	routes, err := b.NL.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var gws []string
	for _, r := range routes {
		if r.Gw != nil { // only the default route has a gateway
			gws = append(gws, r.Gw.String())
		}
	}
	if diff := cmp.Diff([]string{"192.0.2.1"}, gws); diff != "" {
		t.Errorf("b's default gateways (-want +got):\n%s", diff)
	}

	// Each namespace sees its own links and sysctls.
	a.Sysctl(t, "net/ipv4/ip_forward", "1")
	b.Sysctl(t, "net/ipv4/ip_forward", "0")
	for _, tt := range []struct {
		ns      *NS
		forward string
		hasLink bool
	}{{a, "1", true}, {b, "0", false}} {
		fwd, err := tt.ns.ReadFile("/proc/sys/net/ipv4/ip_forward")
		if err != nil || strings.TrimSpace(fwd) != tt.forward {
			t.Errorf("%s: ip_forward = %q (%v), want %s", tt.ns.Name, fwd, err, tt.forward)
		}
		dev, err := tt.ns.ReadFile("/proc/thread-self/net/dev")
		if err != nil || strings.Contains(dev, "vnet-ab:") != tt.hasLink {
			t.Errorf("%s: /proc/thread-self/net/dev lists vnet-ab: %v, want %v (%v)", tt.ns.Name, !tt.hasLink, tt.hasLink, err)
		}
	}

	rs := &RealServer{Name: "rs", Addr: netip.MustParseAddr("192.0.2.2"), NS: b, Idle: 10 * time.Second}
	rs.Start(t)
	to := netip.AddrPortFrom(rs.Addr, 80)
	deadline := time.Now().Add(10 * time.Second)
	for !Probe(a, to) {
		if time.Now().After(deadline) {
			t.Fatalf("a cannot reach %v", to)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if diff := cmp.Diff(map[string]int{"rs": 3}, Connect(t, a, to, 3)); diff != "" {
		t.Errorf("Connect (-want +got):\n%s", diff)
	}
	lc, name, err := DialLong(t, a, to)
	if err != nil || name != "rs" {
		t.Fatalf("DialLong = %q, %v; want rs", name, err)
	}
	if lc.LocalPort() == 0 {
		t.Errorf("LocalPort() = 0")
	}

	// Stop refuses new connections and keeps serving the open one.
	rs.Stop()
	if Probe(a, to) {
		t.Errorf("Probe(%v) after Stop = true, want false", to)
	}
	if diff := cmp.Diff(map[string]int{"error": 1}, Connect(t, a, to, 1)); diff != "" {
		t.Errorf("Connect after Stop (-want +got):\n%s", diff)
	}
	if got, err := lc.Ping(3 * time.Second); err != nil || got != "rs" {
		t.Errorf("Ping after Stop = %q, %v; want rs", got, err)
	}
	if err := lc.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}

	// b answers ARP for its eth0 address, and (arp_ignore=0) for the
	// address on its lo as well.
	bMAC := b.Link(t, "eth0").Attrs().HardwareAddr.String()
	for _, ip := range []string{"192.0.2.2", "192.0.2.100"} {
		macs, err := ARPAnswers(a, "vnet-br", netip.MustParseAddr(ip), time.Second)
		if err != nil {
			t.Fatalf("ARPAnswers(%s): %v", ip, err)
		}
		if diff := cmp.Diff([]string{bMAC}, macs); diff != "" {
			t.Errorf("ARP answers for %s (-want +got):\n%s", ip, diff)
		}
	}
	b.Sysctl(t, "net/ipv4/conf/all/arp_ignore", "1", "net/ipv4/conf/eth0/arp_ignore", "1")
	macs, err := ARPAnswers(a, "vnet-br", netip.MustParseAddr("192.0.2.100"), 500*time.Millisecond)
	if err != nil || len(macs) != 0 {
		t.Errorf("ARP answers for lo's address with arp_ignore=1 = %v (%v), want none", macs, err)
	}
}
