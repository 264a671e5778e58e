//go:build linux

package netlink

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/packet"
)

// recordConn is a net.PacketConn that records what is written to it; the
// methods a Client's WriteTo does not use are left to the nil embedded value.
type recordConn struct {
	net.PacketConn
	writes [][]byte
	addrs  []net.Addr
}

func (c *recordConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	c.writes = append(c.writes, append([]byte(nil), b...))
	c.addrs = append(c.addrs, addr)
	return len(b), nil
}

// loopbackIPv4 returns an interface with an IPv4 address, which arp.New
// insists on, or skips the test.
func loopbackIPv4(t *testing.T) net.Interface {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Skipf("list interfaces: %v; skipped", err)
	}
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagLoopback == 0 {
			continue
		}
		as, _ := ifi.Addrs()
		for _, a := range as {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() {
				return ifi
			}
		}
	}
	t.Skip("no loopback interface with an IPv4 address for arp.New; skipped")
	return net.Interface{}
}

// TestGARPWire checks the frame an arp.Client writes for garpPacket byte by
// byte, without root: the client runs on a recording PacketConn.
func TestGARPWire(t *testing.T) {
	ifi := loopbackIPv4(t)
	ifi.HardwareAddr = testMAC
	rc := &recordConn{}
	c, err := arp.New(&ifi, rc)
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := garpPacket(testMAC, netip.MustParseAddr("192.0.2.100"))
	if err != nil {
		t.Fatal(err)
	}
	if err := (garpSender{c: c, pkt: pkt}).send(); err != nil {
		t.Fatal(err)
	}
	// Written field by field from keepalived's send_gratuitous_arp_immediate.
	want := []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // eth dst: broadcast
		0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, // eth src: interface MAC
		0x08, 0x06, // ethertype ARP
		0x00, 0x01, // htype Ethernet
		0x08, 0x00, // ptype IPv4
		6, 4, // hlen, plen
		0x00, 0x01, // op request
		0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, // sha: interface MAC
		192, 0, 2, 100, // spa: VIP
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // tha: broadcast
		192, 0, 2, 100, // tpa: VIP
	}
	want = append(want, make([]byte, 60-len(want))...) // Ethernet minimum
	if diff := cmp.Diff([][]byte{want}, rc.writes); diff != "" {
		t.Errorf("written frames (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]net.Addr{&packet.Addr{HardwareAddr: ethernet.Broadcast}}, rc.addrs); diff != "" {
		t.Errorf("socket addresses (-want +got):\n%s", diff)
	}
}
