//go:build linux

package vrrp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// tosInternetControl is the IPv4 TOS / IPv6 traffic class keepalived sends
// with (IPTOS_PREC_INTERNETCONTROL), so adverts survive congestion first.
const tosInternetControl = 0xc0

// maxOwnAddrs bounds the set of source addresses remembered to recognise our
// own packets; an agent uses one source per interface and family.
const maxOwnAddrs = 256

// ListenIPv4 opens the raw IPv4 protocol 112 socket of the agent. It
// receives unicast VRRP on all interfaces, and multicast on those passed
// to JoinGroup. Sends use TTL 255 and TOS 0xc0; multicast loopback is off.
// It needs CAP_NET_RAW.
func ListenIPv4() (Conn, error) {
	c, err := net.ListenPacket("ip4:112", "0.0.0.0")
	if err != nil {
		return nil, fmt.Errorf("vrrp: listen ipv4: %w", err)
	}
	p := ipv4.NewPacketConn(c)
	for _, step := range []struct {
		op string
		f  func() error
	}{
		{"control messages", func() error { return p.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true) }},
		{"ttl", func() error { return p.SetTTL(TTL) }},
		{"multicast ttl", func() error { return p.SetMulticastTTL(TTL) }},
		{"multicast loopback", func() error { return p.SetMulticastLoopback(false) }},
		{"tos", func() error { return p.SetTOS(tosInternetControl) }},
		{"receive buffer", func() error { return setRecvBuffer(c) }},
	} {
		if err := step.f(); err != nil {
			c.Close()
			return nil, fmt.Errorf("vrrp: listen ipv4: set %s: %w", step.op, err)
		}
	}
	return newRawConn(4, &sock4{p: p}), nil
}

// ListenIPv6 opens the raw IPv6 protocol 112 socket of the agent, like
// ListenIPv4, with hop limit 255 and traffic class 0xc0.
func ListenIPv6() (Conn, error) {
	c, err := net.ListenPacket("ip6:112", "::")
	if err != nil {
		return nil, fmt.Errorf("vrrp: listen ipv6: %w", err)
	}
	p := ipv6.NewPacketConn(c)
	for _, step := range []struct {
		op string
		f  func() error
	}{
		{"control messages", func() error {
			return p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true)
		}},
		{"hop limit", func() error { return p.SetHopLimit(TTL) }},
		{"multicast hop limit", func() error { return p.SetMulticastHopLimit(TTL) }},
		{"multicast loopback", func() error { return p.SetMulticastLoopback(false) }},
		{"traffic class", func() error { return p.SetTrafficClass(tosInternetControl) }},
		{"receive buffer", func() error { return setRecvBuffer(c) }},
	} {
		if err := step.f(); err != nil {
			c.Close()
			return nil, fmt.Errorf("vrrp: listen ipv6: set %s: %w", step.op, err)
		}
	}
	return newRawConn(6, &sock6{p: p}), nil
}

// recvBuffer is the receive buffer of a VRRP socket: room for the adverts
// of every instance of an agent arriving in one burst (masters send on the
// same slots, see advertDelay): 1,020 instances at ~1 KiB of kernel memory
// per queued packet. The memory is used only while packets wait.
const recvBuffer = 2 << 20

// setRecvBuffer sets the socket's receive buffer to recvBuffer, above
// net.core.rmem_max when the process has CAP_NET_ADMIN (SO_RCVBUFFORCE),
// else as far as rmem_max allows.
func setRecvBuffer(c net.PacketConn) error {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, recvBuffer) != nil {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, recvBuffer)
		}
	}); err != nil {
		return err
	}
	return serr
}

// rawSock is the family-specific half of rawConn.
type rawSock interface {
	// read returns the payload length and envelope; dst is invalid when the
	// kernel sent no control message.
	read(b []byte) (n int, src, dst netip.Addr, ttl, ifIndex int, err error)
	write(b []byte, ifIndex int, src, dst netip.Addr) error
	join(ifi *net.Interface) error
	setReadDeadline(t time.Time) error
	close() error
}

// rawConn implements Conn over a rawSock.
type rawConn struct {
	family int
	sock   rawSock

	rmu sync.Mutex // serialises Recv; guards buf
	buf []byte

	omu sync.Mutex
	own map[netip.Addr]struct{} // sources we sent from

	closeOnce sync.Once
	closeErr  error
}

var _ Conn = (*rawConn)(nil)

func newRawConn(family int, s rawSock) *rawConn {
	return &rawConn{family: family, sock: s, buf: make([]byte, 1<<16), own: map[netip.Addr]struct{}{}}
}

func (c *rawConn) Send(ctx context.Context, ifIndex int, src, dst netip.Addr, a Advert) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("vrrp: send to %v: %w", dst, err)
	}
	src, dst = src.Unmap(), dst.Unmap()
	if Family(src) != c.family || Family(dst) != c.family {
		return fmt.Errorf("vrrp: send from %v to %v: not IPv%d addresses", src, dst, c.family)
	}
	b, err := Marshal(a, src, dst)
	if err != nil {
		return fmt.Errorf("vrrp: send to %v: %w", dst, err)
	}
	c.omu.Lock()
	if _, ok := c.own[src]; !ok && len(c.own) < maxOwnAddrs {
		c.own[src] = struct{}{}
	}
	c.omu.Unlock()
	if err := c.sock.write(b, ifIndex, src, dst); err != nil {
		return fmt.Errorf("vrrp: send to %v: %w", dst, err)
	}
	return nil
}

