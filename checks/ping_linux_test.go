//go:build linux

package checks

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// pingNS makes a fresh network namespace with lo up and
// net.ipv4.ping_group_range set to groups ("lo hi"), runs each setup
// command in it, and returns its path. It is deleted when the test ends,
// also on failure.
func pingNS(t *testing.T, groups string, setup ...string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace; skipped")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2 (ip); skipped")
	}
	name := fmt.Sprintf("vc-ping-%d", rand.IntN(1_000_000))
	nsRun(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	nsRun(t, "ip", "-n", name, "link", "set", "lo", "up")
	nsRun(t, "ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv4.ping_group_range="+groups)
	for _, s := range setup {
		args := strings.Fields(s)
		nsRun(t, "ip", append([]string{"netns", "exec", name}, args...)...)
	}
	return "/run/netns/" + name
}

func nsRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// checkIn runs c.Check on a thread inside the namespace at path (sockets
// stay in the namespace they were made in); the thread is thrown away.
func checkIn(t *testing.T, path string, c Checker) Result {
	t.Helper()
	type res struct {
		r   Result
		err error
	}
	done := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		ns, err := netns.GetFromPath(path)
		if err != nil {
			done <- res{err: err}
			return
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			done <- res{err: err}
			return
		}
		done <- res{r: c.Check(context.Background())}
	}()
	r := <-done
	if r.err != nil {
		t.Fatalf("enter %s: %v", path, r.err)
	}
	return r.r
}

// ping_group_range values: every group may open ping sockets, or none
// (the kernel default).
const (
	pingAllowed = "0 2147483647"
	pingRefused = "1 0"
)

// TestPingCheckerSockets runs every socket choice against loopback in
// namespaces where ping sockets are allowed (ping_group_range 0..2^31-1)
// or refused (1 0, the kernel default): PingAuto must use the datagram
// socket where allowed and fall back to raw where refused; PingDatagram
// must fail with "permission denied" where refused.
func TestPingCheckerSockets(t *testing.T) {
	allowed := pingNS(t, pingAllowed)
	refused := pingNS(t, pingRefused)
	tests := []struct {
		name    string
		ns      string
		target  string
		socket  PingSocket
		want    Result
		wantRaw bool // PingAuto remembered that it fell back
	}{
		{"allowed auto v4", allowed, "127.0.0.1", PingAuto, Result{OK: true}, false},
		{"allowed auto v6", allowed, "::1", PingAuto, Result{OK: true}, false},
		{"allowed datagram v4", allowed, "127.0.0.1", PingDatagram, Result{OK: true}, false},
		{"allowed datagram v6", allowed, "::1", PingDatagram, Result{OK: true}, false},
		{"refused auto v4 falls back to raw", refused, "127.0.0.1", PingAuto, Result{OK: true}, true},
		{"refused auto v6 falls back to raw", refused, "::1", PingAuto, Result{OK: true}, true},
		{"refused datagram v4", refused, "127.0.0.1", PingDatagram, Result{Reason: ReasonPingDenied}, false},
		{"refused datagram v6", refused, "::1", PingDatagram, Result{Reason: ReasonPingDenied}, false},
		{"refused raw v4", refused, "127.0.0.1", PingRaw, Result{OK: true}, false},
		{"refused raw v6", refused, "::1", PingRaw, Result{OK: true}, false},
		{"v4-mapped target", refused, "::ffff:127.0.0.1", PingRaw, Result{OK: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewPingChecker(netip.MustParseAddr(tt.target))
			c.Socket = tt.socket
			c.Timeout = 2 * time.Second
			got := checkIn(t, tt.ns, c)
			if got.OK != tt.want.OK || got.Reason != tt.want.Reason {
				t.Errorf("Check() = {OK:%v Reason:%q}, want {OK:%v Reason:%q}", got.OK, got.Reason, tt.want.OK, tt.want.Reason)
			}
			if c.useRaw.Load() != tt.wantRaw {
				t.Errorf("fell back to raw = %v, want %v", c.useRaw.Load(), tt.wantRaw)
			}
			// A second probe (next sequence number, remembered socket
			// choice) gives the same answer.
			if again := checkIn(t, tt.ns, c); again.OK != got.OK {
				t.Errorf("second Check() OK = %v, first %v", again.OK, got.OK)
			}
		})
	}
}

// blackhole sets up a veth pair bh0/bh1 in one namespace, addresses on bh0
// and permanent neighbour entries for 192.0.2.99 and 2001:db8::99 with a
// MAC nobody has: echo requests leave bh0 and bh1 drops them (wrong
// destination MAC). No reply and no ICMP error ever comes back.
var blackhole = []string{
	"ip link add bh0 type veth peer name bh1",
	"ip link set bh1 up",
	"ip link set bh0 up",
	"ip addr add 192.0.2.1/24 dev bh0",
	"ip addr add 2001:db8::1/64 dev bh0 nodad",
	"ip neigh add 192.0.2.99 lladdr 02:00:00:00:00:99 dev bh0 nud permanent",
	"ip neigh add 2001:db8::99 lladdr 02:00:00:00:00:99 dev bh0 nud permanent",
}

// TestPingCheckerTimeout pings documentation addresses that go into a
// blackhole: no reply ever comes, so the probe must end with "timeout"
// after Timeout (300ms), bounded by 2s of slack.
func TestPingCheckerTimeout(t *testing.T) {
	ns := pingNS(t, pingAllowed, blackhole...)
	const timeout = 300 * time.Millisecond
	for _, target := range []string{"192.0.2.99", "2001:db8::99"} {
		for _, sock := range []PingSocket{PingDatagram, PingRaw} {
			t.Run(target+" "+sock.String(), func(t *testing.T) {
				c := NewPingChecker(netip.MustParseAddr(target))
				c.Socket = sock
				c.Timeout = timeout
				start := time.Now()
				got := checkIn(t, ns, c)
				el := time.Since(start)
				if got.OK || got.Reason != ReasonTimeout {
					t.Errorf("Check() = {OK:%v Reason:%q}, want {OK:false Reason:%q}", got.OK, got.Reason, ReasonTimeout)
				}
				if el < timeout || el > timeout+2*time.Second {
					t.Errorf("Check took %v, want between %v and %v", el, timeout, timeout+2*time.Second)
				}
			})
		}
	}
}

// TestPingCheckerCtx: the caller's ctx bounds a probe with no Timeout.
func TestPingCheckerCtx(t *testing.T) {
	ns := pingNS(t, pingRefused, blackhole...)
	c := NewPingChecker(netip.MustParseAddr("192.0.2.99"))
	c.Timeout = 0
	done := make(chan Result, 1)
	go func() {
		runtime.LockOSThread()
		h, _ := netns.GetFromPath(ns)
		defer h.Close()
		_ = netns.Set(h)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		done <- c.Check(ctx)
	}()
	select {
	case r := <-done:
		if r.OK || r.Reason != ReasonTimeout {
			t.Errorf("Check() = {OK:%v Reason:%q}, want timeout", r.OK, r.Reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Check ignored ctx for 5s")
	}
}

func TestPingCheckerString(t *testing.T) {
	c := NewPingChecker(netip.MustParseAddr("::ffff:192.0.2.7"))
	if got, want := c.String(), "ping 192.0.2.7"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if c.Timeout != DefaultConnectTimeout || c.Socket != PingAuto {
		t.Errorf("defaults = {%v %v}, want {%v auto}", c.Timeout, c.Socket, DefaultConnectTimeout)
	}
}
