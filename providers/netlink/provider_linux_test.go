//go:build linux

package netlink

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"
	vnl "github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vipd/vipd/providers"
)

// link is one end of the test veth pair: vn-a-N/vn-aN (the provider's side)
// or vn-b-N/vn-bN (the capturing side).
type link struct {
	ns   string // path, /run/netns/...
	name string
	mac  net.HardwareAddr
}

func skipUnlessRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces (vn-a/vn-b); skipped")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2 (ip) to set up namespaces; skipped")
	}
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// setupPair makes namespaces vn-a-N and vn-b-N joined by a veth pair that is
// up in both, and removes them when the test ends.
func setupPair(t *testing.T) (a, b link) {
	t.Helper()
	skipUnlessRoot(t)
	n := rand.IntN(1_000_000)
	nsA, nsB := fmt.Sprintf("vn-a-%d", n), fmt.Sprintf("vn-b-%d", n)
	a = link{ns: "/run/netns/" + nsA, name: fmt.Sprintf("vn-a%d", n)}
	b = link{ns: "/run/netns/" + nsB, name: fmt.Sprintf("vn-b%d", n)}
	for _, ns := range []string{nsA, nsB} {
		run(t, "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		run(t, "-n", ns, "link", "set", "lo", "up")
	}
	run(t, "-n", nsA, "link", "add", a.name, "type", "veth", "peer", "name", b.name, "netns", nsB)
	run(t, "-n", nsA, "link", "set", a.name, "up")
	run(t, "-n", nsB, "link", "set", b.name, "up")
	a.mac = waitUp(t, a)
	b.mac = waitUp(t, b)
	return a, b
}

// waitUp waits (bounded) until l is operationally up and returns its MAC.
func waitUp(t *testing.T, l link) net.HardwareAddr {
	t.Helper()
	h := nsHandle(t, l.ns)
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err := h.LinkByName(l.name)
		if err != nil {
			t.Fatalf("link %s: %v", l.name, err)
		}
		if ln.Attrs().OperState == vnl.OperUp {
			return ln.Attrs().HardwareAddr
		}
		if time.Now().After(deadline) {
			t.Fatalf("link %s not up after 5s (state %s)", l.name, ln.Attrs().OperState)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func nsHandle(t *testing.T, path string) *vnl.Handle {
	t.Helper()
	ns, err := netns.GetFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := vnl.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// inNS runs fn on a thread inside the namespace at path; the thread is
// thrown away afterwards.
func inNS(t *testing.T, path string, fn func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		ns, err := netns.GetFromPath(path)
		if err != nil {
			errc <- err
			return
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			errc <- err
			return
		}
		fn()
		errc <- nil
	}()
	if err := <-errc; err != nil {
		t.Fatalf("enter %s: %v", path, err)
	}
}

// addrs lists the addresses of l that fall in 192.0.2.0/24 or 2001:db8::/32.
func addrs(t *testing.T, l link) []string {
	t.Helper()
	h := nsHandle(t, l.ns)
	ln, err := h.LinkByName(l.name)
	if err != nil {
		t.Fatal(err)
	}
	list, err := h.AddrList(ln, vnl.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range list {
		ip, _ := netip.AddrFromSlice(a.IP)
		ip = ip.Unmap()
		if netip.MustParsePrefix("192.0.2.0/24").Contains(ip) || netip.MustParsePrefix("2001:db8::/32").Contains(ip) {
			ones, _ := a.Mask.Size()
			out = append(out, netip.PrefixFrom(ip, ones).String())
		}
	}
	return out
}

// frame is one captured frame with its kernel receive time.
type frame struct {
	at   time.Time
	data []byte
}

// capturer reads every frame arriving on the capturing end of the pair.
type capturer struct {
	conn *packet.Conn
}

func capture(t *testing.T, l link) *capturer {
	t.Helper()
	var (
		c   *packet.Conn
		err error
	)
	inNS(t, l.ns, func() {
		var ifi *net.Interface
		if ifi, err = net.InterfaceByName(l.name); err != nil {
			return
		}
		if c, err = packet.Listen(ifi, packet.Raw, unix.ETH_P_ALL, nil); err != nil {
			return
		}
		var rc interface{ Control(func(uintptr)) error }
		if rc, err = c.SyscallConn(); err != nil {
			return
		}
		cerr := rc.Control(func(fd uintptr) {
			err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
		})
		if err == nil {
			err = cerr
		}
	})
	if err != nil {
		t.Fatalf("capture on %s: %v", l.name, err)
	}
	t.Cleanup(func() { c.Close() })
	return &capturer{conn: c}
}

// collect returns the frames that match, read until d has passed.
func (c *capturer) collect(t *testing.T, d time.Duration, match func([]byte) bool) []frame {
	t.Helper()
	if err := c.conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		t.Fatal(err)
	}
	rc, err := c.conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var out []frame
	buf, oob := make([]byte, 2048), make([]byte, 128)
	for range 10_000 {
		var n, oobn int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, oobn, _, _, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_DONTWAIT)
			return rerr != unix.EAGAIN
		})
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return out
		}
		if err == nil {
			err = rerr
		}
		if err != nil {
			t.Fatalf("read capture: %v", err)
		}
		if !match(buf[:n]) {
			continue
		}
		out = append(out, frame{at: rxTime(t, oob[:oobn]), data: append([]byte(nil), buf[:n]...)})
	}
	t.Fatal("capture: too many frames")
	return nil
}

