package vrrptest_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/vrrp"
	"github.com/vipd/vipd/vrrp/vrrptest"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestClockFiresInDeadlineOrder(t *testing.T) {
	c := vrrptest.NewClock(epoch)
	var order []string
	c.AfterFunc(3*time.Second, func() { order = append(order, "3s") })
	c.AfterFunc(time.Second, func() { order = append(order, "1s") })
	c.AfterFunc(time.Second, func() { order = append(order, "1s again") })
	stopped := c.AfterFunc(2*time.Second, func() { order = append(order, "stopped") })
	if !stopped.Stop() {
		t.Error("Stop of a pending timer = false")
	}
	var at []time.Time
	c.AfterFunc(1500*time.Millisecond, func() { at = append(at, c.Now()) })
	c.Advance(2 * time.Second)
	if diff := cmp.Diff([]string{"1s", "1s again"}, order); diff != "" {
		t.Errorf("fired after 2s (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Time{epoch.Add(1500 * time.Millisecond)}, at); diff != "" {
		t.Errorf("Now inside a timer (-want +got):\n%s", diff)
	}
	if got := c.Now(); !got.Equal(epoch.Add(2 * time.Second)) {
		t.Errorf("Now = %v, want epoch+2s", got)
	}
	c.Advance(time.Second)
	if diff := cmp.Diff([]string{"1s", "1s again", "3s"}, order); diff != "" {
		t.Errorf("fired after 3s (-want +got):\n%s", diff)
	}
}

func TestClockTimerResetAndStopDrain(t *testing.T) {
	c := vrrptest.NewClock(epoch)
	tm := c.NewTimer(time.Second)
	c.Advance(time.Second)
	select {
	case got := <-tm.C():
		if !got.Equal(epoch.Add(time.Second)) {
			t.Errorf("fired with %v, want epoch+1s", got)
		}
	default:
		t.Fatal("timer did not fire")
	}
	// Fired but unreceived values are dropped by Reset and Stop.
	tm.Reset(time.Second)
	c.Advance(time.Second)
	if tm.Reset(time.Second) {
		t.Error("Reset of a fired timer reported pending")
	}
	select {
	case <-tm.C():
		t.Fatal("stale value after Reset")
	default:
	}
	if !tm.Stop() {
		t.Error("Stop of a pending timer = false")
	}
	c.Advance(time.Hour)
	select {
	case <-tm.C():
		t.Fatal("stopped timer fired")
	default:
	}
}

// TestClockTimerRearmedDuringAdvance checks that a timer reset from a
// goroutine woken by Advance fires within the same Advance when due.
func TestClockTimerRearmedDuringAdvance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := vrrptest.NewClock(epoch)
		c.SetSettle(synctest.Wait)
		tm := c.NewTimer(time.Second)
		ticks := make(chan time.Time, 100)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case now := <-tm.C():
					ticks <- now
					tm.Reset(time.Second)
				case <-ctx.Done():
					return
				}
			}
		}()
		c.Advance(5500 * time.Millisecond)
		cancel()
		<-done
		if got := len(ticks); got != 5 {
			t.Errorf("%d ticks in 5.5s, want 5", got)
		}
	})
}

