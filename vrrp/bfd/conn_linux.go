//go:build linux

package bfd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// tosInternetControl is the IPv4 TOS / IPv6 traffic class of our packets
// (IPTOS_PREC_INTERNETCONTROL), as for VRRP.
const tosInternetControl = 0xc0

// srcPortTries bounds the search for a free source port.
const srcPortTries = 64

// Listen opens the agent's BFD transport: UDP port 3784 on every address of
// each family for receiving, with the TTL / hop limit, destination and
// interface of each packet, and one socket per family bound to a random
// source port in 49152..65535 for sending, with TTL / hop limit 255. A
// family whose sockets cannot be opened (IPv6 disabled) is left out; Listen
// fails only when neither can be opened.
func Listen() (Conn, error) { return listen(ControlPort) }

// listen is Listen with another destination port, for tests; 0 picks a
// free one (for IPv4, then the same for IPv6).
func listen(port int) (*udpConn, error) {
	c := &udpConn{port: port, in: make(chan Packet, 64), closed: make(chan struct{})}
	err4 := c.open4()
	err6 := c.open6()
	if err4 != nil && err6 != nil {
		c.Close()
		return nil, fmt.Errorf("bfd: listen: %w", errors.Join(err4, err6))
	}
	for _, r := range c.readers {
		c.wg.Go(func() { c.read(r) })
	}
	return c, nil
}

var _ Conn = (*udpConn)(nil)

type udpConn struct {
	port    int // destination port: ControlPort
	tx4     *ipv4.PacketConn
	tx6     *ipv6.PacketConn
	closers []net.PacketConn
	readers []func([]byte) (int, Packet, error)
	in      chan Packet
	closed  chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

func (c *udpConn) open4() error {
	rx, err := net.ListenPacket("udp4", net.JoinHostPort("0.0.0.0", strconv.Itoa(c.port)))
	if err != nil {
		return fmt.Errorf("ipv4 port %d: %w", c.port, err)
	}
	if c.port == 0 { // tests: the kernel picked the port
		c.port = rx.LocalAddr().(*net.UDPAddr).Port
	}
	p := ipv4.NewPacketConn(rx)
	if err := p.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true); err != nil {
		rx.Close()
		return fmt.Errorf("ipv4 control messages: %w", err)
	}
	tx, err := bindSrcPort("udp4", "0.0.0.0")
	if err != nil {
		rx.Close()
		return err
	}
	t := ipv4.NewPacketConn(tx)
	if err := errors.Join(t.SetTTL(TTL), t.SetTOS(tosInternetControl)); err != nil {
		rx.Close()
		tx.Close()
		return fmt.Errorf("ipv4 ttl: %w", err)
	}
	c.tx4 = t
	c.closers = append(c.closers, rx, tx)
	c.readers = append(c.readers, func(b []byte) (int, Packet, error) {
		n, cm, src, err := p.ReadFrom(b)
		pk := Packet{Src: udpAddr(src)}
		if cm != nil {
			pk.Dst, _ = netip.AddrFromSlice(cm.Dst)
			pk.Dst = pk.Dst.Unmap()
			pk.IfIndex, pk.TTL = cm.IfIndex, cm.TTL
		}
		return n, pk, err
	})
	return nil
}

func (c *udpConn) open6() error {
	rx, err := net.ListenPacket("udp6", net.JoinHostPort("::", strconv.Itoa(c.port)))
	if err != nil {
		return fmt.Errorf("ipv6 port %d: %w", c.port, err)
	}
	p := ipv6.NewPacketConn(rx)
	if err := p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true); err != nil {
		rx.Close()
		return fmt.Errorf("ipv6 control messages: %w", err)
	}
	tx, err := bindSrcPort("udp6", "::")
	if err != nil {
		rx.Close()
		return err
	}
	t := ipv6.NewPacketConn(tx)
	if err := errors.Join(t.SetHopLimit(TTL), t.SetTrafficClass(tosInternetControl)); err != nil {
		rx.Close()
		tx.Close()
		return fmt.Errorf("ipv6 hop limit: %w", err)
	}
	c.tx6 = t
	c.closers = append(c.closers, rx, tx)
	c.readers = append(c.readers, func(b []byte) (int, Packet, error) {
		n, cm, src, err := p.ReadFrom(b)
		pk := Packet{Src: udpAddr(src)}
		if cm != nil {
			pk.Dst, _ = netip.AddrFromSlice(cm.Dst)
			pk.Dst = pk.Dst.Unmap()
			pk.IfIndex, pk.TTL = cm.IfIndex, cm.HopLimit
		}
		return n, pk, err
	})
	return nil
}

// bindSrcPort binds a UDP socket to a random free port in 49152..65535
// (RFC 5881 §4).
func bindSrcPort(network, host string) (net.PacketConn, error) {
	var err error
	for range srcPortTries {
		port := MinSrcPort + rand.IntN(MaxSrcPort-MinSrcPort+1)
		var pc net.PacketConn
		pc, err = net.ListenPacket(network, net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			return pc, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	return nil, fmt.Errorf("%s source port: %w", network, err)
}

func udpAddr(a net.Addr) netip.Addr {
	if u, ok := a.(*net.UDPAddr); ok {
		ip, _ := netip.AddrFromSlice(u.IP)
		return ip.Unmap()
	}
	return netip.Addr{}
}

// read copies datagrams of one socket to the inbox until Close.
func (c *udpConn) read(r func([]byte) (int, Packet, error)) {
	buf := make([]byte, 1500)
	for {
		n, p, err := r(buf)
		if err != nil {
			select {
			case <-c.closed:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A transient error (e.g. ICMP-induced): pause briefly so a
			// persistent one cannot spin.
			select {
			case <-c.closed:
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		p.Payload = append([]byte(nil), buf[:n]...)
		select {
		case c.in <- p:
		case <-c.closed:
			return
		}
	}
}

func (c *udpConn) Send(ctx context.Context, p Packet) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dst := p.Dst.Unmap()
	to := &net.UDPAddr{IP: dst.AsSlice(), Port: c.port}
	var err error
	switch {
	case dst.Is4() && c.tx4 != nil:
		cm := &ipv4.ControlMessage{IfIndex: p.IfIndex}
		if p.Src.IsValid() {
			cm.Src = p.Src.Unmap().AsSlice()
		}
		_, err = c.tx4.WriteTo(p.Payload, cm, to)
	case dst.Is6() && c.tx6 != nil:
		cm := &ipv6.ControlMessage{IfIndex: p.IfIndex, HopLimit: TTL}
		if p.Src.IsValid() {
			cm.Src = p.Src.AsSlice()
		}
		if dst.IsLinkLocalUnicast() && p.IfIndex != 0 {
			to.Zone = strconv.Itoa(p.IfIndex)
		}
		_, err = c.tx6.WriteTo(p.Payload, cm, to)
	default:
		return fmt.Errorf("bfd: send to %v: no socket for the family", dst)
	}
	if err != nil {
		return fmt.Errorf("bfd: send to %v: %w", dst, err)
	}
	return nil
}

func (c *udpConn) Recv(ctx context.Context) (Packet, error) {
	select {
	case p := <-c.in:
		return p, nil
	case <-ctx.Done():
		return Packet{}, ctx.Err()
	case <-c.closed:
		return Packet{}, fmt.Errorf("bfd: receive: %w", net.ErrClosed)
	}
}

func (c *udpConn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		for _, pc := range c.closers {
			pc.Close()
		}
		c.wg.Wait()
	})
	return nil
}
