//go:build linux

package vmnet

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/arp"
)

// RealServer answers every TCP connection on port 80 of its namespace with
// its name, then once more per line received (see LongConn.Ping), until the
// client closes or is idle for Idle.
type RealServer struct {
	Name string
	Addr netip.Addr // its address in NS, for the caller's use
	NS   *NS
	Idle time.Duration // per-connection idle timeout

	mu sync.Mutex
	ln net.Listener
}

// Start listens on :80 in the server's namespace until Stop or t's cleanup.
func (rs *RealServer) Start(t testing.TB) {
	t.Helper()
	var ln net.Listener
	if err := rs.NS.Do(func() (err error) { ln, err = net.Listen("tcp4", ":80"); return err }); err != nil {
		t.Fatalf("%s: listen: %v", rs.Name, err)
	}
	rs.mu.Lock()
	rs.ln = ln
	rs.mu.Unlock()
	t.Cleanup(func() { ln.Close() })
	go func() { // owned by the listener: ends when it is closed
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go rs.serve(c)
		}
	}()
}

// serve answers until the client closes or is idle for rs.Idle.
func (rs *RealServer) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		if err := c.SetDeadline(time.Now().Add(rs.Idle)); err != nil {
			return
		}
		if _, err := fmt.Fprintf(c, "%s\n", rs.Name); err != nil {
			return
		}
		if _, err := br.ReadString('\n'); err != nil {
			return
		}
	}
}

// Stop closes the listener: new connections are refused (established ones
// keep being served).
func (rs *RealServer) Stop() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.ln != nil {
		rs.ln.Close()
		rs.ln = nil
	}
}

// Probe is a minimal TCP_CHECK: a connect from ns to to within 300 ms.
func Probe(from *NS, to netip.AddrPort) bool {
	err := from.Do(func() error {
		c, err := net.DialTimeout("tcp4", to.String(), 300*time.Millisecond)
		if err != nil {
			return err
		}
		return c.Close()
	})
	return err == nil
}

// Connect makes n sequential TCP connections from ns to to and counts the
// first line of each answer (a RealServer's name; "error" for failures,
// each logged to t).
func Connect(t testing.TB, from *NS, to netip.AddrPort, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		var name string
		err := from.Do(func() error {
			c, err := net.DialTimeout("tcp4", to.String(), 2*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.SetDeadline(time.Now().Add(3 * time.Second)); err != nil {
				return err
			}
			name, err = bufio.NewReader(c).ReadString('\n')
			name = strings.TrimSpace(name)
			return err
		})
		if err != nil {
			t.Logf("connection to %v: %v", to, err)
			name = "error"
		}
		got[name]++
	}
	return got
}

// LongConn is one TCP connection that stays open (closed at the test's
// cleanup).
type LongConn struct {
	c  net.Conn
	br *bufio.Reader
}

// DialLong opens a connection from ns to to and returns it with the name
// the server answered.
func DialLong(t testing.TB, from *NS, to netip.AddrPort) (*LongConn, string, error) {
	var c net.Conn
	err := from.Do(func() (err error) { c, err = net.DialTimeout("tcp4", to.String(), 2*time.Second); return err })
	if err != nil {
		return nil, "", err
	}
	t.Cleanup(func() { c.Close() })
	lc := &LongConn{c: c, br: bufio.NewReader(c)}
	if err := c.SetDeadline(time.Now().Add(3 * time.Second)); err != nil {
		return nil, "", err
	}
	name, err := lc.br.ReadString('\n')
	return lc, strings.TrimSpace(name), err
}

// Ping sends a line and returns the server's answer within wait.
func (lc *LongConn) Ping(wait time.Duration) (string, error) {
	if err := lc.c.SetDeadline(time.Now().Add(wait)); err != nil {
		return "", err
	}
	if _, err := lc.c.Write([]byte("ping\n")); err != nil {
		return "", err
	}
	name, err := lc.br.ReadString('\n')
	return strings.TrimSpace(name), err
}

// Close closes the connection before the test's cleanup does.
func (lc *LongConn) Close() error { return lc.c.Close() }

// LocalPort is the connection's client port.
func (lc *LongConn) LocalPort() uint16 {
	return netip.MustParseAddrPort(lc.c.LocalAddr().String()).Port()
}

// ARPAnswers sends one ARP request for ip on ns's link iface and returns
// the distinct MACs that answered within wait, in order (nil for none).
func ARPAnswers(from *NS, iface string, ip netip.Addr, wait time.Duration) ([]string, error) {
	var macs []string
	err := from.Do(func() error {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		c, err := arp.Dial(ifi)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Request(ip); err != nil {
			return err
		}
		seen := map[string]bool{}
		deadline := time.Now().Add(wait)
		for time.Now().Before(deadline) {
			if err := c.SetReadDeadline(deadline); err != nil {
				return err
			}
			p, _, err := c.Read()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				return err
			}
			if p.Operation == arp.OperationReply && p.SenderIP == ip && !seen[p.SenderHardwareAddr.String()] {
				seen[p.SenderHardwareAddr.String()] = true
				macs = append(macs, p.SenderHardwareAddr.String())
			}
		}
		return nil
	})
	return macs, err
}
