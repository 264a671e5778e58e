package vrrp

import (
	"context"
	"net/netip"
)

// TTL is the IPv4 TTL and IPv6 hop limit every advertisement is sent with
// (RFC 5798 §5.1.1.3, §5.1.2.3).
const TTL = 255

// Packet is a received advertisement with its IP envelope.
type Packet struct {
	Advert   Advert
	Src, Dst netip.Addr // zone stripped; IfIndex names the link
	TTL      int        // IPv4 TTL or IPv6 hop limit as received
	IfIndex  int        // receiving interface
}

// Family returns 4 or 6, the address family of the packet (0 if Src is
// invalid).
func (p Packet) Family() int { return Family(p.Src) }

// Family returns 4 for an IPv4 (or IPv4-mapped) address, 6 for IPv6 and 0
// for the zero Addr.
func Family(a netip.Addr) int {
	switch {
	case !a.IsValid():
		return 0
	case a.Unmap().Is4():
		return 4
	default:
		return 6
	}
}

// Conn is the transport of advertisements: one per address family per agent,
// shared by all instances of that family (see Mux). Implementations are safe
// for concurrent Send; Recv is called by one goroutine at a time.
type Conn interface {
	// Send writes a to dst from src out of interface ifIndex with TTL/hop
	// limit 255. src must be a valid address of dst's family: it is part of
	// the v3 checksum.
	Send(ctx context.Context, ifIndex int, src, dst netip.Addr, a Advert) error
	// Recv returns the next packet; a malformed one comes back as a
	// *DropError (the caller counts it and goes on), together with whatever
	// of the Packet envelope was known. Recv returns ctx.Err() once ctx is
	// done, and an error wrapping net.ErrClosed after Close.
	Recv(ctx context.Context) (Packet, error)
	// JoinGroup joins the VRRP multicast group of the family on the interface
	// (multicast mode only). Joining twice is not an error.
	JoinGroup(ifIndex int) error
	// Close releases the socket; it is safe to call more than once.
	Close() error
}
