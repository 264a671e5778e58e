package netlink

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testMAC = net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x20, 0x30}

func TestUnsolicitedNAFrame(t *testing.T) {
	vip := netip.MustParseAddr("2001:db8::100")
	for _, router := range []bool{false, true} {
		got, err := unsolicitedNAFrame(testMAC, vip, router)
		if err != nil {
			t.Fatal(err)
		}
		var flags byte = 0x20 // Override
		if router {
			flags |= 0x80
		}
		want := []byte{
			0x33, 0x33, 0x00, 0x00, 0x00, 0x01, // eth dst: ff02::1 mapped
			0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, // eth src
			0x86, 0xdd, // ethertype IPv6
			0x60, 0, 0, 0, // version 6
			0, 32, // payload length: NA 24 + option 8
			58, 255, // next header ICMPv6, hop limit 255
		}
		v := vip.As16()
		want = append(want, v[:]...)
		want = append(want, 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01)
		icmp := []byte{
			136, 0, 0, 0, // type NA, code 0, checksum (filled below)
			flags, 0, 0, 0, // R S O flags + reserved
		}
		icmp = append(icmp, v[:]...)    // target
		icmp = append(icmp, 2, 1)       // option: target link-layer address, 8 bytes
		icmp = append(icmp, testMAC...) //
		binary.BigEndian.PutUint16(icmp[2:4], checksum(t, vip, allNodes, icmp))
		want = append(want, icmp...)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("unsolicitedNAFrame(router=%v) (-want +got):\n%s", router, diff)
		}
		// The checksum of a correct message, taken over it whole, is 0.
		if c := checksum(t, vip, allNodes, got[14+40:]); c != 0 {
			t.Errorf("checksum over the sent message = %#04x, want 0", c)
		}
	}
}

func TestFrameErrors(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	tests := []struct {
		name string
		fn   func() (any, error)
	}{
		{"garp ipv6", func() (any, error) { return garpPacket(testMAC, v6) }},
		{"garp no mac", func() (any, error) { return garpPacket(nil, v4) }},
		{"garp short mac", func() (any, error) { return garpPacket(testMAC[:4], v4) }},
		{"na ipv4", func() (any, error) { return unsolicitedNAFrame(testMAC, v4, false) }},
		{"na 4in6", func() (any, error) {
			return unsolicitedNAFrame(testMAC, netip.AddrFrom16(v4.As16()), false)
		}},
		{"na short mac", func() (any, error) { return unsolicitedNAFrame(testMAC[:4], v6, false) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v, err := tt.fn(); err == nil {
				t.Errorf("got %v, want error", v)
			}
		})
	}
}

// checksum is an independent RFC 1071 one's-complement sum over the ICMPv6
// pseudo-header (RFC 8200 §8.1) and msg.
func checksum(t *testing.T, src, dst netip.Addr, msg []byte) uint16 {
	t.Helper()
	s, d := src.As16(), dst.As16()
	b := append(append([]byte{}, s[:]...), d[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(msg)))
	b = append(b, 0, 0, 0, 58)
	b = append(b, msg...)
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	var sum uint32
	for i := 0; i < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