// rxTime decodes the SCM_TIMESTAMPNS control message.
func rxTime(t *testing.T, oob []byte) time.Time {
	t.Helper()
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
			sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
			return time.Unix(sec, nsec)
		}
	}
	t.Fatal("capture: no receive timestamp")
	return time.Time{}
}

func isGARPFor(vip netip.Addr) func([]byte) bool {
	return func(b []byte) bool {
		var f ethernet.Frame
		if f.UnmarshalBinary(b) != nil || f.EtherType != ethernet.EtherTypeARP {
			return false
		}
		var p arp.Packet
		return p.UnmarshalBinary(f.Payload) == nil && p.SenderIP == vip
	}
}

func isNAFor(vip netip.Addr) func([]byte) bool {
	return func(b []byte) bool {
		var f ethernet.Frame
		if f.UnmarshalBinary(b) != nil || f.EtherType != ethernet.EtherTypeIPv6 || len(f.Payload) < 41 || f.Payload[6] != 58 {
			return false
		}
		m, err := ndp.ParseMessage(f.Payload[40:])
		na, ok := m.(*ndp.NeighborAdvertisement)
		return err == nil && ok && na.TargetAddress == vip
	}
}

// syncBuffer is a bytes.Buffer safe for the provider's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newProvider(t *testing.T, opts Options) (*Provider, *syncBuffer) {
	t.Helper()
	var buf syncBuffer
	p := New(opts, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { p.Close() })
	return p, &buf
}

// rxSlack is how late a frame's receive timestamp may be after it was sent:
// crossing namespaces clears the send time, so vn-b stamps it on receive.
const rxSlack = 20 * time.Millisecond

func checkGaps(t *testing.T, got []frame, interval time.Duration) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		gap := got[i].at.Sub(got[i-1].at)
		// Each wait is at least the interval; the upper slack absorbs a
		// busy shared machine.
		if gap < interval-10*time.Millisecond || gap > interval+250*time.Millisecond {
			t.Errorf("gap between announcement %d and %d = %v, want ≈ %v", i, i+1, gap, interval)
		}
	}
}