func mustConn(t *testing.T, n *vrrptest.Network, addr string) *vrrptest.Conn {
	t.Helper()
	c, err := n.NewConn(netip.MustParseAddr(addr), 7)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	advert = vrrp.Advert{Version: 3, VRID: 9, Priority: 100, AdvertInterval: time.Second,
		Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.100")}}
	a1 = netip.MustParseAddr("192.0.2.1")
	a2 = netip.MustParseAddr("192.0.2.2")
	a3 = netip.MustParseAddr("192.0.2.3")
)

// pending returns the source addresses of the packets queued at c.
func pending(t *testing.T, c *vrrptest.Conn) []netip.Addr {
	t.Helper()
	var got []netip.Addr
	for range c.Pending() {
		p, err := c.Recv(t.Context())
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		if p.TTL != 255 || p.IfIndex != 7 {
			t.Errorf("packet TTL %d IfIndex %d, want 255 and 7", p.TTL, p.IfIndex)
		}
		if diff := cmp.Diff(advert.Addrs, p.Advert.Addrs, cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
			t.Errorf("addresses (-want +got):\n%s", diff)
		}
		got = append(got, p.Src)
	}
	return got
}

func TestNetworkDelivery(t *testing.T) {
	ctx := t.Context()
	addrCmp := cmp.Comparer(func(x, y netip.Addr) bool { return x == y })
	tests := []struct {
		name   string
		setup  func(n *vrrptest.Network)
		from   netip.Addr
		dst    netip.Addr
		want2  []netip.Addr // received by a2
		want3  []netip.Addr // received by a3
		joined bool         // a2 and a3 joined the group
	}{
		{name: "unicast", from: a1, dst: a2, want2: []netip.Addr{a1}},
		{name: "multicast to joined", joined: true, from: a1, dst: vrrp.MulticastIPv4, want2: []netip.Addr{a1}, want3: []netip.Addr{a1}},
		{name: "multicast not joined", from: a1, dst: vrrp.MulticastIPv4},
		{name: "drop sender", setup: func(n *vrrptest.Network) { n.Drop(a1) }, joined: true, from: a1, dst: vrrp.MulticastIPv4},
		{name: "drop receiver", setup: func(n *vrrptest.Network) { n.Drop(a3) }, joined: true, from: a1, dst: vrrp.MulticastIPv4, want2: []netip.Addr{a1}},
		{name: "drop link", setup: func(n *vrrptest.Network) { n.DropLink(a1, a2) }, joined: true, from: a1, dst: vrrp.MulticastIPv4, want3: []netip.Addr{a1}},
		{name: "drop link other direction", setup: func(n *vrrptest.Network) { n.DropLink(a2, a1) }, from: a1, dst: a2, want2: []netip.Addr{a1}},
		{name: "partition", setup: func(n *vrrptest.Network) { n.Partition([]netip.Addr{a1, a3}, []netip.Addr{a2}) }, joined: true, from: a1, dst: vrrp.MulticastIPv4, want3: []netip.Addr{a1}},
		{name: "healed", setup: func(n *vrrptest.Network) { n.Partition([]netip.Addr{a1}, []netip.Addr{a2}); n.Drop(a3); n.Heal() }, joined: true, from: a1, dst: vrrp.MulticastIPv4, want2: []netip.Addr{a1}, want3: []netip.Addr{a1}},
		{name: "unknown unicast", from: a1, dst: netip.MustParseAddr("192.0.2.50")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := vrrptest.NewNetwork(vrrptest.NewClock(epoch))
			c1, c2, c3 := mustConn(t, n, "192.0.2.1"), mustConn(t, n, "192.0.2.2"), mustConn(t, n, "192.0.2.3")
			if tt.joined {
				for _, c := range []*vrrptest.Conn{c1, c2, c3} {
					if err := c.JoinGroup(7); err != nil {
						t.Fatal(err)
					}
				}
			}
			if tt.setup != nil {
				tt.setup(n)
			}
			if err := c1.Send(ctx, 7, tt.from, tt.dst, advert); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if diff := cmp.Diff(tt.want2, pending(t, c2), addrCmp); diff != "" {
				t.Errorf("a2 received (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want3, pending(t, c3), addrCmp); diff != "" {
				t.Errorf("a3 received (-want +got):\n%s", diff)
			}
			if got := pending(t, c1); len(got) != 0 {
				t.Errorf("sender received its own packet: %v", got)
			}
			if got := len(c1.Sent()); got != 1 {
				t.Errorf("Sent() has %d entries, want 1", got)
			}
		})
	}
}

func TestNetworkDelay(t *testing.T) {
	clk := vrrptest.NewClock(epoch)
	n := vrrptest.NewNetwork(clk)
	c1, c2 := mustConn(t, n, "192.0.2.1"), mustConn(t, n, "192.0.2.2")
	n.SetDelay(50 * time.Millisecond)
	if err := c1.Send(t.Context(), 7, a1, a2, advert); err != nil {
		t.Fatal(err)
	}
	clk.Advance(49 * time.Millisecond)
	if got := pending(t, c2); len(got) != 0 {
		t.Fatalf("delivered before the delay: %v", got)
	}
	clk.Advance(time.Millisecond)
	if got := pending(t, c2); len(got) != 1 {
		t.Fatalf("got %d packets after the delay, want 1", len(got))
	}
}

func TestConnErrors(t *testing.T) {
	n := vrrptest.NewNetwork(nil)
	c1, c2 := mustConn(t, n, "192.0.2.1"), mustConn(t, n, "192.0.2.2")
	if _, err := n.NewConn(a1, 1); err == nil {
		t.Error("duplicate address: no error")
	}
	bad := advert
	bad.AdvertInterval = 5 * time.Millisecond
	if err := c1.Send(t.Context(), 7, a1, a2, bad); err == nil {
		t.Error("unencodable advert: no error")
	}
	boom := errors.New("boom")
	c1.SetSendError(boom)
	if err := c1.Send(t.Context(), 7, a1, a2, advert); !errors.Is(err, boom) {
		t.Errorf("Send = %v, want %v", err, boom)
	}
	c1.SetSendError(nil)
	if err := c2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c2.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c2.Recv(t.Context()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Recv after Close = %v, want net.ErrClosed", err)
	}
	if err := c2.Send(t.Context(), 7, a2, a1, advert); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Send after Close = %v, want net.ErrClosed", err)
	}
	// The address is free again.
	if _, err := n.NewConn(a2, 1); err != nil {
		t.Errorf("NewConn after Close: %v", err)
	}
	_ = a3
}
