package vrrptest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/vipd/vipd/vrrp"
)

var _ vrrp.Conn = (*Conn)(nil)

// inboxSize is the number of packets a Conn buffers before it drops.
const inboxSize = 256

// Network wires in-memory Conns together, like hashicorp/memberlist's
// MockNetwork. Every Conn has one address. A packet to a unicast address
// reaches the Conn with that address; a packet to 224.0.0.18 or ff02::12
// reaches every other Conn of the family that called JoinGroup. Packets
// go through vrrp.Marshal and vrrp.Unmarshal, so an advert that would not
// encode fails Send. Drop, DropLink and Partition lose packets until Heal.
// A Network is safe for concurrent use.
type Network struct {
	clk vrrp.Clock

	mu        sync.Mutex
	conns     map[netip.Addr]*Conn
	isolated  map[netip.Addr]bool
	links     map[[2]netip.Addr]bool // dropped (from, to)
	partition map[netip.Addr]int     // address → side + 1
	delay     time.Duration
}

// NewNetwork returns an empty Network. clk times delayed delivery (see
// SetDelay); nil means vrrp.RealClock.
func NewNetwork(clk vrrp.Clock) *Network {
	if clk == nil {
		clk = vrrp.RealClock()
	}
	return &Network{
		clk:       clk,
		conns:     make(map[netip.Addr]*Conn),
		isolated:  make(map[netip.Addr]bool),
		links:     make(map[[2]netip.Addr]bool),
		partition: make(map[netip.Addr]int),
	}
}

// NewConn attaches a Conn with address addr on interface ifIndex (the
// IfIndex of the packets it receives).
func (n *Network) NewConn(addr netip.Addr, ifIndex int) (*Conn, error) {
	addr = addr.Unmap()
	if !addr.IsValid() {
		return nil, errors.New("vrrptest: new conn: invalid address")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.conns[addr]; ok {
		return nil, fmt.Errorf("vrrptest: new conn: address %v already in use", addr)
	}
	c := &Conn{
		n:       n,
		addr:    addr,
		ifIndex: ifIndex,
		in:      make(chan received, inboxSize),
		done:    make(chan struct{}),
		joined:  make(map[int]bool),
	}
	n.conns[addr] = c
	return c, nil
}

// Drop loses every packet from or to addr (the node "dies" on the wire)
// until Heal.
func (n *Network) Drop(addr netip.Addr) {
	n.mu.Lock()
	n.isolated[addr.Unmap()] = true
	n.mu.Unlock()
}

// DropLink loses the packets from one address to another (one direction)
// until Heal.
func (n *Network) DropLink(from, to netip.Addr) {
	n.mu.Lock()
	n.links[[2]netip.Addr{from.Unmap(), to.Unmap()}] = true
	n.mu.Unlock()
}

// Partition splits the network: packets between addresses of different
// sides are lost until Heal. Addresses on no side reach everyone.
func (n *Network) Partition(sides ...[]netip.Addr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.partition)
	for i, side := range sides {
		for _, a := range side {
			n.partition[a.Unmap()] = i + 1
		}
	}
}

// Heal undoes every Drop, DropLink and Partition.
func (n *Network) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.isolated)
	clear(n.links)
	clear(n.partition)
}

// SetDelay delays every later delivery by d on the Network's clock (0:
// deliver during Send).
func (n *Network) SetDelay(d time.Duration) {
	n.mu.Lock()
	n.delay = d
	n.mu.Unlock()
}

// lost reports whether a packet from one address to another is lost.
// n.mu must be held.
func (n *Network) lost(from, to netip.Addr) bool {
	if n.isolated[from] || n.isolated[to] || n.links[[2]netip.Addr{from, to}] {
		return true
	}
	pf, pt := n.partition[from], n.partition[to]
	return pf != 0 && pt != 0 && pf != pt
}

// route delivers the encoded advert b from c to dst.
func (n *Network) route(c *Conn, src, dst netip.Addr, b []byte) {
	n.mu.Lock()
	var to []*Conn
	if dst == vrrp.MulticastIPv4 || dst == vrrp.MulticastIPv6 {
		for _, r := range n.conns {
			if r != c && vrrp.Family(r.addr) == vrrp.Family(dst) && r.isJoined() {
				to = append(to, r)
			}
		}
	} else if r, ok := n.conns[dst]; ok && r != c {
		to = append(to, r)
	}
	to = slices.DeleteFunc(to, func(r *Conn) bool { return n.lost(c.addr, r.addr) })
	delay := n.delay
	n.mu.Unlock()
	for _, r := range to {
		deliver := func() { r.enqueue(src, dst, b) }
		if delay > 0 {
			n.clk.AfterFunc(delay, deliver)
		} else {
			deliver()
		}
	}
}

// Sent is one advert a Conn sent.
type Sent struct {
	At       time.Time // the Network clock's time of the Send
	IfIndex  int
	Src, Dst netip.Addr
	Advert   vrrp.Advert
}