func TestAcquireIPv4SendsGARPBurst(t *testing.T) {
	a, b := setupPair(t)
	const count, interval = 5, 100 * time.Millisecond
	p, _ := newProvider(t, Options{GARPCount: count, GARPInterval: interval, NetNS: a.ns})
	c := capture(t, b)
	vip := providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.100/24"), Interface: a.name}

	start := time.Now()
	if err := p.Acquire(context.Background(), vip); err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	returned := time.Now()
	if diff := cmp.Diff([]string{"192.0.2.100/24"}, addrs(t, a)); diff != "" {
		t.Errorf("addresses after Acquire (-want +got):\n%s", diff)
	}
	got := c.collect(t, count*interval+time.Second, isGARPFor(vip.Prefix.Addr()))
	if len(got) != count {
		t.Fatalf("captured %d GARPs, want %d", len(got), count)
	}
	// Sent by Acquire itself, not by the burst goroutine an interval later.
	// Receive timestamps are taken in vn-b's receive path: allow rxSlack.
	if got[0].at.After(returned.Add(rxSlack)) || got[0].at.Sub(start) >= interval/2 {
		t.Errorf("first GARP %v after Acquire started (returned after %v), want it sent before Acquire returned",
			got[0].at.Sub(start), returned.Sub(start))
	}
	checkGaps(t, got, interval)
	for i, f := range got {
		var ef ethernet.Frame
		if err := ef.UnmarshalBinary(f.data); err != nil {
			t.Fatal(err)
		}
		var ap arp.Packet
		if err := ap.UnmarshalBinary(ef.Payload); err != nil {
			t.Fatal(err)
		}
		type fields struct {
			EthDst, EthSrc, SHA, THA string
			Op                       arp.Operation
			SPA, TPA                 netip.Addr
		}
		want := fields{
			EthDst: "ff:ff:ff:ff:ff:ff", EthSrc: a.mac.String(),
			SHA: a.mac.String(), THA: "ff:ff:ff:ff:ff:ff",
			Op:  arp.OperationRequest,
			SPA: vip.Prefix.Addr(), TPA: vip.Prefix.Addr(),
		}
		gotF := fields{
			EthDst: ef.Destination.String(), EthSrc: ef.Source.String(),
			SHA: ap.SenderHardwareAddr.String(), THA: ap.TargetHardwareAddr.String(),
			Op: ap.Operation, SPA: ap.SenderIP, TPA: ap.TargetIP,
		}
		if diff := cmp.Diff(want, gotF, cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
			t.Errorf("GARP %d (-want +got):\n%s", i+1, diff)
		}
	}
}

func TestAcquireIPv6SendsUnsolicitedNA(t *testing.T) {
	a, b := setupPair(t)
	off := false
	tests := []struct {
		name       string
		forwarding string // net.ipv6.conf.<iface>.forwarding in vn-a
		router     *bool  // Options.Router
		wantR      bool
	}{
		{"host", "0", nil, false},
		{"router copies forwarding", "1", nil, true},
		{"option overrides forwarding", "1", &off, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			inNS(t, a.ns, func() {
				err = os.WriteFile("/proc/sys/net/ipv6/conf/"+a.name+"/forwarding", []byte(tt.forwarding), 0o644)
			})
			if err != nil {
				t.Fatalf("set forwarding: %v", err)
			}
			const count, interval = 3, 100 * time.Millisecond
			p, _ := newProvider(t, Options{GARPCount: count, GARPInterval: interval, NetNS: a.ns, Router: tt.router})
			c := capture(t, b)
			addr := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(0x10 + i)})
			vip := providers.VIP{Prefix: netip.PrefixFrom(addr, 64), Interface: a.name}

			if err := p.Acquire(context.Background(), vip); err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			checkNODAD(t, a, addr)

			got := c.collect(t, count*interval+500*time.Millisecond, isNAFor(addr))
			if len(got) != count {
				t.Fatalf("captured %d NAs, want %d", len(got), count)
			}
			checkGaps(t, got, interval)
			for i, f := range got {
				var ef ethernet.Frame
				if err := ef.UnmarshalBinary(f.data); err != nil {
					t.Fatal(err)
				}
				ip := ef.Payload[:40]
				src, _ := netip.AddrFromSlice(ip[8:24])
				dst, _ := netip.AddrFromSlice(ip[24:40])
				type hdr struct {
					EthDst, EthSrc string
					HopLimit       byte
					Src, Dst       string
				}
				if diff := cmp.Diff(
					hdr{"33:33:00:00:00:01", a.mac.String(), 255, addr.String(), "ff02::1"},
					hdr{ef.Destination.String(), ef.Source.String(), ip[7], src.String(), dst.String()},
				); diff != "" {
					t.Errorf("NA %d headers (-want +got):\n%s", i+1, diff)
				}
				m, err := ndp.ParseMessage(ef.Payload[40:])
				if err != nil {
					t.Fatal(err)
				}
				want := &ndp.NeighborAdvertisement{
					Router:        tt.wantR,
					Override:      true,
					TargetAddress: addr,
					Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: a.mac}},
				}
				if diff := cmp.Diff(want, m, cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
					t.Errorf("NA %d (-want +got):\n%s", i+1, diff)
				}
				plen := int(binary.BigEndian.Uint16(ip[4:6]))
				if c := checksum(t, src, dst, ef.Payload[40:40+plen]); c != 0 {
					t.Errorf("NA %d: bad ICMPv6 checksum (sum %#04x)", i+1, c)
				}
			}
		})
	}
}

