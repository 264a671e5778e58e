package bfd

import (
	"context"
	"net/netip"
)

// Ports of RFC 5881 §4: Control packets go to port 3784, from a source port
// in 49152..65535 that stays the same for the life of a session.
const (
	ControlPort = 3784
	MinSrcPort  = 49152
	MaxSrcPort  = 65535
)

// TTL is the IPv4 TTL / IPv6 hop limit every packet is sent with, and the
// only one accepted (RFC 5881 §5, GTSM, RFC 5082): a packet with less came
// from more than one hop away.
const TTL = 255

// Packet is a datagram on the BFD control port with its IP envelope.
type Packet struct {
	Src, Dst netip.Addr // unmapped, zone stripped
	IfIndex  int        // receiving interface; on send, the outgoing one (0: routing decides)
	TTL      int        // IPv4 TTL or IPv6 hop limit as received (ignored on send: always TTL)
	Payload  []byte     // the UDP payload
}

// Conn is the transport of a Mux: UDP port 3784 for both address families.
// Implementations are safe for concurrent Send; Recv is called by one
// goroutine.
type Conn interface {
	// Send writes p.Payload to p.Dst port 3784 from p.Src (the kernel picks
	// one if invalid) out of p.IfIndex, from the Conn's fixed source port,
	// with TTL/hop limit 255.
	Send(ctx context.Context, p Packet) error
	// Recv returns the next datagram received on port 3784. It returns
	// ctx.Err() once ctx is done and an error wrapping net.ErrClosed after
	// Close.
	Recv(ctx context.Context) (Packet, error)
	// Close releases the sockets; it is safe to call more than once.
	Close() error
}
