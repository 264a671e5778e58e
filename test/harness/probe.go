package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"sync"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// StartUDPEcho answers every UDP datagram on port with the namespace's role,
// from the address the datagram was sent to (the VIP), from a socket created
// inside the namespace. It stops at cleanup.
func (ns *NS) StartUDPEcho(t TB, port int) {
	t.Helper()
	for _, network := range []string{"udp4", "udp6"} {
		var c *net.UDPConn
		err := ns.Do(func() error {
			pc, err := net.ListenPacket(network, fmt.Sprintf(":%d", port))
			if err != nil {
				return err
			}
			c = pc.(*net.UDPConn)
			return nil
		})
		if err != nil {
			t.Fatalf("harness: udp echo in %s: %v", ns.Name, err)
		}
		t.Cleanup(func() { c.Close() })
		go serveUDPEcho(c, network == "udp6", []byte(ns.Role))
	}
}

// serveUDPEcho replies with src = the request's destination (IP_PKTINFO).
func serveUDPEcho(c *net.UDPConn, v6 bool, reply []byte) {
	buf := make([]byte, 1500)
	if v6 {
		p := ipv6.NewPacketConn(c)
		_ = p.SetControlMessage(ipv6.FlagDst|ipv6.FlagInterface, true)
		for {
			_, cm, from, err := p.ReadFrom(buf)
			if err != nil {
				return
			}
			var out *ipv6.ControlMessage
			if cm != nil {
				out = &ipv6.ControlMessage{Src: cm.Dst, IfIndex: cm.IfIndex}
			}
			_, _ = p.WriteTo(reply, out, from)
		}
	}
	p := ipv4.NewPacketConn(c)
	_ = p.SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true)
	for {
		_, cm, from, err := p.ReadFrom(buf)
		if err != nil {
			return
		}
		var out *ipv4.ControlMessage
		if cm != nil {
			out = &ipv4.ControlMessage{Src: cm.Dst}
		}
		_, _ = p.WriteTo(reply, out, from)
	}
}

// StartTCPEcho accepts TCP connections on port and writes the namespace's
// role to each, then closes it.
func (ns *NS) StartTCPEcho(t TB, port int) {
	t.Helper()
	var l net.Listener
	err := ns.Do(func() error {
		var err error
		l, err = net.Listen("tcp", fmt.Sprintf(":%d", port))
		return err
	})
	if err != nil {
		t.Fatalf("harness: tcp echo in %s: %v", ns.Name, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte(ns.Role))
			c.Close()
		}
	}()
}

// AskTCP connects from the namespace to addr:port and returns what the server
// wrote (the role of the node that answered).
func (ns *NS) AskTCP(addr netip.Addr, port int, timeout time.Duration) (string, error) {
	var c net.Conn
	err := ns.Do(func() error {
		var err error
		c, err = net.DialTimeout("tcp", netip.AddrPortFrom(addr, uint16(port)).String(), timeout)
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil && n == 0 {
		return "", err
	}
	return string(buf[:n]), nil
}

// AskUDP sends one datagram from the namespace and returns the reply.
func (ns *NS) AskUDP(addr netip.Addr, port int, timeout time.Duration) (string, error) {
	var c net.Conn
	err := ns.Do(func() error {
		var err error
		c, err = net.Dial("udp", netip.AddrPortFrom(addr, uint16(port)).String())
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("?")); err != nil {
		return "", err
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// Reply is one answer the prober received.
type Reply struct {
	At   time.Time
	From string // role of the node that answered
}

// Prober sends a UDP datagram to a VIP every Every from the client namespace
// and records each answer.
type Prober struct {
	mu      sync.Mutex
	replies []Reply
	sent    int
	cancel  context.CancelFunc
	done    chan struct{}
}

// StartProbe begins probing addr:port from ns every interval until Stop.
func (ns *NS) StartProbe(addr netip.Addr, port int, every time.Duration) (*Prober, error) {
	var c *net.UDPConn
	err := ns.Do(func() error {
		var err error
		c, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, uint16(port))))
		return err
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Prober{cancel: cancel, done: make(chan struct{})}
	go func() { // receiver
		buf := make([]byte, 64)
		for {
			n, err := c.Read(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) || ctx.Err() == nil {
					if ctx.Err() != nil {
						return
					}
					// ICMP unreachable etc.: keep reading
					continue
				}
				return
			}
			p.mu.Lock()
			p.replies = append(p.replies, Reply{At: time.Now(), From: string(buf[:n])})
			p.mu.Unlock()
		}
	}()
	go func() { // sender
		defer close(p.done)
		defer c.Close()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_, _ = c.Write([]byte("p"))
				p.mu.Lock()
				p.sent++
				p.mu.Unlock()
			}
		}
	}()
	return p, nil
}

// Stop ends probing.
func (p *Prober) Stop() {
	p.cancel()
	<-p.done
}

// Replies returns a copy of the answers so far.
func (p *Prober) Replies() []Reply {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Reply(nil), p.replies...)
}

// Gap is the longest silence between two answers within [from, to], and who
// answered on each side of it.
type Gap struct {
	Length        time.Duration
	Before, After string
}

// LongestGap returns the longest interval without answers between from and
// to (an unanswered tail up to `to` counts as a gap).
func (p *Prober) LongestGap(from, to time.Time) Gap {
	rs := p.Replies()
	sort.Slice(rs, func(i, j int) bool { return rs[i].At.Before(rs[j].At) })
	var g Gap
	prev := Reply{At: from}
	for _, r := range rs {
		if r.At.Before(from) {
			prev = Reply{At: from, From: r.From}
			continue
		}
		if r.At.After(to) {
			break
		}
		if d := r.At.Sub(prev.At); d > g.Length {
			g = Gap{Length: d, Before: prev.From, After: r.From}
		}
		prev = r
	}
	if d := to.Sub(prev.At); d > g.Length {
		g = Gap{Length: d, Before: prev.From}
	}
	return g
}

// LastFrom returns who answered last.
func (p *Prober) LastFrom() string {
	rs := p.Replies()
	if len(rs) == 0 {
		return ""
	}
	return rs[len(rs)-1].From
}

// HolderWatch samples which nodes hold a VIP every interval and remembers any
// two consecutive samples in which more than one node held it.
type HolderWatch struct {
	mu     sync.Mutex
	dual   []string
	cancel context.CancelFunc
	done   chan struct{}
}

// WatchHolders starts sampling.
func (b *Bed) WatchHolders(addr netip.Addr, every time.Duration) *HolderWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &HolderWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var prevDual bool
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			h := b.Holders(addr)
			dual := len(h) > 1
			if dual && prevDual {
				w.mu.Lock()
				w.dual = append(w.dual, fmt.Sprintf("%s held by %v at %s", addr, h, time.Now().Format("15:04:05.000")))
				w.mu.Unlock()
			}
			prevDual = dual
		}
	}()
	return w
}

// Stop ends sampling and returns the dual-holder observations.
func (w *HolderWatch) Stop() []string {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dual
}