// checkNODAD checks addr is on l without DAD, so usable at once.
func checkNODAD(t *testing.T, l link, addr netip.Addr) {
	t.Helper()
	h := nsHandle(t, l.ns)
	ln, err := h.LinkByName(l.name)
	if err != nil {
		t.Fatal(err)
	}
	list, err := h.AddrList(ln, vnl.FAMILY_V6)
	if err != nil {
		t.Fatal(err)
	}
	for _, ad := range list {
		if ip, _ := netip.AddrFromSlice(ad.IP); ip == addr {
			if ad.Flags&unix.IFA_F_NODAD == 0 || ad.Flags&unix.IFA_F_TENTATIVE != 0 {
				t.Errorf("address flags %#x: want NODAD set and TENTATIVE clear", ad.Flags)
			}
			return
		}
	}
	t.Fatalf("%s not on %s after Acquire", addr, l.name)
}

func TestAddressLifecycle(t *testing.T) {
	a, _ := setupPair(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		prefix string
	}{
		{"ipv4", "192.0.2.10/24"},
		{"ipv6", "2001:db8::10/64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, logs := newProvider(t, Options{GARPCount: 1, NetNS: a.ns})
			vip := providers.VIP{Prefix: netip.MustParsePrefix(tt.prefix), Interface: a.name}
			for i := range 2 {
				if err := p.Acquire(ctx, vip); err != nil {
					t.Fatalf("Acquire #%d: %v", i+1, err)
				}
			}
			if diff := cmp.Diff([]string{tt.prefix}, addrs(t, a)); diff != "" {
				t.Errorf("addresses after two Acquires (-want +got):\n%s", diff)
			}
			if n := strings.Count(logs.String(), `msg="added vip"`); n != 1 {
				t.Errorf("logged %q %d times, want once", "added vip", n)
			}
			for i := range 2 {
				if err := p.Release(ctx, vip); err != nil {
					t.Fatalf("Release #%d: %v", i+1, err)
				}
			}
			if got := addrs(t, a); len(got) != 0 {
				t.Errorf("addresses after Release = %v, want none", got)
			}
			if n := strings.Count(logs.String(), `msg="removed vip"`); n != 1 {
				t.Errorf("logged %q %d times, want once", "removed vip", n)
			}
		})
	}
}

func TestCleanupRemovesStaleVIP(t *testing.T) {
	a, _ := setupPair(t)
	ctx := context.Background()
	vip := providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.20/24"), Interface: a.name}
	// A run killed with -9 left the address behind.
	h := nsHandle(t, a.ns)
	ln, err := h.LinkByName(a.name)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.AddrAdd(ln, toAddr(vip.Prefix)); err != nil {
		t.Fatal(err)
	}
	p, logs := newProvider(t, Options{NetNS: a.ns})
	if err := p.Cleanup(ctx, vip); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if got := addrs(t, a); len(got) != 0 {
		t.Errorf("addresses after Cleanup = %v, want none", got)
	}
	if err := p.Cleanup(ctx, vip); err != nil {
		t.Fatalf("second Cleanup: %v", err)
	}
	if n := strings.Count(logs.String(), `msg="removed stale vip"`); n != 1 {
		t.Errorf("logged %q %d times, want once; logs:\n%s", "removed stale vip", n, logs)
	}
}

