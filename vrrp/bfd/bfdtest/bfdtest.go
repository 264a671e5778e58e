// Package bfdtest provides an in-memory network for bfd: Conns wired to each
// other by address, with loss and a settable TTL, so that sessions run
// end-to-end in tests without sockets.
package bfdtest

import (
	"context"

	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/vipd/vipd/vrrp"
	"github.com/vipd/vipd/vrrp/bfd"
)

var _ bfd.Conn = (*Conn)(nil)

// queueSize is the receive buffer of a Conn, in packets.
const queueSize = 256

// Network connects Conns by address. It is safe for concurrent use.
type Network struct {
	clk vrrp.Clock

	mu    sync.Mutex
	conns map[netip.Addr]*Conn
	down  map[netip.Addr]bool // addresses whose packets are lost both ways
	ttl   int                 // TTL packets arrive with
}

// NewNetwork returns an empty network; clk stamps Sent records.
func NewNetwork(clk vrrp.Clock) *Network {
	return &Network{clk: clk, conns: make(map[netip.Addr]*Conn), down: make(map[netip.Addr]bool), ttl: bfd.TTL}
}

// NewConn returns a Conn that owns addrs (e.g. one IPv4 and one IPv6
// address of a node) on interface ifIndex.
func (n *Network) NewConn(ifIndex int, addrs ...netip.Addr) (*Conn, error) {
	c := &Conn{net: n, ifIndex: ifIndex, addrs: addrs, in: make(chan bfd.Packet, queueSize), closed: make(chan struct{})}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range addrs {
		if n.conns[a] != nil {
			return nil, fmt.Errorf("bfdtest: address %v in use", a)
		}
	}
	for _, a := range addrs {
		n.conns[a] = c
	}
	return c, nil
}

// Drop loses every packet from or to addr until Heal.
func (n *Network) Drop(addr netip.Addr) {
	n.mu.Lock()
	n.down[addr] = true
	n.mu.Unlock()
}

// Heal ends every Drop.
func (n *Network) Heal() {
	n.mu.Lock()
	clear(n.down)
	n.mu.Unlock()
}

// SetTTL sets the TTL packets arrive with (bfd.TTL by default), to test
// the GTSM check.
func (n *Network) SetTTL(ttl int) {
	n.mu.Lock()
	n.ttl = ttl
	n.mu.Unlock()
}

// Sent is a packet a Conn sent.
type Sent struct {
	At     time.Time
	Packet bfd.Packet
	Lost   bool // dropped by the network
}

// Conn is one node's endpoint on a Network.
type Conn struct {
	net     *Network
	ifIndex int
	addrs   []netip.Addr
	in      chan bfd.Packet

	mu      sync.Mutex
	sent    []Sent
	sendErr error
	closed  chan struct{}
	once    sync.Once
}

// Sent returns every packet sent so far.
func (c *Conn) Sent() []Sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sent)
}

// SetSendError makes Send fail with err (nil: succeed again).
func (c *Conn) SetSendError(err error) {
	c.mu.Lock()
	c.sendErr = err
	c.mu.Unlock()
}

// Send delivers p to the Conn owning p.Dst, unless lost; a packet whose Dst
// nobody owns is lost silently, like UDP. A copy of the payload is sent.
func (c *Conn) Send(ctx context.Context, p bfd.Packet) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-c.closed:
		return fmt.Errorf("bfdtest: send: %w", net.ErrClosed)
	default:
	}
	n := c.net
	src := p.Src
	if !src.IsValid() {
		for _, a := range c.addrs {
			if a.Is4() == p.Dst.Is4() {
				src = a
				break
			}
		}
	}
	n.mu.Lock()
	dst := n.conns[p.Dst]
	lost := dst == nil || n.down[src] || n.down[p.Dst]
	ttl := n.ttl
	n.mu.Unlock()
	c.mu.Lock()
	err := c.sendErr
	if err == nil {
		c.sent = append(c.sent, Sent{At: n.clk.Now(), Packet: p, Lost: lost})
	}
	c.mu.Unlock()
	if err != nil || lost {
		return err
	}
	dst.enqueue(bfd.Packet{Src: src, Dst: p.Dst, IfIndex: dst.ifIndex, TTL: ttl, Payload: slices.Clone(p.Payload)})
	return nil
}

func (c *Conn) enqueue(p bfd.Packet) {
	select {
	case <-c.closed:
	case c.in <- p:
	default: // full: lost
	}
}

// Recv returns the next packet.
func (c *Conn) Recv(ctx context.Context) (bfd.Packet, error) {
	select {
	case p := <-c.in:
		return p, nil
	case <-ctx.Done():
		return bfd.Packet{}, ctx.Err()
	case <-c.closed:
		return bfd.Packet{}, fmt.Errorf("bfdtest: recv: %w", net.ErrClosed)
	}
}

// Close detaches the Conn; it is safe to call more than once.
func (c *Conn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.net.mu.Lock()
		for _, a := range c.addrs {
			if c.net.conns[a] == c {
				delete(c.net.conns, a)
			}
		}
		c.net.mu.Unlock()
	})
	return nil
}