func (c *rawConn) Recv(ctx context.Context) (Packet, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if err := ctx.Err(); err != nil {
		return Packet{}, err
	}
	if err := c.sock.setReadDeadline(time.Time{}); err != nil {
		return Packet{}, fmt.Errorf("vrrp: recv: %w", err)
	}
	// Unblock the read when ctx is done; wait for that callback before
	// returning so it cannot cut short the next Recv.
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		_ = c.sock.setReadDeadline(time.Now()) // fails only once closed
	})
	n, src, dst, ttl, ifIndex, err := c.sock.read(c.buf)
	if !stop() {
		<-fired
	}
	if err != nil {
		if ctx.Err() != nil {
			return Packet{}, ctx.Err()
		}
		return Packet{}, fmt.Errorf("vrrp: recv: %w", err)
	}
	p := Packet{Src: src.Unmap().WithZone(""), Dst: dst.Unmap().WithZone(""), TTL: ttl, IfIndex: ifIndex}
	if !p.Dst.IsValid() {
		return p, dropf(DropMalformed, "no destination control message")
	}
	c.omu.Lock()
	_, own := c.own[p.Src]
	c.omu.Unlock()
	if own {
		return p, dropf(DropOwnPacket, "from %v", p.Src)
	}
	// RFC 5798 §7.1: the TTL/hop limit MUST be 255. Like keepalived, only
	// multicast is held to it: unicast may be routed, and keepalived sends
	// IPv6 unicast with the default hop limit (64). Packet.TTL lets the
	// caller be stricter.
	if p.Dst.IsMulticast() && ttl != TTL {
		return p, dropf(DropTTL, "ttl %d from %v", ttl, p.Src)
	}
	a, err := Unmarshal(c.buf[:n], p.Src, p.Dst)
	if err != nil {
		return p, err
	}
	p.Advert = a
	return p, nil
}

func (c *rawConn) JoinGroup(ifIndex int) error {
	if ifIndex <= 0 {
		return fmt.Errorf("vrrp: join group: invalid interface index %d", ifIndex)
	}
	// Only the index is used (group_req), so no interface lookup is needed.
	if err := c.sock.join(&net.Interface{Index: ifIndex}); err != nil && !errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("vrrp: join group on interface %d: %w", ifIndex, err)
	}
	return nil
}

func (c *rawConn) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.sock.close() })
	return c.closeErr
}

type sock4 struct{ p *ipv4.PacketConn }

func (s *sock4) read(b []byte) (int, netip.Addr, netip.Addr, int, int, error) {
	n, cm, from, err := s.p.ReadFrom(b)
	if err != nil {
		return 0, netip.Addr{}, netip.Addr{}, 0, 0, err
	}
	var src, dst netip.Addr
	if ia, ok := from.(*net.IPAddr); ok {
		src, _ = netip.AddrFromSlice(ia.IP)
	}
	if cm == nil {
		return n, src, dst, 0, 0, nil
	}
	dst, _ = netip.AddrFromSlice(cm.Dst)
	return n, src, dst, cm.TTL, cm.IfIndex, nil
}

func (s *sock4) write(b []byte, ifIndex int, src, dst netip.Addr) error {
	cm := &ipv4.ControlMessage{Src: src.AsSlice(), IfIndex: ifIndex}
	_, err := s.p.WriteTo(b, cm, &net.IPAddr{IP: dst.AsSlice()})
	return err
}

func (s *sock4) join(ifi *net.Interface) error {
	return s.p.JoinGroup(ifi, &net.IPAddr{IP: MulticastIPv4.AsSlice()})
}

func (s *sock4) setReadDeadline(t time.Time) error { return s.p.SetReadDeadline(t) }
func (s *sock4) close() error                      { return s.p.Close() }

type sock6 struct{ p *ipv6.PacketConn }

func (s *sock6) read(b []byte) (int, netip.Addr, netip.Addr, int, int, error) {
	n, cm, from, err := s.p.ReadFrom(b)
	if err != nil {
		return 0, netip.Addr{}, netip.Addr{}, 0, 0, err
	}
	var src, dst netip.Addr
	if ia, ok := from.(*net.IPAddr); ok {
		src, _ = netip.AddrFromSlice(ia.IP)
	}
	if cm == nil {
		return n, src, dst, 0, 0, nil
	}
	dst, _ = netip.AddrFromSlice(cm.Dst)
	return n, src, dst, cm.HopLimit, cm.IfIndex, nil
}

func (s *sock6) write(b []byte, ifIndex int, src, dst netip.Addr) error {
	cm := &ipv6.ControlMessage{Src: src.AsSlice(), IfIndex: ifIndex, HopLimit: TTL}
	to := &net.IPAddr{IP: dst.AsSlice()}
	if ifIndex > 0 && (dst.IsLinkLocalUnicast() || dst.IsLinkLocalMulticast()) {
		to.Zone = strconv.Itoa(ifIndex)
	}
	_, err := s.p.WriteTo(b, cm, to)
	return err
}

func (s *sock6) join(ifi *net.Interface) error {
	return s.p.JoinGroup(ifi, &net.IPAddr{IP: MulticastIPv6.AsSlice()})
}

func (s *sock6) setReadDeadline(t time.Time) error { return s.p.SetReadDeadline(t) }
func (s *sock6) close() error                      { return s.p.Close() }