func TestStopBurst(t *testing.T) {
	a, b := setupPair(t)
	ctx := context.Background()
	tests := []struct {
		name string
		stop func(p *Provider, vip providers.VIP) error
	}{
		{"release", func(p *Provider, vip providers.VIP) error { return p.Release(ctx, vip) }},
		{"close", func(p *Provider, _ providers.VIP) error { return p.Close() }},
		{"cleanup", func(p *Provider, vip providers.VIP) error { return p.Cleanup(ctx, vip) }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const interval = 50 * time.Millisecond
			p, _ := newProvider(t, Options{GARPCount: 100, GARPInterval: interval, NetNS: a.ns})
			c := capture(t, b)
			vip := providers.VIP{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(30 + i)}), 24), Interface: a.name}
			if err := p.Acquire(ctx, vip); err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			time.Sleep(3 * interval)
			if err := tt.stop(p, vip); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			stopped := time.Now()
			got := c.collect(t, 6*interval, isGARPFor(vip.Prefix.Addr()))
			if len(got) < 2 {
				t.Errorf("captured %d GARPs before %s, want the burst to have started", len(got), tt.name)
			}
			for _, f := range got {
				if f.at.After(stopped.Add(rxSlack)) {
					t.Errorf("GARP at %v, after %s returned at %v", f.at, tt.name, stopped)
				}
			}
			if err := p.Close(); err != nil {
				t.Errorf("Close after %s: %v", tt.name, err)
			}
		})
	}
}

func TestAnnounceSendsFreshBurst(t *testing.T) {
	a, b := setupPair(t)
	ctx := context.Background()
	const count, interval = 2, 50 * time.Millisecond
	p, _ := newProvider(t, Options{GARPCount: count, GARPInterval: interval, NetNS: a.ns})
	c := capture(t, b)
	vip := providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.40/24"), Interface: a.name}
	if err := p.Acquire(ctx, vip); err != nil {
		t.Fatal(err)
	}
	if got := c.collect(t, count*interval+300*time.Millisecond, isGARPFor(vip.Prefix.Addr())); len(got) != count {
		t.Fatalf("Acquire: captured %d GARPs, want %d", len(got), count)
	}
	if err := p.Announce(ctx, vip); err != nil {
		t.Fatalf("Announce: %v", err)
	}
	if got := c.collect(t, count*interval+300*time.Millisecond, isGARPFor(vip.Prefix.Addr())); len(got) != count {
		t.Errorf("Announce: captured %d GARPs, want %d", len(got), count)
	}
}

func TestErrors(t *testing.T) {
	a, _ := setupPair(t)
	ctx := context.Background()
	p, _ := newProvider(t, Options{NetNS: a.ns})
	missing := providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.50/24"), Interface: "vn-none"}

	err := p.Acquire(ctx, missing)
	if err == nil || err.Error() != "netlink: interface vn-none not found" || !errors.Is(err, ErrInterfaceNotFound) {
		t.Errorf("Acquire on a missing interface: got %v, want %q wrapping ErrInterfaceNotFound", err, "netlink: interface vn-none not found")
	}
	if err := p.Announce(ctx, missing); !errors.Is(err, ErrInterfaceNotFound) {
		t.Errorf("Announce on a missing interface: got %v, want ErrInterfaceNotFound", err)
	}
	if err := p.Release(ctx, missing); err != nil {
		t.Errorf("Release on a missing interface: %v, want nil (nothing to remove)", err)
	}
	// A gratuitous ARP needs no IPv4 address of the interface (a.name has
	// none): it is sent, as keepalived sends it.
	unheld := providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.52/24"), Interface: a.name}
	if err := p.Announce(ctx, unheld); err != nil {
		t.Errorf("Announce on an interface without IPv4 = %v, want nil", err)
	}

	tests := []struct {
		name string
		vip  providers.VIP
		want string
	}{
		{"no interface", providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.50/24")}, "has no interface"},
		{"no prefix", providers.VIP{Interface: a.name}, "invalid vip prefix"},
		// The kernel refuses a multicast address on an interface.
		{"kernel refuses", providers.VIP{Prefix: netip.MustParsePrefix("ff02::1234/128"), Interface: a.name}, "netlink: add ff02::1234/128 to " + a.name + ": "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Acquire(ctx, tt.vip)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Acquire(%v) = %v, want error containing %q", tt.vip, err, tt.want)
			}
		})
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Acquire(cctx, providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.51/24"), Interface: a.name}); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire with a cancelled ctx = %v, want context.Canceled", err)
	}
	p.Close()
	if err := p.Acquire(ctx, missing); !errors.Is(err, ErrClosed) {
		t.Errorf("Acquire after Close = %v, want ErrClosed", err)
	}
}

