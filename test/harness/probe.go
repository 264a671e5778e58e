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

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
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

// HolderWatch samples which nodes hold a VIP every interval and records each
// episode in which more than one node held it, with its length.
//
// A handover overlaps by design: a new master adds the VIP and then
// advertises, and the old one releases when it hears that advert (RFC 5798
// preemption, vipd's make-before-break stop, keepalived's resign-then-remove).
// So how long two nodes may hold it is a bound the caller derives from the
// protocol (see Stop). Each sample reads every node's addresses over a
// netlink socket opened in its namespace (no process spawned), so a sample
// takes microseconds and the nodes are read at nearly one instant even on a
// busy machine.
type HolderWatch struct {
	mu       sync.Mutex
	episodes []DualEpisode
	err      error
	cancel   context.CancelFunc
	done     chan struct{}
}

// DualEpisode is a run of consecutive samples in which several nodes held
// the VIP. Length runs from the first such sample to the first sample after
// it in which at most one did: an upper bound of the overlap, within one
// sampling interval (plus the sampler's own scheduling delay).
type DualEpisode struct {
	Holders []string
	Start   time.Time
	Length  time.Duration
}

func (e DualEpisode) String() string {
	return fmt.Sprintf("held by %v for %v from %s", e.Holders, e.Length.Round(time.Millisecond), e.Start.Format("15:04:05.000"))
}

// WatchHolders starts sampling.
func (b *Bed) WatchHolders(addr netip.Addr, every time.Duration) *HolderWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &HolderWatch{cancel: cancel, done: make(chan struct{})}
	handles := make([]*netlink.Handle, len(b.Nodes))
	for i, n := range b.Nodes {
		nsh, err := netns.GetFromName(n.Name)
		if err == nil {
			handles[i], err = netlink.NewHandleAt(nsh)
			nsh.Close()
		}
		if err != nil {
			w.err = fmt.Errorf("watch holders: %s: %w", n.Name, err)
		}
	}
	holders := func() []string {
		var out []string
		for i, h := range handles {
			if h == nil {
				continue
			}
			as, err := h.AddrList(nil, netlink.FAMILY_ALL)
			if err != nil {
				continue
			}
			for _, a := range as {
				if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == addr {
					out = append(out, b.Nodes[i].Role)
					break
				}
			}
		}
		return out
	}
	go func() {
		defer close(w.done)
		defer func() {
			for _, h := range handles {
				if h != nil {
					h.Close()
				}
			}
		}()
		var cur *DualEpisode
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				if cur != nil { // still dual when stopped
					cur.Length = time.Since(cur.Start)
					w.mu.Lock()
					w.episodes = append(w.episodes, *cur)
					w.mu.Unlock()
				}
				return
			case <-t.C:
			}
			now := time.Now()
			h := holders()
			switch {
			case len(h) > 1 && cur == nil:
				cur = &DualEpisode{Holders: h, Start: now}
			case len(h) <= 1 && cur != nil:
				cur.Length = now.Sub(cur.Start)
				w.mu.Lock()
				w.episodes = append(w.episodes, *cur)
				w.mu.Unlock()
				cur = nil
			}
		}
	}()
	return w
}

// Stop ends sampling and returns the dual-holder episodes longer than
// allowed (0: every one), and an error if the watch could not read a node.
func (w *HolderWatch) Stop(allowed time.Duration) ([]DualEpisode, error) {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	var long []DualEpisode
	for _, e := range w.episodes {
		if e.Length > allowed {
			long = append(long, e)
		}
	}
	return long, w.err
}

// Episodes returns every dual-holder episode recorded so far.
func (w *HolderWatch) Episodes() []DualEpisode {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]DualEpisode(nil), w.episodes...)
}
