package netlink

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
)

// allNodes is the IPv6 all-nodes multicast group (RFC 4291 §2.7.1), the
// destination of an unsolicited neighbour advertisement (RFC 4861 §7.2.6).
var allNodes = netip.MustParseAddr("ff02::1")

// allNodesMAC is allNodes mapped to Ethernet (RFC 2464 §7: 33:33 + low 32 bits).
var allNodesMAC = net.HardwareAddr{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}

// ndHopLimit is the hop limit every neighbour discovery message carries and
// receivers check (RFC 4861 §7.1.2).
const ndHopLimit = 255

// garpPacket builds the ARP payload of the gratuitous ARP keepalived sends
// (vrrp_arp.c, send_gratuitous_arp_immediate): a request whose sender and
// target protocol addresses are both the VIP, sender hardware address the
// interface MAC and target hardware address ff:ff:ff:ff:ff:ff. A request (not
// a reply) is what switches, hosts and cloud HAVIPs update their tables from.
// garpFrame frames it from the sender MAC to the broadcast address, padded
// to the Ethernet minimum.
func garpPacket(mac net.HardwareAddr, vip netip.Addr) (*arp.Packet, error) {
	if len(mac) != 6 {
		return nil, fmt.Errorf("garp: hardware address %q is not Ethernet", mac)
	}
	if !vip.Is4() {
		return nil, fmt.Errorf("garp: %s is not an IPv4 address", vip)
	}
	// arp.NewPacket accepts ethernet.Broadcast as the target hardware
	// address (it is even exempt from its length check).
	p, err := arp.NewPacket(arp.OperationRequest, mac, vip, ethernet.Broadcast, vip)
	if err != nil {
		return nil, fmt.Errorf("garp: %w", err)
	}
	return p, nil
}

// garpFrame is garpPacket in its Ethernet frame, as arp.Client.WriteTo
// frames it: from the interface MAC to the broadcast address, padded to the
// Ethernet minimum.
func garpFrame(mac net.HardwareAddr, vip netip.Addr) ([]byte, error) {
	p, err := garpPacket(mac, vip)
	if err != nil {
		return nil, err
	}
	pb, err := p.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("garp: %w", err)
	}
	f := &ethernet.Frame{Destination: ethernet.Broadcast, Source: mac, EtherType: ethernet.EtherTypeARP, Payload: pb}
	b, err := f.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("garp: %w", err)
	}
	return b, nil
}

// unsolicitedNAFrame builds the unsolicited neighbour advertisement keepalived
// sends (vrrp_ndisc.c, ndisc_send_unsolicited_na_immediate; RFC 4861 §7.2.6):
// Ethernet to 33:33:00:00:00:01, IPv6 from the VIP to ff02::1 with hop limit
// 255, ICMPv6 NA with Override set and Solicited clear, Target = VIP, and a
// target link-layer address option carrying the interface MAC. router sets
// the R flag (keepalived copies the interface's forwarding setting).
//
// The NA message comes from mdlayher/ndp, but the IPv6 header and Ethernet
// frame are built here and sent on a packet socket rather than with an
// ndp.Conn: ndp.Conn sends through the kernel's IPv6 stack, which (with the
// default net.ipv6.auto_flowlabels=1) puts a hashed flow label in the header
// where keepalived's frame has 0, and ndp.Conn exposes no way to set
// IPV6_AUTOFLOWLABEL off. It also binds to the VIP, so it cannot announce a
// VIP that is not (or no longer) assigned.
func unsolicitedNAFrame(mac net.HardwareAddr, vip netip.Addr, router bool) ([]byte, error) {
	if len(mac) != 6 {
		return nil, fmt.Errorf("unsolicited na: hardware address %q is not Ethernet", mac)
	}
	if !vip.Is6() || vip.Is4In6() {
		return nil, fmt.Errorf("unsolicited na: %s is not an IPv6 address", vip)
	}
	na := &ndp.NeighborAdvertisement{
		Router:        router,
		Solicited:     false,
		Override:      true,
		TargetAddress: vip,
		Options: []ndp.Option{
			&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: mac},
		},
	}
	icmp, err := ndp.MarshalMessageChecksum(na, vip, allNodes)
	if err != nil {
		return nil, fmt.Errorf("unsolicited na: %w", err)
	}
	ip := ipv6Header(vip, allNodes, len(icmp))
	f := ethernet.Frame{
		Destination: allNodesMAC,
		Source:      mac,
		EtherType:   ethernet.EtherTypeIPv6,
		Payload:     append(ip, icmp...),
	}
	return f.MarshalBinary()
}

// ipv6Header returns a fixed IPv6 header (RFC 8200 §3) for an ICMPv6 payload
// of n bytes with hop limit 255.
func ipv6Header(src, dst netip.Addr, n int) []byte {
	const nextHeaderICMPv6 = 58
	h := make([]byte, 40)
	h[0] = 6 << 4 // version 6, traffic class 0, flow label 0
	binary.BigEndian.PutUint16(h[4:6], uint16(n))
	h[6] = nextHeaderICMPv6
	h[7] = ndHopLimit
	s, d := src.As16(), dst.As16()
	copy(h[8:24], s[:])
	copy(h[24:40], d[:])
	return h
}