// TestDefaultNamespace runs the production path: no NetNS option, the
// provider used from a thread already inside the namespace.
func TestDefaultNamespace(t *testing.T) {
	a, b := setupPair(t)
	c := capture(t, b)
	vip := providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.60/24"), Interface: a.name}
	p, _ := newProvider(t, Options{GARPCount: 1})
	var err error
	inNS(t, a.ns, func() { err = p.Acquire(context.Background(), vip) })
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	if diff := cmp.Diff([]string{"192.0.2.60/24"}, addrs(t, a)); diff != "" {
		t.Errorf("addresses after Acquire (-want +got):\n%s", diff)
	}
	if got := c.collect(t, 300*time.Millisecond, isGARPFor(vip.Prefix.Addr())); len(got) != 1 {
		t.Errorf("captured %d GARPs, want 1", len(got))
	}
	// The handle made on the first call stays in that namespace.
	if err := p.Release(context.Background(), vip); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if got := addrs(t, a); len(got) != 0 {
		t.Errorf("addresses after Release = %v, want none", got)
	}
}

// TestConcurrentVIPs acquires several VIPs at once (run with -race) and
// checks Close stops every burst promptly and leaves the addresses.
func TestConcurrentVIPs(t *testing.T) {
	a, _ := setupPair(t)
	p, _ := newProvider(t, Options{GARPCount: 1000, GARPInterval: 10 * time.Millisecond, NetNS: a.ns})
	var (
		wg   sync.WaitGroup
		want []string
	)
	errs := make(chan error, 8)
	for i := range 8 {
		vip := providers.VIP{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + i)}), 24), Interface: a.name}
		want = append(want, vip.Prefix.String())
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- p.Acquire(context.Background(), vip)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Acquire: %v", err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("Close took %v, want prompt", el)
	}
	got := addrs(t, a)
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("addresses after Close (-want +got):\n%s", diff)
	}
}

// slowCloseSender is a sender whose Close blocks until release is closed,
// like a packet socket whose close waits for an RCU grace period.
type slowCloseSender struct {
	sent    chan struct{}
	closing chan struct{}
	release chan struct{}
}

func (s *slowCloseSender) send() error {
	select {
	case s.sent <- struct{}{}:
	default:
	}
	return nil
}
func (s *slowCloseSender) SetWriteDeadline(time.Time) error { return nil }
func (s *slowCloseSender) Close() error {
	close(s.closing)
	<-s.release
	return nil
}

// TestStopBurstDoesNotWaitForSocketClose: stopping a burst (what Release
// does first) returns once the burst can send no more, without waiting for
// its socket to finish closing; Close still waits for it.
func TestStopBurstDoesNotWaitForSocketClose(t *testing.T) {
	p := New(Options{GARPCount: 100, GARPInterval: time.Millisecond}, slog.New(slog.DiscardHandler))
	s := &slowCloseSender{sent: make(chan struct{}, 1), closing: make(chan struct{}), release: make(chan struct{})}
	vip := providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.50/24"), Interface: "eth0"}
	key := vip.String()
	bctx, cancel := context.WithCancel(p.base)
	b := &burst{cancel: cancel, done: make(chan struct{})}
	p.mu.Lock()
	p.bursts[key] = b
	p.wg.Add(1)
	p.mu.Unlock()
	go p.runBurst(bctx, key, b, s, vip)
	<-s.sent // the burst is running

	stopped := make(chan struct{})
	go func() { p.stopBurst(key); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		close(s.release)
		t.Fatal("stopBurst waited for the announcement socket to close")
	}
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	<-s.closing
	select {
	case <-closed:
		t.Fatal("Close returned before the announcement socket closed")
	case <-time.After(50 * time.Millisecond):
	}
	close(s.release)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return after the socket closed")
	}
}
