//go:build linux

package netlink

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
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

// TestGARPWire checks the frame a garpSender writes byte by byte, without
// root: it writes to a recording PacketConn.
func TestGARPWire(t *testing.T) {
	rc := &recordConn{}
	frame, err := garpFrame(testMAC, netip.MustParseAddr("192.0.2.100"))
	if err != nil {
		t.Fatal(err)
	}
	if err := (garpSender{c: rc, frame: frame}).send(); err != nil {
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
