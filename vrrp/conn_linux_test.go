//go:build linux

package vrrp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// skipUnlessNetns skips tests that need network namespaces and raw sockets.
func skipUnlessNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces and raw sockets")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2 (ip)")
	}
}

func mustRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// inNetns runs f on a thread inside the named network namespace. The thread
// stays locked and exits with its goroutine, so it never returns to the
// scheduler in the wrong namespace. Sockets made by f stay in that
// namespace wherever they are used later.
func inNetns(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open netns %s: %w", ns, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// testLink is two namespaces joined by a veth pair:
// side 1 has 192.0.2.1, 2001:db8::1, fe80::a; side 2 has .2, ::2, fe80::b.
type testLink struct {
	ns       [2]string
	ifIndex  [2]int
	v4, v6   [2]netip.Addr
	ll       [2]netip.Addr
	vethName [2]string
}

func newTestLink(t *testing.T) *testLink {
	t.Helper()
	skipUnlessNetns(t)
	id := rand.IntN(1 << 20)
	l := &testLink{
		ns:       [2]string{fmt.Sprintf("vw-c1-%d", id), fmt.Sprintf("vw-c2-%d", id)},
		vethName: [2]string{"vw-v1", "vw-v2"},
		v4:       [2]netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")},
		v6:       [2]netip.Addr{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")},
		ll:       [2]netip.Addr{netip.MustParseAddr("fe80::a"), netip.MustParseAddr("fe80::b")},
	}
	for _, ns := range l.ns {
		mustRun(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	mustRun(t, "ip", "link", "add", l.vethName[0], "netns", l.ns[0], "type", "veth", "peer", "name", l.vethName[1], "netns", l.ns[1])
	for i, ns := range l.ns {
		dev := l.vethName[i]
		mustRun(t, "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
		mustRun(t, "ip", "-n", ns, "link", "set", "lo", "up")
		mustRun(t, "ip", "-n", ns, "addr", "add", l.v4[i].String()+"/24", "dev", dev)
		mustRun(t, "ip", "-n", ns, "addr", "add", l.v6[i].String()+"/64", "dev", dev, "nodad")
		mustRun(t, "ip", "-n", ns, "addr", "add", l.ll[i].String()+"/64", "dev", dev, "nodad")
		mustRun(t, "ip", "-n", ns, "link", "set", dev, "up")
		err := inNetns(ns, func() error {
			ifi, err := net.InterfaceByName(dev)
			if err != nil {
				return err
			}
			l.ifIndex[i] = ifi.Index
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, ns := range l.ns {
		waitLinkReady(t, ns, l.vethName[i])
	}
	return l
}

// waitLinkReady waits until IPv6 has configured dev: the carrier event is
// handled by linkwatch up to a second late, and until then the multicast
// route (ff00::/8) is missing and multicast packets are dropped as no-route.
func waitLinkReady(t *testing.T, ns, dev string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := exec.Command("ip", "-n", ns, "-6", "route", "show", "table", "local", "dev", dev).CombinedOutput()
		if err == nil && strings.Contains(string(out), "ff00::/8") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s in %s: no IPv6 multicast route after 5s: %v %s", dev, ns, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listen opens a Conn of the family in side i's namespace.
func (l *testLink) listen(t *testing.T, i, family int) Conn {
	t.Helper()
	var c Conn
	err := inNetns(l.ns[i], func() error {
		var err error
		if family == 4 {
			c, err = ListenIPv4()
		} else {
			c, err = ListenIPv6()
		}
		return err
	})
	if err != nil {
		t.Fatalf("listen ipv%d in %s: %v", family, l.ns[i], err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// plainSend sends payload from side i with a plain raw socket (not a Conn)
// and the given TTL / hop limit, to craft packets a Conn would never send.
func (l *testLink) plainSend(t *testing.T, i int, src, dst netip.Addr, ttl int, payload []byte) {
	t.Helper()
	err := inNetns(l.ns[i], func() error {
		if src.Is4() {
			c, err := net.ListenPacket("ip4:112", "0.0.0.0")
			if err != nil {
				return err
			}
			defer c.Close()
			p := ipv4.NewPacketConn(c)
			if err := p.SetTTL(ttl); err != nil {
				return err
			}
			if err := p.SetMulticastTTL(ttl); err != nil {
				return err
			}
			_, err = p.WriteTo(payload, &ipv4.ControlMessage{Src: src.AsSlice(), IfIndex: l.ifIndex[i]}, &net.IPAddr{IP: dst.AsSlice()})
			return err
		}
		c, err := net.ListenPacket("ip6:112", "::")
		if err != nil {
			return err
		}
		defer c.Close()
		p := ipv6.NewPacketConn(c)
		_, err = p.WriteTo(payload, &ipv6.ControlMessage{Src: src.AsSlice(), IfIndex: l.ifIndex[i], HopLimit: ttl},
			&net.IPAddr{IP: dst.AsSlice(), Zone: fmt.Sprint(l.ifIndex[i])})
		return err
	})
	if err != nil {
		t.Fatalf("plain send %v > %v: %v", src, dst, err)
	}
}

func recvTimeout(t *testing.T, c Conn) (Packet, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	return c.Recv(ctx)
}

// TestConnExchange sends adverts between two Conns in two namespaces:
// v2 and v3 over IPv4, v3 over IPv6, unicast and multicast.
func TestConnExchange(t *testing.T) {
	l := newTestLink(t)
	conns := map[int][2]Conn{
		4: {l.listen(t, 0, 4), l.listen(t, 1, 4)},
		6: {l.listen(t, 0, 6), l.listen(t, 1, 6)},
	}
	for _, fam := range []int{4, 6} {
		if err := conns[fam][1].JoinGroup(l.ifIndex[1]); err != nil {
			t.Fatalf("JoinGroup ipv%d: %v", fam, err)
		}
		if err := conns[fam][1].JoinGroup(l.ifIndex[1]); err != nil {
			t.Fatalf("second JoinGroup ipv%d: %v", fam, err)
		}
	}
	vip4 := []netip.Addr{netip.MustParseAddr("192.0.2.100"), netip.MustParseAddr("192.0.2.101")}
	vip6 := []netip.Addr{netip.MustParseAddr("2001:db8::100")}
	tests := []struct {
		name     string
		family   int
		src, dst netip.Addr
		advert   Advert
	}{
		{"v2 ipv4 unicast", 4, l.v4[0], l.v4[1], Advert{Version: 2, VRID: 1, Priority: 100, AdvertInterval: time.Second,
			AuthType: AuthTypeSimple, AuthData: AuthPassword("secret"), Addrs: vip4}},
		{"v2 ipv4 multicast", 4, l.v4[0], MulticastIPv4, Advert{Version: 2, VRID: 2, Priority: 50, AdvertInterval: 3 * time.Second, Addrs: vip4}},
		{"v3 ipv4 unicast", 4, l.v4[0], l.v4[1], Advert{Version: 3, VRID: 3, Priority: 255, AdvertInterval: 100 * time.Millisecond, Addrs: vip4}},
		{"v3 ipv4 multicast", 4, l.v4[0], MulticastIPv4, Advert{Version: 3, VRID: 4, Priority: 0, AdvertInterval: time.Second, Addrs: vip4[:1]}},
		{"v3 ipv6 unicast", 6, l.v6[0], l.v6[1], Advert{Version: 3, VRID: 5, Priority: 100, AdvertInterval: time.Second, Addrs: vip6}},
		{"v3 ipv6 link-local unicast", 6, l.ll[0], l.ll[1], Advert{Version: 3, VRID: 6, Priority: 100, AdvertInterval: time.Second, Addrs: vip6}},
		{"v3 ipv6 multicast", 6, l.ll[0], MulticastIPv6, Advert{Version: 3, VRID: 7, Priority: 200, AdvertInterval: 40950 * time.Millisecond, Addrs: vip6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := conns[tt.family]
			if err := c[0].Send(t.Context(), l.ifIndex[0], tt.src, tt.dst, tt.advert); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got, err := recvTimeout(t, c[1])
			if err != nil {
				t.Fatalf("Recv: %v", err)
			}
			b, _ := Marshal(tt.advert, tt.src, tt.dst)
			want := Packet{Advert: tt.advert, Src: tt.src, Dst: tt.dst, TTL: 255, IfIndex: l.ifIndex[1]}
			want.Advert.Checksum = uint16(b[6])<<8 | uint16(b[7])
			if diff := cmp.Diff(want, got, addrComparer); diff != "" {
				t.Errorf("Recv (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConnDrops crafts bad packets with a plain raw socket.
func TestConnDrops(t *testing.T) {
	l := newTestLink(t)
	r4, r6 := l.listen(t, 1, 4), l.listen(t, 1, 6)
	for _, c := range []Conn{r4, r6} {
		if err := c.JoinGroup(l.ifIndex[1]); err != nil {
			t.Fatal(err)
		}
	}
	adv := func(v uint8, addr string) Advert {
		return Advert{Version: v, VRID: 9, Priority: 100, AdvertInterval: time.Second, Addrs: []netip.Addr{netip.MustParseAddr(addr)}}
	}
	marshal := func(a Advert, src, dst netip.Addr) []byte {
		b, err := Marshal(a, src, dst)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	corrupt := func(b []byte) []byte { b[7] ^= 0xff; return b }
	tests := []struct {
		name     string
		recv     Conn
		src, dst netip.Addr
		ttl      int
		payload  []byte
		want     DropReason // DropUnknown: accepted
		wantTTL  int
	}{
		{"ipv4 multicast ttl 64", r4, l.v4[0], MulticastIPv4, 64, marshal(adv(3, "192.0.2.100"), l.v4[0], MulticastIPv4), DropTTL, 64},
		{"ipv4 multicast ttl 254 v2", r4, l.v4[0], MulticastIPv4, 254, marshal(adv(2, "192.0.2.100"), l.v4[0], MulticastIPv4), DropTTL, 254},
		{"ipv6 multicast hop limit 64", r6, l.ll[0], MulticastIPv6, 64, marshal(adv(3, "2001:db8::100"), l.ll[0], MulticastIPv6), DropTTL, 64},
		{"ipv4 unicast ttl 64 accepted", r4, l.v4[0], l.v4[1], 64, marshal(adv(3, "192.0.2.100"), l.v4[0], l.v4[1]), DropUnknown, 64},
		{"ipv6 unicast hop limit 64 accepted (keepalived)", r6, l.v6[0], l.v6[1], 64, marshal(adv(3, "2001:db8::100"), l.v6[0], l.v6[1]), DropUnknown, 64},
		{"ipv4 multicast bad checksum", r4, l.v4[0], MulticastIPv4, 255, corrupt(marshal(adv(3, "192.0.2.100"), l.v4[0], MulticastIPv4)), DropChecksum, 255},
		{"ipv4 unicast v2 bad checksum", r4, l.v4[0], l.v4[1], 255, corrupt(marshal(adv(2, "192.0.2.100"), l.v4[0], l.v4[1])), DropChecksum, 255},
		{"ipv6 unicast bad checksum", r6, l.v6[0], l.v6[1], 255, corrupt(marshal(adv(3, "2001:db8::100"), l.v6[0], l.v6[1])), DropChecksum, 255},
		{"ipv4 checksum for another dst", r4, l.v4[0], l.v4[1], 255, marshal(adv(3, "192.0.2.100"), l.v4[0], MulticastIPv4), DropChecksum, 255},
		{"ipv4 version 4", r4, l.v4[0], l.v4[1], 255, []byte{0x41, 9, 100, 0, 0, 100, 0, 0}, DropVersion, 255},
		{"ipv4 truncated", r4, l.v4[0], l.v4[1], 255, []byte{0x31, 9, 100}, DropMalformed, 255},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l.plainSend(t, 0, tt.src, tt.dst, tt.ttl, tt.payload)
			p, err := recvTimeout(t, tt.recv)
			switch r, ok := DropReasonOf(err); {
			case tt.want == DropUnknown && err != nil:
				t.Fatalf("Recv error = %v, want the packet accepted", err)
			case tt.want != DropUnknown && !ok:
				t.Fatalf("Recv error = %v, want a *DropError %v", err, tt.want)
			case r != tt.want:
				t.Errorf("Recv error = %v, want reason %v", err, tt.want)
			}
			want := Packet{Src: tt.src, Dst: tt.dst, TTL: tt.wantTTL, IfIndex: l.ifIndex[1]}
			got := p
			got.Advert = Advert{}
			if diff := cmp.Diff(want, got, addrComparer); diff != "" {
				t.Errorf("Recv envelope (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConnOwnPacket sends to the local address: the Conn must recognise its
// own source.
func TestConnOwnPacket(t *testing.T) {
	l := newTestLink(t)
	c := l.listen(t, 0, 4)
	a := Advert{Version: 3, VRID: 1, Priority: 1, AdvertInterval: time.Second}
	if err := c.Send(t.Context(), l.ifIndex[0], l.v4[0], l.v4[0], a); err != nil {
		t.Fatal(err)
	}
	_, err := recvTimeout(t, c)
	if r, _ := DropReasonOf(err); r != DropOwnPacket {
		t.Errorf("Recv error = %v, want reason %v", err, DropOwnPacket)
	}
}

// TestConnContextAndClose checks that Recv honours ctx and Close.
func TestConnContextAndClose(t *testing.T) {
	l := newTestLink(t)
	for _, fam := range []int{4, 6} {
		t.Run(fmt.Sprintf("ipv%d", fam), func(t *testing.T) {
			c := l.listen(t, 0, fam)
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := c.Recv(ctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Recv after deadline = %v, want context.DeadlineExceeded", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Recv took %v after its deadline", d)
			}
			// The expired deadline must not leak into the next Recv.
			go func() {
				time.Sleep(100 * time.Millisecond)
				_ = c.Send(context.Background(), l.ifIndex[0], l.v4v6(0, fam), l.v4v6(0, fam), Advert{Version: 3, VRID: 1, AdvertInterval: time.Second})
			}()
			if _, err := recvTimeout(t, c); err == nil || !errors.As(err, new(*DropError)) {
				t.Errorf("Recv after a cancelled Recv = %v, want the own-packet drop", err)
			}
			errc := make(chan error, 1)
			go func() { _, err := c.Recv(context.Background()); errc <- err }()
			time.Sleep(50 * time.Millisecond)
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if err := c.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			select {
			case err := <-errc:
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("Recv after Close = %v, want net.ErrClosed", err)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("Recv did not return after Close")
			}
		})
	}
}

func (l *testLink) v4v6(i, family int) netip.Addr {
	if family == 4 {
		return l.v4[i]
	}
	return l.v6[i]
}

func TestSendRejects(t *testing.T) {
	l := newTestLink(t)
	c4, c6 := l.listen(t, 0, 4), l.listen(t, 0, 6)
	a := Advert{Version: 3, VRID: 1, AdvertInterval: time.Second}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name     string
		c        Conn
		ctx      context.Context
		src, dst netip.Addr
		a        Advert
	}{
		{"ipv6 dst on ipv4 conn", c4, t.Context(), l.v4[0], l.v6[1], a},
		{"ipv4 on ipv6 conn", c6, t.Context(), l.v4[0], l.v4[1], a},
		{"no src", c6, t.Context(), netip.Addr{}, MulticastIPv6, a},
		{"cancelled ctx", c4, ctx, l.v4[0], l.v4[1], a},
		{"bad advert", c4, t.Context(), l.v4[0], l.v4[1], Advert{Version: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.c.Send(tt.ctx, l.ifIndex[0], tt.src, tt.dst, tt.a); err == nil {
				t.Error("Send succeeded, want an error")
			}
		})
	}
}

// TestMuxOverRawConn runs a Mux on a real Conn: unicast and multicast
// adverts reach the registered instance, the rest is counted.
func TestMuxOverRawConn(t *testing.T) {
	l := newTestLink(t)
	s4, r4 := l.listen(t, 0, 4), l.listen(t, 1, 4)
	if err := r4.JoinGroup(l.ifIndex[1]); err != nil {
		t.Fatal(err)
	}
	var drops Counters
	m := NewMux(r4, &drops, slog.New(slog.DiscardHandler))
	got := make(chan Packet, 8)
	m.Register(l.ifIndex[1], 1, 4, func(p Packet) {
		select {
		case got <- p:
		default:
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	a := Advert{Version: 3, VRID: 1, Priority: 100, AdvertInterval: time.Second, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.100")}}
	unknown := a
	unknown.VRID = 2
	for _, s := range []struct {
		dst netip.Addr
		a   Advert
	}{{l.v4[1], a}, {MulticastIPv4, a}, {l.v4[1], unknown}} {
		if err := s4.Send(t.Context(), l.ifIndex[0], l.v4[0], s.dst, s.a); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := Marshal(a, l.v4[0], MulticastIPv4)
	l.plainSend(t, 0, l.v4[0], MulticastIPv4, 1, b)

	for _, dst := range []netip.Addr{l.v4[1], MulticastIPv4} {
		select {
		case p := <-got:
			if p.Dst != dst || p.Advert.VRID != 1 {
				t.Errorf("delivered %v vrid %d, want %v vrid 1", p.Dst, p.Advert.VRID, dst)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("no packet to %v delivered", dst)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for drops.Get(DropVRIDUnknown) != 1 || drops.Get(DropTTL) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("drops = %v, want vrid_unknown 1 and ttl 1", drops.Snapshot())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedBuffer collects a process's output for concurrent reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// keepalivedLiveConf has one instance per wire variant; all are masters
// sending unicast to side 2 of the testLink.
const keepalivedLiveConf = `
global_defs {
	router_id vw-live
}
vrrp_instance VW_V2 {
	version 2
	state MASTER
	interface vw-v1
	virtual_router_id 21
	priority 100
	advert_int 1
	authentication {
		auth_type PASS
		auth_pass s3cr3t
	}
	unicast_src_ip 192.0.2.1
	unicast_peer {
		192.0.2.2
	}
	virtual_ipaddress {
		192.0.2.100/24
	}
}
vrrp_instance VW_V3_4 {
	version 3
	state MASTER
	interface vw-v1
	virtual_router_id 31
	priority 100
	advert_int 0.5
	unicast_src_ip 192.0.2.1
	unicast_peer {
		192.0.2.2
	}
	virtual_ipaddress {
		192.0.2.110/24
		192.0.2.111/24
	}
}
vrrp_instance VW_V3_6 {
	version 3
	state MASTER
	interface vw-v1
	virtual_router_id 61
	priority 100
	advert_int 0.5
	unicast_src_ip 2001:db8::1
	unicast_peer {
		2001:db8::2
	}
	virtual_ipaddress {
		2001:db8::100/64
	}
}
`

// TestKeepalivedLive runs keepalived as master in side 1: our Conn must
// accept its adverts, and keepalived must accept ours (a higher priority
// makes it log "Entering BACKUP STATE" for each instance).
func TestKeepalivedLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs keepalived for several seconds; skipped with -short")
	}
	skipUnlessNetns(t)
	bin, err := exec.LookPath("keepalived")
	if err != nil {
		t.Skip("keepalived not installed")
	}
	l := newTestLink(t)
	r4, r6 := l.listen(t, 1, 4), l.listen(t, 1, 6)
	dir := t.TempDir()
	conf := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(conf, []byte(keepalivedLiveConf), 0o600); err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	// Started from a thread inside the namespace (not via "ip netns exec",
	// which forks), so cmd.Process is keepalived itself.
	cmd := exec.Command(bin, "-n", "-l", "-D", "-P", "-f", conf,
		"-p", filepath.Join(dir, "keepalived.pid"), "-r", filepath.Join(dir, "vrrp.pid"))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := inNetns(l.ns[0], cmd.Start); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// SIGTERM lets keepalived stop its VRRP child; if it hangs, kill
		// the child through its pid file, then keepalived.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		waited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			if b, err := os.ReadFile(filepath.Join(dir, "vrrp.pid")); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			_ = cmd.Process.Kill()
			<-waited
		}
		if t.Failed() {
			t.Logf("keepalived output:\n%s", out.String())
		}
	})

	// 1. keepalived -> us: every instance's adverts decode.
	type inst struct {
		name string
		c    Conn
		src  netip.Addr
		dst  netip.Addr
		a    Advert
	}
	insts := map[uint8]inst{
		21: {"VW_V2", r4, l.v4[1], l.v4[0], Advert{Version: 2, VRID: 21, Priority: 200, AdvertInterval: time.Second,
			AuthType: AuthTypeSimple, AuthData: AuthPassword("s3cr3t"), Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.100")}}},
		31: {"VW_V3_4", r4, l.v4[1], l.v4[0], Advert{Version: 3, VRID: 31, Priority: 200, AdvertInterval: 500 * time.Millisecond,
			Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.110"), netip.MustParseAddr("192.0.2.111")}}},
		61: {"VW_V3_6", r6, l.v6[1], l.v6[0], Advert{Version: 3, VRID: 61, Priority: 200, AdvertInterval: 500 * time.Millisecond,
			Addrs: []netip.Addr{netip.MustParseAddr("2001:db8::100")}}},
	}
	seen := map[uint8]bool{}
	deadline := time.Now().Add(15 * time.Second) // keepalived becomes master after ~3 intervals
	for i := 0; len(seen) < len(insts) && time.Now().Before(deadline); i++ {
		c := []Conn{r4, r6}[i%2]
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		p, err := c.Recv(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			continue
		}
		if err != nil {
			t.Fatalf("Recv from keepalived: %v", err)
		}
		in, ok := insts[p.Advert.VRID]
		if !ok {
			t.Fatalf("unexpected VRID %d", p.Advert.VRID)
		}
		want := in.a
		want.Priority, want.Checksum = 100, p.Advert.Checksum
		if diff := cmp.Diff(want, p.Advert, addrComparer); diff != "" {
			t.Errorf("advert from keepalived (-want +got):\n%s", diff)
		}
		seen[p.Advert.VRID] = true
	}
	if len(seen) != 3 {
		t.Fatalf("adverts seen for VRIDs %v, want 21, 31 and 61", seen)
	}

	// 2. us -> keepalived: our higher priority must demote every instance.
	mark := len(out.String())
	deadline = time.Now().Add(15 * time.Second)
	for {
		for _, in := range insts {
			if err := in.c.Send(t.Context(), l.ifIndex[1], in.src, in.dst, in.a); err != nil {
				t.Fatalf("Send %s: %v", in.name, err)
			}
		}
		log := out.String()[mark:]
		demoted := 0
		for _, in := range insts {
			if strings.Contains(log, "("+in.name+") Entering BACKUP STATE") {
				demoted++
			}
		}
		if demoted == len(insts) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("keepalived did not enter BACKUP for all instances; log since our adverts:\n%s", log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
