//go:build linux

package vrrp

import (
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// setRecvBuffer gives a socket room for a burst of adverts: recvBuffer with
// CAP_NET_ADMIN, else as much as net.core.rmem_max allows.
func TestSetRecvBuffer(t *testing.T) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := setRecvBuffer(c); err != nil {
		t.Fatal(err)
	}
	raw, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	var gerr error
	_ = raw.Control(func(fd uintptr) { got, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF) })
	if gerr != nil {
		t.Fatal(gerr)
	}
	want := recvBuffer
	if os.Geteuid() != 0 {
		b, err := os.ReadFile("/proc/sys/net/core/rmem_max")
		if err != nil {
			t.Skip(err)
		}
		max, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		want = min(want, max)
	}
	// The kernel reports twice the size set (bookkeeping overhead).
	if got < want {
		t.Errorf("SO_RCVBUF = %d, want at least %d", got, want)
	}
}
