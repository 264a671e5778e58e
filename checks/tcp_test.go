package checks

import (
	"context"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// listen returns a listener on addr that accepts and closes connections.
func listen(t *testing.T, network, addr string) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("listen %s %s: %v", network, addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()
	return ap
}

// fullBacklog returns the address of a listener that never accepts and
// whose accept queue is full, so new SYNs are dropped and a dial times out.
func fullBacklog(t *testing.T) netip.AddrPort {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(sa.(*syscall.SockaddrInet4).Port))
	// Fill the accept queue (backlog 0 admits one or two): dial until a
	// dial times out.
	for i := 0; i < 16; i++ {
		c, err := net.DialTimeout("tcp", ap.String(), 200*time.Millisecond)
		if err != nil {
			return ap
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatal("could not fill the accept queue")
	return ap
}

func TestTCPChecker(t *testing.T) {
	tests := []struct {
		name   string
		target func(t *testing.T) netip.AddrPort
		bind   netip.Addr
		want   Result
	}{
		{"ipv4 ok", func(t *testing.T) netip.AddrPort { return listen(t, "tcp4", "127.0.0.1:0") }, netip.Addr{}, Result{OK: true}},
		{"ipv6 ok", func(t *testing.T) netip.AddrPort { return listen(t, "tcp6", "[::1]:0") }, netip.Addr{}, Result{OK: true}},
		{"bind ok", func(t *testing.T) netip.AddrPort { return listen(t, "tcp4", "127.0.0.1:0") }, netip.MustParseAddr("127.0.0.1"), Result{OK: true}},
		{"refused", closedPort, netip.Addr{}, Result{Reason: "connection refused"}},
		{"timeout", fullBacklog, netip.Addr{}, Result{Reason: "timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewTCPChecker(tt.target(t))
			c.Bind = tt.bind
			c.Timeout = 300 * time.Millisecond
			start := time.Now()
			got := c.Check(context.Background())
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("Check took %v, want bounded by its 300ms timeout", el)
			}
			if got.OK != tt.want.OK || got.Reason != tt.want.Reason {
				t.Errorf("Check() = {OK:%v Reason:%q}, want {OK:%v Reason:%q}", got.OK, got.Reason, tt.want.OK, tt.want.Reason)
			}
			if got.Duration <= 0 {
				t.Errorf("Duration = %v, want > 0", got.Duration)
			}
		})
	}
}

func TestTCPCheckerString(t *testing.T) {
	c := NewTCPChecker(netip.MustParseAddrPort("[2001:db8::1]:80"))
	if got, want := c.String(), "tcp [2001:db8::1]:80"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if c.Timeout != DefaultConnectTimeout {
		t.Errorf("Timeout = %v, want %v", c.Timeout, DefaultConnectTimeout)
	}
}
