//go:build linux

package bfd

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
)

// The tests use loopback and a free port instead of 3784, so they need no
// root and do not collide with a running agent.

func TestUDPConnSendsFromHighPortWithTTL255(t *testing.T) {
	ln, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := ipv4.NewPacketConn(ln)
	if err := p.SetControlMessage(ipv4.FlagTTL, true); err != nil {
		t.Fatal(err)
	}
	c, err := listen(0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.port = ln.LocalAddr().(*net.UDPAddr).Port // send to the plain listener
	lo := netip.MustParseAddr("127.0.0.1")
	payload := Append(nil, Control{State: Down, DetectMult: 3, MyDiscr: 1, DesiredMinTx: time.Second, RequiredMinRx: time.Second})
	for range 2 {
		if err := c.Send(context.Background(), Packet{Src: lo, Dst: lo, Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	var ports []int
	for range 2 {
		_ = ln.SetReadDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 100)
		n, cm, src, err := p.ReadFrom(b)
		if err != nil {
			t.Fatal(err)
		}
		if string(b[:n]) != string(payload) {
			t.Errorf("payload %x, want %x", b[:n], payload)
		}
		if cm == nil || cm.TTL != TTL {
			t.Errorf("control message %v, want TTL 255", cm)
		}
		port := src.(*net.UDPAddr).Port
		if port < MinSrcPort || port > MaxSrcPort {
			t.Errorf("source port %d, want 49152..65535", port)
		}
		ports = append(ports, port)
	}
	if ports[0] != ports[1] {
		t.Errorf("source ports %v, want one for all packets", ports)
	}
}

// A session to our own address talks to itself over loopback: its Down
// makes it Init, its Init makes it Up. This runs the whole socket path:
// ports, TTL and destination control messages, demux.
func TestUDPConnSessionOverLoopback(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "::1"} {
		t.Run(addr, func(t *testing.T) {
			c, err := listen(0)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			lo := netip.MustParseAddr(addr)
			if lo.Is6() && c.tx6 == nil {
				t.Skip("no IPv6")
			}
			m, err := NewMux(c, nil, slog.New(slog.DiscardHandler), nil)
			if err != nil {
				t.Fatal(err)
			}
			up := make(chan struct{})
			var once sync.Once
			s, err := m.NewSession(Config{Local: lo, Peer: lo, DesiredMinTx: 10 * time.Millisecond,
				RequiredMinRx: 10 * time.Millisecond, DetectMult: 3}, func(ch Change) {
				if ch.To == Up {
					once.Do(func() { close(up) })
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{}, 2)
			go func() { _ = m.Run(ctx); done <- struct{}{} }()
			go func() { _ = s.Run(ctx); done <- struct{}{} }()
			defer func() { cancel(); <-done; <-done }()
			select {
			case <-up:
			case <-time.After(5 * time.Second):
				t.Fatalf("not Up after 5s: %+v, drops %v", s.Status(), m.Counters().Snapshot())
			}
			if st := s.Status(); st.RemoteDiscr != st.LocalDiscr {
				t.Errorf("status %+v: want our own discriminator as the remote one", st)
			}
			if d := m.Counters().Snapshot(); len(d) != 0 {
				t.Errorf("drops %v, want none", d)
			}
		})
	}
}