type received struct {
	p   vrrp.Packet
	err error
}

// Conn is one endpoint of a Network; it implements vrrp.Conn.
type Conn struct {
	n       *Network
	addr    netip.Addr
	ifIndex int
	in      chan received
	done    chan struct{}

	mu      sync.Mutex
	closed  bool
	joined  map[int]bool
	sent    []Sent
	sendErr error
	dropped int
}

// Addr returns the Conn's address.
func (c *Conn) Addr() netip.Addr { return c.addr }

// Sent returns a copy of every advert sent so far, in order.
func (c *Conn) Sent() []Sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sent)
}

// Pending returns the number of packets waiting for Recv.
func (c *Conn) Pending() int { return len(c.in) }

// Dropped returns the number of packets lost because the Conn's buffer was
// full.
func (c *Conn) Dropped() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// SetSendError makes every later Send fail with err (nil: succeed again).
func (c *Conn) SetSendError(err error) {
	c.mu.Lock()
	c.sendErr = err
	c.mu.Unlock()
}

// Send encodes a and routes it to dst. It fails after Close, when ctx is
// done, when a does not encode, or with the SetSendError error.
func (c *Conn) Send(ctx context.Context, ifIndex int, src, dst netip.Addr, a vrrp.Advert) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("vrrptest: send: %w", err)
	}
	src, dst = src.Unmap(), dst.Unmap()
	b, err := vrrp.Marshal(a, src, dst)
	if err != nil {
		return fmt.Errorf("vrrptest: send: %w", err)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fmt.Errorf("vrrptest: send: %w", net.ErrClosed)
	}
	if c.sendErr != nil {
		err := c.sendErr
		c.mu.Unlock()
		return fmt.Errorf("vrrptest: send: %w", err)
	}
	a.Addrs = slices.Clone(a.Addrs)
	c.sent = append(c.sent, Sent{At: c.n.clk.Now(), IfIndex: ifIndex, Src: src, Dst: dst, Advert: a})
	c.mu.Unlock()
	c.n.route(c, src, dst, b)
	return nil
}

// enqueue decodes b as received by c and buffers it, dropping it when the
// buffer is full or c is closed.
func (c *Conn) enqueue(src, dst netip.Addr, b []byte) {
	a, err := vrrp.Unmarshal(b, src, dst)
	r := received{p: vrrp.Packet{Advert: a, Src: src, Dst: dst, TTL: vrrp.TTL, IfIndex: c.ifIndex}, err: err}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	select {
	case c.in <- r:
	default:
		c.dropped++
	}
}

// Recv returns the next packet; an undecodable one comes back with its
// *vrrp.DropError.
func (c *Conn) Recv(ctx context.Context) (vrrp.Packet, error) {
	select {
	case r := <-c.in:
		return r.p, r.err
	case <-ctx.Done():
		return vrrp.Packet{}, ctx.Err()
	case <-c.done:
		return vrrp.Packet{}, fmt.Errorf("vrrptest: recv: %w", net.ErrClosed)
	}
}

// JoinGroup makes c receive multicast adverts. Joining twice is not an
// error.
func (c *Conn) JoinGroup(ifIndex int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fmt.Errorf("vrrptest: join group: %w", net.ErrClosed)
	}
	c.joined[ifIndex] = true
	return nil
}

func (c *Conn) isJoined() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.joined) > 0
}

// Close detaches c from the Network; it is safe to call more than once.
func (c *Conn) Close() error {
	// Lock order: Network.mu before Conn.mu (route), so never nest them
	// the other way round here.
	c.mu.Lock()
	was := c.closed
	if !was {
		c.closed = true
		close(c.done)
	}
	c.mu.Unlock()
	if !was {
		c.n.mu.Lock()
		if c.n.conns[c.addr] == c {
			delete(c.n.conns, c.addr)
		}
		c.n.mu.Unlock()
	}
	return nil
}

// Pump receives from c until ctx is done or c is closed, and delivers each
// packet to the router of its VRID, like vrrp's Mux does. Undecodable
// packets and unknown VRIDs are counted in counters (may be nil). It
// returns nil on ctx done or close, else the Recv error.
func Pump(ctx context.Context, c vrrp.Conn, counters *vrrp.Counters, routers ...*vrrp.Router) error {
	byVRID := make(map[uint8]*vrrp.Router, len(routers))
	for _, r := range routers {
		byVRID[r.Config().VRID] = r
	}
	for {
		p, err := c.Recv(ctx)
		if err != nil {
			if reason, ok := vrrp.DropReasonOf(err); ok {
				counters.Inc(reason)
				continue
			}
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("vrrptest: pump: %w", err)
		}
		r, ok := byVRID[p.Advert.VRID]
		if !ok {
			counters.Inc(vrrp.DropVRIDUnknown)
			continue
		}
		r.Deliver(p)
	}
}
