package vrrp_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/vrrp"
	"github.com/vipd/vipd/vrrp/vrrptest"
)

// The tests run every router in a testing/synctest bubble on a
// vrrptest.Clock whose settle function is synctest.Wait: time moves only in
// h.advance, and after each timer fire every router has handled it and the
// packets it caused before the next fires. Nothing sleeps.

var (
	addrA = netip.MustParseAddr("192.0.2.1")
	addrB = netip.MustParseAddr("192.0.2.2")
	addrC = netip.MustParseAddr("192.0.2.3")
	addrX = netip.MustParseAddr("192.0.2.99") // a stranger
	vip   = netip.MustParseAddr("192.0.2.100")
	vip2  = netip.MustParseAddr("192.0.2.101")

	epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// recHooks records what a Router reports.
type recHooks struct {
	mu    sync.Mutex
	trans []vrrp.Transition
	peers []vrrp.PeerInfo
}

func (h *recHooks) Transition(t vrrp.Transition) {
	h.mu.Lock()
	h.trans = append(h.trans, t)
	h.mu.Unlock()
}

func (h *recHooks) PeerMaster(p vrrp.PeerInfo) {
	h.mu.Lock()
	h.peers = append(h.peers, p)
	h.mu.Unlock()
}

// path returns the sequence of states, starting with the first From.
func (h *recHooks) path() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.trans) == 0 {
		return nil
	}
	p := []string{h.trans[0].From.String()}
	for _, t := range h.trans {
		p = append(p, t.To.String())
	}
	return p
}

func (h *recHooks) last() vrrp.Transition {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.trans) == 0 {
		return vrrp.Transition{}
	}
	return h.trans[len(h.trans)-1]
}

func (h *recHooks) peerMasters() []vrrp.PeerInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.peers)
}

type node struct {
	name     string
	conn     *vrrptest.Conn
	routers  []*vrrp.Router
	hooks    []*recHooks
	counters *vrrp.Counters
	cancel   context.CancelFunc
	done     chan struct{} // closed when every Run and the Pump returned
}

// r returns the node's first router.
func (n *node) r() *vrrp.Router { return n.routers[0] }

func (n *node) state() vrrp.State { return n.routers[0].Status().State }

func (n *node) stopped() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

type harness struct {
	t     *testing.T
	clk   *vrrptest.Clock
	net   *vrrptest.Network
	log   *slog.Logger
	nodes []*node
}

// newHarness must be called inside synctest.Test.
func newHarness(t *testing.T) *harness {
	clk := vrrptest.NewClock(epoch)
	clk.SetSettle(synctest.Wait)
	w := io.Discard
	if testing.Verbose() {
		w = t.Output()
	}
	return &harness{
		t:   t,
		clk: clk,
		net: vrrptest.NewNetwork(clk),
		log: slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// cfg returns a v3 1s unicast-or-multicast config for src with VRID 51.
func cfg(name string, src netip.Addr, prio uint8, peers ...netip.Addr) vrrp.Config {
	return vrrp.Config{
		Name:           name,
		VRID:           51,
		Version:        3,
		Priority:       prio,
		AdvertInterval: time.Second,
		Preempt:        true,
		IfIndex:        1,
		Src:            src,
		Peers:          peers,
		VIPs:           []netip.Addr{vip},
	}
}

// add builds (but does not start) a node with one router per config, all
// sharing one Conn with the first config's Src, and makes them a sync group
// named "G" when there are several.
func (h *harness) add(cfgs ...vrrp.Config) *node {
	h.t.Helper()
	conn, err := h.net.NewConn(cfgs[0].Src, 1)
	if err != nil {
		h.t.Fatal(err)
	}
	if len(cfgs[0].Peers) == 0 {
		if err := conn.JoinGroup(1); err != nil {
			h.t.Fatal(err)
		}
	}
	n := &node{name: cfgs[0].Name, conn: conn, counters: new(vrrp.Counters), done: make(chan struct{})}
	for _, c := range cfgs {
		hk := new(recHooks)
		r, err := vrrp.NewRouter(c, conn, hk, n.counters, h.log.With("node", c.Name), h.clk)
		if err != nil {
			h.t.Fatal(err)
		}
		n.routers = append(n.routers, r)
		n.hooks = append(n.hooks, hk)
	}
	if len(cfgs) > 1 {
		if _, err := vrrp.NewSyncGroup("G", n.routers...); err != nil {
			h.t.Fatal(err)
		}
	}
	h.nodes = append(h.nodes, n)
	return n
}

// start runs the node's routers and its receive pump.
func (h *harness) start(n *node) {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	var wg sync.WaitGroup
	for _, r := range n.routers {
		wg.Go(func() {
			if err := r.Run(ctx); err != nil {
				h.t.Errorf("%s: Run: %v", n.name, err)
			}
		})
	}
	pctx, pcancel := context.WithCancel(context.Background())
	pumpDone := make(chan struct{})
	go func() {
		defer close(pumpDone)
		if err := vrrptest.Pump(pctx, n.conn, n.counters, n.routers...); err != nil {
			h.t.Errorf("%s: Pump: %v", n.name, err)
		}
	}()
	go func() {
		wg.Wait()
		pcancel() // receive until every router stopped: stop waits for adverts
		<-pumpDone
		close(n.done)
	}()
	synctest.Wait()
}

// run adds and starts a node.
func (h *harness) run(cfgs ...vrrp.Config) *node {
	n := h.add(cfgs...)
	h.start(n)
	return n
}

func (h *harness) advance(d time.Duration) { h.clk.Advance(d) }

// advanceTo advances the clock to t.
func (h *harness) advanceTo(t time.Time) {
	h.t.Helper()
	if d := t.Sub(h.clk.Now()); d < 0 {
		h.t.Fatalf("advanceTo %v: already at %v", t, h.clk.Now())
	} else {
		h.clk.Advance(d)
	}
}

// lastSent returns the last advert n sent.
func (n *node) lastSent() vrrptest.Sent {
	s := n.conn.Sent()
	if len(s) == 0 {
		return vrrptest.Sent{}
	}
	return s[len(s)-1]
}

// stop cancels n and advances time until its routers returned.
func (h *harness) stop(n *node) {
	h.t.Helper()
	n.cancel()
	for range 100 {
		synctest.Wait()
		if n.stopped() {
			return
		}
		h.advance(100 * time.Millisecond)
	}
	h.t.Fatalf("%s did not stop within 10s", n.name)
}

// close stops every started node; deferred by each test.
func (h *harness) close() {
	for _, n := range h.nodes {
		if n.cancel != nil {
			n.cancel()
		}
	}
	for range 200 {
		synctest.Wait()
		if !slices.ContainsFunc(h.nodes, func(n *node) bool { return n.cancel != nil && !n.stopped() }) {
			return
		}
		h.advance(100 * time.Millisecond)
	}
	h.t.Errorf("nodes did not stop within 20s")
}

// states returns the state of each node's first router.
func (h *harness) states() map[string]string {
	m := make(map[string]string)
	for _, n := range h.nodes {
		m[n.name] = n.state().String()
	}
	return m
}

func (h *harness) wantStates(when string, want map[string]string) {
	h.t.Helper()
	if diff := cmp.Diff(want, h.states()); diff != "" {
		h.t.Fatalf("%s: states (-want +got):\n%s", when, diff)
	}
}

func TestElection(t *testing.T) {
	type rtr struct {
		name string
		addr netip.Addr
		prio uint8
	}
	tests := []struct {
		name      string
		version   uint8
		multicast bool
		routers   []rtr
		want      map[string]string
	}{
		{
			name:    "two routers unicast, higher priority wins",
			version: 3,
			routers: []rtr{{"a", addrA, 100}, {"b", addrB, 200}},
			want:    map[string]string{"a": "BACKUP", "b": "MASTER"},
		},
		{
			name:      "three routers multicast",
			version:   3,
			multicast: true,
			routers:   []rtr{{"a", addrA, 100}, {"b", addrB, 150}, {"c", addrC, 120}},
			want:      map[string]string{"a": "BACKUP", "b": "MASTER", "c": "BACKUP"},
		},
		{
			name:    "three routers unicast v2",
			version: 2,
			routers: []rtr{{"a", addrA, 250}, {"b", addrB, 150}, {"c", addrC, 120}},
			want:    map[string]string{"a": "MASTER", "b": "BACKUP", "c": "BACKUP"},
		},
		{
			name:      "two routers multicast v2",
			version:   2,
			multicast: true,
			routers:   []rtr{{"a", addrA, 90}, {"b", addrB, 91}},
			want:      map[string]string{"a": "BACKUP", "b": "MASTER"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t)
				defer h.close()
				var all []netip.Addr
				for _, r := range tt.routers {
					all = append(all, r.addr)
				}
				for _, r := range tt.routers {
					var peers []netip.Addr
					if !tt.multicast {
						peers = slices.DeleteFunc(slices.Clone(all), func(a netip.Addr) bool { return a == r.addr })
					}
					c := cfg(r.name, r.addr, r.prio, peers...)
					c.Version = tt.version
					h.run(c)
				}
				start := make(map[string]string)
				for _, r := range tt.routers {
					start[r.name] = "BACKUP"
				}
				h.wantStates("at start", start)
				h.advance(3 * time.Second)
				// Nobody's Master_Down_Interval (> 3s) has passed yet.
				for name, st := range h.states() {
					if st != "BACKUP" {
						t.Fatalf("after 3s %s is %s, want BACKUP", name, st)
					}
				}
				h.advance(10 * time.Second)
				h.wantStates("after 13s", tt.want)
				// Everybody agrees on the master's address.
				var master netip.Addr
				for _, n := range h.nodes {
					if n.state() == vrrp.Master {
						master = n.conn.Addr()
					}
				}
				for _, n := range h.nodes {
					if got := n.r().Status().Master; got != master {
						t.Errorf("%s: Status().Master = %v, want %v", n.name, got, master)
					}
				}
				// Only the master advertises once elected.
				for _, n := range h.nodes {
					for _, s := range n.conn.Sent() {
						if n.state() != vrrp.Master {
							t.Errorf("backup %s sent %+v", n.name, s)
						}
					}
				}
			})
		})
	}
}

// unicastPair returns configs for a (addrA) and b (addrB), peers of each
// other.
func unicastPair(prioA, prioB uint8) (a, b vrrp.Config) {
	return cfg("a", addrA, prioA, addrB), cfg("b", addrB, prioB, addrA)
}

// elect runs a and b and waits until a is master.
func (h *harness) electA(a, b vrrp.Config) (na, nb *node) {
	h.t.Helper()
	na, nb = h.run(a), h.run(b)
	h.advance(5 * time.Second)
	h.wantStates("elected", map[string]string{"a": "MASTER", "b": "BACKUP"})
	return na, nb
}

func TestMasterDiesHighestBackupTakesOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a := h.run(cfg("a", addrA, 200, addrB, addrC))
		b := h.run(cfg("b", addrB, 150, addrA, addrC))
		c := h.run(cfg("c", addrC, 100, addrA, addrB))
		h.advance(5 * time.Second)
		h.wantStates("elected", map[string]string{"a": "MASTER", "b": "BACKUP", "c": "BACKUP"})

		// b declares a down Master_Down_Interval(150, 1s) = 3s + 414.0625ms
		// after the last advert it heard; c would only after 3s + 609.375ms.
		h.net.Drop(addrA)
		heard := a.lastSent().At
		h.advanceTo(heard.Add(3414 * time.Millisecond))
		h.wantStates("just before b's Master_Down_Interval", map[string]string{"a": "MASTER", "b": "BACKUP", "c": "BACKUP"})
		h.advance(time.Millisecond)
		h.wantStates("after b's Master_Down_Interval", map[string]string{"a": "MASTER", "b": "MASTER", "c": "BACKUP"})
		if got := b.hooks[0].last(); got.Reason != "master down timer expired" || got.At != heard.Add(3414062500) {
			t.Errorf("b's transition = %+v, want master down timer expired at %v", got, heard.Add(3414062500))
		}
		h.advance(10 * time.Second)
		h.wantStates("10s later", map[string]string{"a": "MASTER", "b": "MASTER", "c": "BACKUP"})
		if got := c.r().Status().Master; got != addrB {
			t.Errorf("c hears master %v, want %v", got, addrB)
		}

		// a comes back: it is the higher priority, b backs off.
		h.net.Heal()
		h.advance(1 * time.Second)
		h.wantStates("healed", map[string]string{"a": "MASTER", "b": "BACKUP", "c": "BACKUP"})
	})
}

func TestDualMasterAfterPartitionHeals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a, b := h.electA(unicastPair(200, 100))
		h.net.Partition([]netip.Addr{addrA}, []netip.Addr{addrB})
		h.advance(5 * time.Second)
		h.wantStates("partitioned", map[string]string{"a": "MASTER", "b": "MASTER"})
		// Heal right after a's advert, so b, still master, advertises first
		// and a hears a dual master.
		h.advanceTo(a.lastSent().At.Add(time.Second))
		h.net.Heal()
		h.advance(time.Second)
		h.wantStates("healed", map[string]string{"a": "MASTER", "b": "BACKUP"})
		pm := a.hooks[0].peerMasters()
		if len(pm) == 0 || pm[0].Addr != addrB || pm[0].Priority != 100 {
			t.Errorf("a's PeerMaster calls = %+v, want one for %v priority 100", pm, addrB)
		}
		if got := b.hooks[0].last().Reason; got != "higher priority master 192.0.2.1 (priority 200)" {
			t.Errorf("b's reason = %q", got)
		}
		if !b.r().Status().HigherMasterAt.After(epoch) {
			t.Errorf("b's HigherMasterAt = %v, want set", b.r().Status().HigherMasterAt)
		}
	})
}

func TestPriorityZeroTakeoverAfterSkewTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a, b := h.electA(unicastPair(200, 150))
		// Stop a: it sends priority 0 and stays master until b takes over,
		// Skew_Time(150, 1s) = 414.0625ms later.
		a.cancel()
		synctest.Wait()
		sent := a.conn.Sent()
		if last := sent[len(sent)-1]; last.Advert.Priority != 0 || last.Dst != addrB {
			t.Fatalf("a's last advert = %+v, want priority 0 to %v", last, addrB)
		}
		h.advance(414 * time.Millisecond)
		h.wantStates("before Skew_Time", map[string]string{"a": "MASTER", "b": "BACKUP"})
		if a.stopped() {
			t.Fatal("a returned before a new master was heard")
		}
		h.advance(time.Millisecond)
		if b.state() != vrrp.Master {
			t.Fatalf("b is %v after Skew_Time, want MASTER", b.state())
		}
		// a heard b's advert: make-before-break done.
		synctest.Wait()
		if !a.stopped() {
			t.Fatal("a still running after hearing the new master")
		}
		want := []string{"INIT", "BACKUP", "MASTER", "INIT"}
		if diff := cmp.Diff(want, a.hooks[0].path()); diff != "" {
			t.Errorf("a's states (-want +got):\n%s", diff)
		}
		if got := a.hooks[0].last(); got.Reason != "stop" || got.At != b.hooks[0].last().At {
			t.Errorf("a's last transition = %+v, want stop when b became master (%v)", got, b.hooks[0].last().At)
		}
	})
}

func TestStopAloneWaitsMasterDownInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a := h.run(cfg("a", addrA, 200, addrB))
		h.advance(4 * time.Second)
		h.wantStates("alone", map[string]string{"a": "MASTER"})
		a.cancel()
		synctest.Wait()
		// Nobody answers: a keeps the VIP for Master_Down_Interval(200, 1s).
		h.advance(3*time.Second + 218*time.Millisecond)
		if a.stopped() || a.state() != vrrp.Master {
			t.Fatalf("a stopped=%v state=%v before Master_Down_Interval, want running MASTER", a.stopped(), a.state())
		}
		h.advance(time.Millisecond)
		synctest.Wait()
		if !a.stopped() || a.state() != vrrp.Initialize {
			t.Fatalf("a stopped=%v state=%v after Master_Down_Interval, want stopped INIT", a.stopped(), a.state())
		}
		// Exactly one priority 0 advert, and nothing after it.
		sent := a.conn.Sent()
		if last := sent[len(sent)-1]; last.Advert.Priority != 0 {
			t.Errorf("last advert priority %d, want 0", last.Advert.Priority)
		}
		if n := len(slices.DeleteFunc(sent, func(s vrrptest.Sent) bool { return s.Advert.Priority != 0 })); n != 1 {
			t.Errorf("%d priority 0 adverts, want 1", n)
		}
	})
}

func TestStopBackupReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		_, b := h.electA(unicastPair(200, 100))
		b.cancel()
		synctest.Wait()
		if !b.stopped() {
			t.Fatal("backup still running after cancel")
		}
		if diff := cmp.Diff([]string{"INIT", "BACKUP", "INIT"}, b.hooks[0].path()); diff != "" {
			t.Errorf("b's states (-want +got):\n%s", diff)
		}
		if n := len(b.conn.Sent()); n != 0 {
			t.Errorf("backup sent %d adverts", n)
		}
	})
}

func TestPreemptOnRecovery(t *testing.T) {
	tests := []struct {
		name         string
		preempt      bool
		preemptDelay time.Duration
		// at is when the higher priority router started after b
		checks []struct {
			at   time.Duration // after a started
			want string        // a's state
		}
	}{
		{name: "preempt", preempt: true, checks: []struct {
			at   time.Duration
			want string
		}{{3 * time.Second, "BACKUP"}, {4 * time.Second, "MASTER"}, {20 * time.Second, "MASTER"}}},
		{name: "nopreempt", preempt: false, checks: []struct {
			at   time.Duration
			want string
		}{{4 * time.Second, "BACKUP"}, {60 * time.Second, "BACKUP"}}},
		{name: "preempt delay 10s", preempt: true, preemptDelay: 10 * time.Second, checks: []struct {
			at   time.Duration
			want string
		}{{4 * time.Second, "BACKUP"}, {10 * time.Second, "BACKUP"}, {12 * time.Second, "BACKUP"}, {14 * time.Second, "MASTER"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t)
				defer h.close()
				ca, cb := unicastPair(200, 100)
				ca.Preempt = tt.preempt
				ca.PreemptDelay = tt.preemptDelay
				a := h.add(ca)
				b := h.run(cb)
				h.advance(5 * time.Second)
				if b.state() != vrrp.Master {
					t.Fatalf("b alone is %v, want MASTER", b.state())
				}
				h.advance(500 * time.Millisecond) // a starts between two adverts of b
				h.start(a)
				var elapsed time.Duration
				for _, c := range tt.checks {
					h.advance(c.at - elapsed)
					elapsed = c.at
					if got := a.state().String(); got != c.want {
						t.Fatalf("%v after a started: a is %s, want %s", c.at, got, c.want)
					}
				}
				wantB := "BACKUP"
				if tt.checks[len(tt.checks)-1].want == "BACKUP" {
					wantB = "MASTER"
				}
				if got := b.state().String(); got != wantB {
					t.Errorf("b is %s, want %s", got, wantB)
				}
			})
		})
	}
}

func TestEqualPriorityTieBreakByAddress(t *testing.T) {
	for _, multicast := range []bool{false, true} {
		name := "unicast"
		if multicast {
			name = "multicast"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t)
				defer h.close()
				ca, cb := unicastPair(100, 100)
				if multicast {
					ca.Peers, cb.Peers = nil, nil
				}
				// Both start as master (keepalived state MASTER): a dual
				// master the greater address must win.
				ca.InitialMaster, cb.InitialMaster = true, true
				a, b := h.add(ca), h.add(cb)
				h.start(a)
				h.start(b)
				h.wantStates("at start", map[string]string{"a": "BACKUP", "b": "MASTER"})
				if got := a.hooks[0].last().Reason; got != "equal priority master 192.0.2.2 with greater address" {
					t.Errorf("a's reason = %q", got)
				}
				h.advance(20 * time.Second)
				h.wantStates("20s later", map[string]string{"a": "BACKUP", "b": "MASTER"})
				if diff := cmp.Diff([]string{"INIT", "MASTER"}, b.hooks[0].path()); diff != "" {
					t.Errorf("b's states (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestAddressOwner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		ca, cb := unicastPair(255, 200)
		ca.VIPs = []netip.Addr{vip, vip2} // the owner's list may differ
		a := h.add(ca)
		h.run(cb)
		h.advance(5 * time.Second)
		h.wantStates("b alone", map[string]string{"a": "INIT", "b": "MASTER"})
		// The owner becomes master at once (§6.4.1), without waiting.
		h.start(a)
		h.wantStates("owner started", map[string]string{"a": "MASTER", "b": "BACKUP"})
		if got := a.hooks[0].last().Reason; got != "address owner" {
			t.Errorf("a's reason = %q, want address owner", got)
		}
		// Tracks never lower the owner's 255.
		a.r().SetTrack("chk", -100, false)
		h.advance(10 * time.Second)
		h.wantStates("owner with negative weight", map[string]string{"a": "MASTER", "b": "BACKUP"})
		if got := a.r().Status().EffectivePriority; got != 255 {
			t.Errorf("owner's effective priority = %d, want 255", got)
		}
		// b accepted the owner's adverts despite the different address list.
		if got := h.nodes[1].counters.Get(vrrp.DropAddrCount); got != 0 {
			t.Errorf("b dropped %d owner adverts for the address list", got)
		}
		if got := a.counters.Get(vrrp.DropAddrCount); got == 0 {
			t.Errorf("owner a did not drop b's adverts with a different address list")
		}
	})
}

func TestTrackFaultAndRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a, b := h.electA(unicastPair(200, 100))
		a.r().SetTrack("chk_nginx", 0, true)
		synctest.Wait()
		if got := a.hooks[0].last(); got.To != vrrp.Fault || got.Reason != "track chk_nginx fault" {
			t.Fatalf("a's transition = %+v, want FAULT track chk_nginx fault", got)
		}
		sent := a.conn.Sent()
		if p := sent[len(sent)-1].Advert.Priority; p != 0 {
			t.Errorf("a leaving master sent priority %d, want 0", p)
		}
		// b takes over after Skew_Time(100, 1s) = 609.375ms.
		h.advance(610 * time.Millisecond)
		h.wantStates("a faulted", map[string]string{"a": "FAULT", "b": "MASTER"})
		h.advance(10 * time.Second)
		if n := len(a.conn.Sent()); n != len(sent) {
			t.Errorf("a sent %d adverts in FAULT", n-len(sent))
		}
		// A second track faults, the first clears: still FAULT.
		a.r().SetTrack("eth1", 0, true)
		a.r().SetTrack("chk_nginx", 0, false)
		h.advance(time.Second)
		h.wantStates("one fault left", map[string]string{"a": "FAULT", "b": "MASTER"})
		// All clear: BACKUP, then a preempts (priority 200 > 100).
		a.r().SetTrack("eth1", 0, false)
		synctest.Wait()
		h.wantStates("faults cleared", map[string]string{"a": "BACKUP", "b": "MASTER"})
		h.advance(4 * time.Second)
		h.wantStates("a preempted", map[string]string{"a": "MASTER", "b": "BACKUP"})
		if diff := cmp.Diff([]string{"INIT", "BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER"}, a.hooks[0].path()); diff != "" {
			t.Errorf("a's states (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]vrrp.TrackStatus{{Name: "chk_nginx"}, {Name: "eth1"}}, a.r().Status().Tracks); diff != "" {
			t.Errorf("tracks (-want +got):\n%s", diff)
		}
		_ = b
	})
}

func TestFaultAtStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		ca, _ := unicastPair(255, 100)
		a := h.add(ca)
		a.r().SetTrack("eth1", 0, true)
		h.start(a)
		h.advance(10 * time.Second)
		h.wantStates("faulted owner", map[string]string{"a": "FAULT"})
		if n := len(a.conn.Sent()); n != 0 {
			t.Errorf("faulted router sent %d adverts", n)
		}
		a.r().SetTrack("eth1", 0, false)
		synctest.Wait()
		h.wantStates("owner recovered", map[string]string{"a": "MASTER"})
	})
}

func TestWeightChangeMovesMaster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a, b := h.electA(unicastPair(150, 100))
		a.r().SetTrack("chk", -60, false) // 150-60 = 90 < 100
		synctest.Wait()
		if got := a.r().Status(); got.EffectivePriority != 90 || got.Priority != 150 {
			t.Fatalf("priority %d effective %d, want 150 and 90", got.Priority, got.EffectivePriority)
		}
		// a advertised 90 at once; b (preempt) ignores it and takes over
		// after Master_Down_Interval(100) = 3.609375s.
		sent := a.conn.Sent()
		if p := sent[len(sent)-1].Advert.Priority; p != 90 {
			t.Errorf("a's advert after the weight change has priority %d, want 90", p)
		}
		// b last reset its timer at a's previous advert.
		prev := sent[len(sent)-2].At
		h.advanceTo(prev.Add(3609 * time.Millisecond))
		h.wantStates("before Master_Down_Interval", map[string]string{"a": "MASTER", "b": "BACKUP"})
		h.advance(time.Millisecond)
		h.wantStates("after Master_Down_Interval", map[string]string{"a": "BACKUP", "b": "MASTER"})
		// The track recovers: a (150) takes back over.
		a.r().SetTrack("chk", 0, false)
		h.advance(5 * time.Second)
		h.wantStates("weight restored", map[string]string{"a": "MASTER", "b": "BACKUP"})
		_ = b
	})
}

func TestAdvertInterval100ms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		ca, cb := unicastPair(200, 100)
		ca.AdvertInterval = 100 * time.Millisecond
		cb.AdvertInterval = time.Second // v3 backups learn Master_Adver_Interval
		a, b := h.electA(ca, cb)
		sent := a.conn.Sent()
		if got := sent[len(sent)-1].Advert.AdvertInterval; got != 100*time.Millisecond {
			t.Errorf("advert interval %v, want 100ms", got)
		}
		if n := len(sent); n < 20 {
			t.Errorf("a sent %d adverts, want about 10 per second", n)
		}
		// b learned 100ms: Master_Down_Interval(100, 100ms) = 300ms + 60.9375ms.
		h.net.Drop(addrA)
		heard := a.lastSent().At
		h.advanceTo(heard.Add(360 * time.Millisecond))
		if b.state() != vrrp.Backup {
			t.Fatalf("b is %v 360ms after the last advert", b.state())
		}
		h.advance(time.Millisecond)
		if b.state() != vrrp.Master {
			t.Fatalf("b is %v 361ms after the last advert, want MASTER", b.state())
		}
	})
}

func TestV2AuthMismatchDroppedAndCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		ca, cb := unicastPair(200, 100)
		ca.Version, cb.Version = 2, 2
		ca.AuthPass, cb.AuthPass = "secret", "other"
		a, b := h.run(ca), h.run(cb)
		h.advance(10 * time.Second)
		// They do not hear each other: both master.
		h.wantStates("auth mismatch", map[string]string{"a": "MASTER", "b": "MASTER"})
		if got := b.counters.Get(vrrp.DropAuth); got < 5 {
			t.Errorf("b counted %d auth drops, want ≥ 5", got)
		}
		if got := a.counters.Get(vrrp.DropAuth); got < 5 {
			t.Errorf("a counted %d auth drops, want ≥ 5", got)
		}
		if got := b.r().Status().Drops["auth"]; got != b.counters.Get(vrrp.DropAuth) {
			t.Errorf("Status().Drops[auth] = %d, want %d", got, b.counters.Get(vrrp.DropAuth))
		}
	})
}

func TestStrangerDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		_, b := h.electA(unicastPair(100, 50))
		stranger, err := h.net.NewConn(addrX, 1)
		if err != nil {
			t.Fatal(err)
		}
		ad := vrrp.Advert{Version: 3, VRID: 51, Priority: 254, AdvertInterval: time.Second, Addrs: []netip.Addr{vip}}
		for range 3 {
			if err := stranger.Send(t.Context(), 1, addrX, addrB, ad); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if got := b.counters.Get(vrrp.DropNotPeer); got != 3 {
			t.Errorf("b counted %d not_peer drops, want 3", got)
		}
		if got := b.r().Status().Master; got != addrA {
			t.Errorf("b's master is %v, want %v", got, addrA)
		}
	})
}

// TestReceiveChecks delivers hand-made packets to one backup router (peer
// a, VIP vip, v2 with password "pw" or v3) and checks what it drops.
func TestReceiveChecks(t *testing.T) {
	good2 := vrrp.Advert{Version: 2, VRID: 51, Priority: 200, AdvertInterval: time.Second,
		AuthType: vrrp.AuthTypeSimple, AuthData: vrrp.AuthPassword("pw"), Addrs: []netip.Addr{vip}}
	good3 := vrrp.Advert{Version: 3, VRID: 51, Priority: 200, AdvertInterval: 2 * time.Second, Addrs: []netip.Addr{vip}}
	tests := []struct {
		name    string
		version uint8
		src     netip.Addr
		edit    func(a *vrrp.Advert)
		want    map[string]int64 // non-zero drop counters
	}{
		{name: "v2 accepted", version: 2, src: addrA},
		{name: "v3 accepted, other interval", version: 3, src: addrA},
		{name: "own packet", version: 3, src: addrB, want: map[string]int64{"own_packet": 1}},
		{name: "not a peer", version: 3, src: addrC, want: map[string]int64{"not_peer": 1}},
		{name: "v2 wrong password", version: 2, src: addrA, edit: func(a *vrrp.Advert) { a.AuthData = vrrp.AuthPassword("nope") },
			want: map[string]int64{"auth": 1}},
		{name: "v2 no auth", version: 2, src: addrA, edit: func(a *vrrp.Advert) { a.AuthType, a.AuthData = 0, [8]byte{} },
			want: map[string]int64{"auth": 1}},
		{name: "v2 interval mismatch", version: 2, src: addrA, edit: func(a *vrrp.Advert) { a.AdvertInterval = 2 * time.Second },
			want: map[string]int64{"advert_interval": 1}},
		{name: "address count", version: 3, src: addrA, edit: func(a *vrrp.Advert) { a.Addrs = []netip.Addr{vip, vip2} },
			want: map[string]int64{"addr_count": 1}},
		{name: "address list", version: 3, src: addrA, edit: func(a *vrrp.Advert) { a.Addrs = []netip.Addr{vip2} },
			want: map[string]int64{"addr_count": 1}},
		{name: "no addresses", version: 3, src: addrA, edit: func(a *vrrp.Advert) { a.Addrs = nil },
			want: map[string]int64{"addr_count": 1}},
		{name: "owner with other addresses accepted", version: 3, src: addrA, edit: func(a *vrrp.Advert) { a.Priority, a.Addrs = 255, []netip.Addr{vip2} }},
		{name: "other version", version: 3, src: addrA, edit: func(a *vrrp.Advert) { a.Version = 2 },
			want: map[string]int64{"version": 1}},
		{name: "other vrid", version: 3, src: addrA, edit: func(a *vrrp.Advert) { a.VRID = 52 },
			want: map[string]int64{"vrid_unknown": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t)
				defer h.close()
				c := cfg("b", addrB, 100, addrA)
				ad := good3
				if tt.version == 2 {
					c.Version, c.AuthPass = 2, "pw"
					ad = good2
				}
				ad.Addrs = slices.Clone(ad.Addrs)
				if tt.edit != nil {
					tt.edit(&ad)
				}
				b := h.run(c)
				b.r().Deliver(vrrp.Packet{Advert: ad, Src: tt.src, Dst: addrB, TTL: 255, IfIndex: 1})
				synctest.Wait()
				got := make(map[string]int64)
				for k, v := range b.r().Status().Drops {
					if v != 0 {
						got[k] = v
					}
				}
				want := tt.want
				if want == nil {
					want = map[string]int64{}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("drops (-want +got):\n%s", diff)
				}
				wantMaster := netip.Addr{}
				if len(tt.want) == 0 {
					wantMaster = tt.src
				}
				if got := b.r().Status().Master; got != wantMaster {
					t.Errorf("master heard = %v, want %v", got, wantMaster)
				}
			})
		})
	}
}

func TestDeliverNeverBlocks(t *testing.T) {
	h := newHarnessNoBubble(t)
	c := cfg("b", addrB, 100, addrA)
	conn, err := h.net.NewConn(addrB, 1)
	if err != nil {
		t.Fatal(err)
	}
	counters := new(vrrp.Counters)
	r, err := vrrp.NewRouter(c, conn, nil, counters, h.log, h.clk)
	if err != nil {
		t.Fatal(err)
	}
	// Not running: the inbox (16 packets) fills up, the rest is dropped.
	for range 100 {
		r.Deliver(vrrp.Packet{Src: addrA, Advert: vrrp.Advert{Version: 3, VRID: 51}})
	}
	if got := r.Status().QueueFull; got != 84 {
		t.Errorf("QueueFull = %d, want 84", got)
	}
	if got := counters.Get(vrrp.DropQueueFull); got != 84 {
		t.Errorf("counted %d drops, want 84", got)
	}
}

// newHarnessNoBubble is a harness for tests that start no goroutine.
func newHarnessNoBubble(t *testing.T) *harness {
	clk := vrrptest.NewClock(epoch)
	return &harness{t: t, clk: clk, net: vrrptest.NewNetwork(clk), log: slog.New(slog.DiscardHandler)}
}

func TestRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a := h.run(cfg("a", addrA, 100, addrB))
		if err := a.r().Run(t.Context()); err == nil {
			t.Error("second Run succeeded, want error")
		}
	})
}

func TestConfigValidate(t *testing.T) {
	ok := cfg("a", addrA, 100, addrB)
	v2 := ok
	v2.Version, v2.AuthPass = 2, "12345678"
	six := cfg("a", netip.MustParseAddr("2001:db8::1"), 100)
	six.VIPs = []netip.Addr{netip.MustParseAddr("2001:db8::100")}
	tests := []struct {
		name    string
		edit    func(c *vrrp.Config)
		base    vrrp.Config
		wantErr bool
	}{
		{name: "ok", base: ok},
		{name: "ok v2", base: v2},
		{name: "ok v6 multicast", base: six},
		{name: "ok owner 10ms", base: ok, edit: func(c *vrrp.Config) { c.Priority, c.AdvertInterval = 255, 10*time.Millisecond }},
		{name: "vrid 0", base: ok, edit: func(c *vrrp.Config) { c.VRID = 0 }, wantErr: true},
		{name: "priority 0", base: ok, edit: func(c *vrrp.Config) { c.Priority = 0 }, wantErr: true},
		{name: "version 4", base: ok, edit: func(c *vrrp.Config) { c.Version = 4 }, wantErr: true},
		{name: "v3 interval 15ms", base: ok, edit: func(c *vrrp.Config) { c.AdvertInterval = 15 * time.Millisecond }, wantErr: true},
		{name: "v3 interval 41s", base: ok, edit: func(c *vrrp.Config) { c.AdvertInterval = 41 * time.Second }, wantErr: true},
		{name: "v3 interval 0", base: ok, edit: func(c *vrrp.Config) { c.AdvertInterval = 0 }, wantErr: true},
		{name: "v2 interval 1.5s", base: v2, edit: func(c *vrrp.Config) { c.AdvertInterval = 1500 * time.Millisecond }, wantErr: true},
		{name: "v2 password 9 bytes", base: v2, edit: func(c *vrrp.Config) { c.AuthPass = "123456789" }, wantErr: true},
		{name: "v3 password", base: ok, edit: func(c *vrrp.Config) { c.AuthPass = "x" }, wantErr: true},
		{name: "v2 over IPv6", base: six, edit: func(c *vrrp.Config) { c.Version = 2 }, wantErr: true},
		{name: "no source", base: ok, edit: func(c *vrrp.Config) { c.Src = netip.Addr{} }, wantErr: true},
		{name: "peer of other family", base: ok, edit: func(c *vrrp.Config) { c.Peers = []netip.Addr{netip.MustParseAddr("2001:db8::2")} }, wantErr: true},
		{name: "peer is self", base: ok, edit: func(c *vrrp.Config) { c.Peers = []netip.Addr{addrA} }, wantErr: true},
		{name: "no vips", base: ok, edit: func(c *vrrp.Config) { c.VIPs = nil }, wantErr: true},
		{name: "vip of other family", base: ok, edit: func(c *vrrp.Config) { c.VIPs = six.VIPs }, wantErr: true},
		{name: "negative preempt delay", base: ok, edit: func(c *vrrp.Config) { c.PreemptDelay = -time.Second }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.base
			if tt.edit != nil {
				tt.edit(&c)
			}
			if err := c.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestElectionIPv6Multicast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		v6 := []netip.Addr{netip.MustParseAddr("2001:db8::100")}
		ca := cfg("a", netip.MustParseAddr("2001:db8::1"), 100)
		cb := cfg("b", netip.MustParseAddr("2001:db8::2"), 120)
		ca.VIPs, cb.VIPs = v6, v6
		a, b := h.run(ca), h.run(cb)
		h.advance(5 * time.Second)
		h.wantStates("elected", map[string]string{"a": "BACKUP", "b": "MASTER"})
		if got := b.lastSent().Dst; got != vrrp.MulticastIPv6 {
			t.Errorf("advert sent to %v, want %v", got, vrrp.MulticastIPv6)
		}
		if got := a.r().Status().Master; got != cb.Src {
			t.Errorf("a hears master %v, want %v", got, cb.Src)
		}
	})
}

func TestInitialMasterYieldsToHigherPriority(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		ca, cb := unicastPair(100, 200)
		ca.InitialMaster = true
		a := h.add(ca)
		b := h.run(cb)
		h.advance(5 * time.Second)
		h.start(a) // keepalived state MASTER: master at once, then the election
		if diff := cmp.Diff([]string{"INIT", "MASTER", "BACKUP"}, a.hooks[0].path()); diff != "" {
			t.Errorf("a's states (-want +got):\n%s", diff)
		}
		h.wantStates("after a's first advert", map[string]string{"a": "BACKUP", "b": "MASTER"})
		// a's first advert (lower), then a's yield: its advert at its own
		// priority and its priority-0 resignation.
		want := []peerCall{{"192.0.2.1", 100, vrrp.PeerLower}, {"192.0.2.1", 100, vrrp.PeerLower}, {"192.0.2.1", 0, vrrp.PeerResigned}}
		if diff := cmp.Diff(want, peerCalls(b)); diff != "" {
			t.Errorf("b's PeerMaster calls (-want +got):\n%s", diff)
		}
	})
}

// peerCall is one PeerMaster call without its time.
type peerCall struct {
	Addr     string
	Priority uint8
	Reason   vrrp.PeerReason
}

func peerCalls(n *node) []peerCall {
	var got []peerCall
	for _, p := range n.hooks[0].peerMasters() {
		got = append(got, peerCall{p.Addr.String(), p.Priority, p.Reason})
	}
	return got
}

// TestSplitBrainHealYieldAnnounces is the split-brain heal of issue 11: a
// (200) and b (100) are both master while partitioned; the partition heals
// just after b's advert, so a's advert reaches b first and b yields. b must
// tell a at that instant (an advert at its own priority, which keepalived
// answers with a GARP, and a priority-0 one, RFC 5798 §6.4.3) and a must
// answer each at once and report them, so the agent re-announces the VIPs
// before any client's ARP entry times out.
func TestSplitBrainHealYieldAnnounces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a, b := h.electA(unicastPair(200, 100))
		h.net.Partition([]netip.Addr{addrA}, []netip.Addr{addrB})
		h.advance(6 * time.Second)
		h.wantStates("partitioned", map[string]string{"a": "MASTER", "b": "MASTER"})
		if got := a.hooks[0].peerMasters(); len(got) != 0 {
			t.Fatalf("a's PeerMaster calls while partitioned = %+v, want none", got)
		}
		// Heal 1 ms after b's advert: a advertises next, within a second.
		h.advanceTo(b.lastSent().At.Add(time.Second + time.Millisecond))
		h.net.Heal()
		aSent, bSent := len(a.conn.Sent()), len(b.conn.Sent())
		h.advanceTo(a.lastSent().At.Add(time.Second))
		h.wantStates("healed", map[string]string{"a": "MASTER", "b": "BACKUP"})
		yieldAt := b.hooks[0].last().At
		if got := b.hooks[0].last().Reason; got != "higher priority master 192.0.2.1 (priority 200)" {
			t.Errorf("b's reason = %q", got)
		}

		type sent struct {
			Priority uint8
			At       time.Time
		}
		var bGot []sent
		for _, s := range b.conn.Sent()[bSent:] {
			bGot = append(bGot, sent{s.Advert.Priority, s.At})
		}
		if diff := cmp.Diff([]sent{{100, yieldAt}, {0, yieldAt}}, bGot); diff != "" {
			t.Errorf("b's adverts after the heal (-want +got):\n%s", diff)
		}
		want := []peerCall{{"192.0.2.2", 100, vrrp.PeerLower}, {"192.0.2.2", 0, vrrp.PeerResigned}}
		if diff := cmp.Diff(want, peerCalls(a)); diff != "" {
			t.Errorf("a's PeerMaster calls (-want +got):\n%s", diff)
		}
		for _, p := range a.hooks[0].peerMasters() {
			if !p.At.Equal(yieldAt) {
				t.Errorf("a's PeerMaster %v at %v, want at b's yield %v", p.Reason, p.At, yieldAt)
			}
		}
		// a's heal advert, then one answer to each of b's two adverts, all
		// at the yield instant.
		var aAt []time.Time
		for _, s := range a.conn.Sent()[aSent:] {
			if s.At.Equal(yieldAt) {
				aAt = append(aAt, s.At)
			}
		}
		if len(aAt) != 3 {
			t.Errorf("a sent %d adverts at b's yield, want 3 (its own, and one answer to each of b's)", len(aAt))
		}
	})
}

// TestMasterAnswersPriorityZero: a master that hears a priority-0 advert
// (another router resigns) answers at once (RFC 5798 §6.4.3) and reports
// PeerResigned; a backup that hears one takes over after Skew_Time and
// reports nothing.
func TestMasterAnswersPriorityZero(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a, b := h.electA(unicastPair(200, 100))
		// A priority-0 advert from b's address (as if b had resigned).
		before := len(a.conn.Sent())
		at := h.clk.Now()
		if err := b.conn.Send(context.Background(), 1, addrB, addrA, vrrp.Advert{Version: 3, VRID: 51, Priority: 0, AdvertInterval: time.Second, Addrs: []netip.Addr{vip}}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		sent := a.conn.Sent()[before:]
		if len(sent) != 1 || !sent[0].At.Equal(at) || sent[0].Advert.Priority != 200 {
			t.Errorf("a's answer = %+v, want one advert of priority 200 at %v", sent, at)
		}
		if diff := cmp.Diff([]peerCall{{"192.0.2.2", 0, vrrp.PeerResigned}}, peerCalls(a)); diff != "" {
			t.Errorf("a's PeerMaster calls (-want +got):\n%s", diff)
		}
		if got := peerCalls(b); len(got) != 0 {
			t.Errorf("b (backup) PeerMaster calls = %+v, want none", got)
		}
		h.wantStates("after the priority-0 advert", map[string]string{"a": "MASTER", "b": "BACKUP"})
	})
}

func TestSendErrorKeepsRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a, _ := h.electA(unicastPair(200, 100))
		a.conn.SetSendError(errors.New("no route"))
		h.advance(2 * time.Second)
		// b heard nothing: it takes over; a, unaware, stays master.
		h.advance(3 * time.Second)
		h.wantStates("a cannot send", map[string]string{"a": "MASTER", "b": "MASTER"})
		a.conn.SetSendError(nil)
		h.advance(2 * time.Second)
		h.wantStates("a sends again", map[string]string{"a": "MASTER", "b": "BACKUP"})
	})
}

func TestRunWithDoneContext(t *testing.T) {
	h := newHarnessNoBubble(t)
	conn, err := h.net.NewConn(addrA, 1)
	if err != nil {
		t.Fatal(err)
	}
	hk := new(recHooks)
	r, err := vrrp.NewRouter(cfg("a", addrA, 255, addrB), conn, hk, nil, h.log, h.clk)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(hk.path()) != 0 || len(conn.Sent()) != 0 {
		t.Errorf("transitions %v and %d adverts for a router stopped before start", hk.path(), len(conn.Sent()))
	}
}

// TestPreemptDelayAfterFirstLowerMaster: with preempt_delay, a backup that
// deferred to a higher master keeps deferring to a new lower-priority
// master for preempt_delay after first hearing it, then preempts.
func TestPreemptDelayAfterFirstLowerMaster(t *testing.T) {
	for _, delay := range []time.Duration{0, 5 * time.Second} {
		t.Run(delay.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t)
				defer h.close()
				c := cfg("a", addrA, 200, addrB, addrC)
				c.PreemptDelay = delay
				a := h.run(c)
				advert := func(src netip.Addr, prio uint8) {
					a.r().Deliver(vrrp.Packet{
						Advert: vrrp.Advert{Version: 3, VRID: 51, Priority: prio, AdvertInterval: time.Second, Addrs: []netip.Addr{vip}},
						Src:    src, Dst: addrA, TTL: 255, IfIndex: 1,
					})
				}
				for range 20 { // c (250) is master, well past the start delay
					advert(addrC, 250)
					h.advance(time.Second)
				}
				h.wantStates("c master", map[string]string{"a": "BACKUP"})
				// c is gone, b (100) advertises every second from t0.
				t0 := h.clk.Now()
				for i := range 12 {
					advert(addrB, 100)
					synctest.Wait()
					if i == 0 && a.state() != vrrp.Backup {
						t.Fatalf("a is %v at b's first advert", a.state())
					}
					h.advance(time.Second)
				}
				h.wantStates("after b advertised 12s", map[string]string{"a": "MASTER"})
				// Without delay a ignores b at once: Master_Down_Interval
				// (3.21875s) after c's last advert at t0-1s. With 5s it
				// defers to b's adverts t0..t0+4s, then waits out the timer.
				want := t0.Add(-time.Second + 3218750*time.Microsecond)
				if delay > 0 {
					want = t0.Add(4*time.Second + 3218750*time.Microsecond)
				}
				if got := a.hooks[0].last().At; !got.Equal(want) {
					t.Errorf("a became master at t0%+v, want t0%+v", got.Sub(t0), want.Sub(t0))
				}
			})
		})
	}
}

// blockHooks blocks every Transition until release is closed: a wedged
// consumer.
type blockHooks struct {
	vrrp.NopHooks
	release chan struct{}
}

func (h *blockHooks) Transition(vrrp.Transition) { <-h.release }

func TestAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		conn, err := h.net.NewConn(addrA, 1)
		if err != nil {
			t.Fatal(err)
		}
		hooks := &blockHooks{release: make(chan struct{})}
		r, err := vrrp.NewRouter(cfg("a", addrA, 100, addrB), conn, hooks, nil, h.log, h.clk)
		if err != nil {
			t.Fatal(err)
		}
		alive := func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			return r.Alive(ctx)
		}
		if alive() {
			t.Error("Alive before Run = true, want false")
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = r.Run(ctx); close(done) }()
		// Run's first transition (Initialize → Backup) blocks in the hook.
		synctest.Wait()
		if alive() {
			t.Error("Alive while a hook blocks the loop = true, want false")
		}
		close(hooks.release)
		synctest.Wait()
		if !alive() {
			t.Error("Alive while running = false, want true")
		}
		cancel()
		<-done
		if alive() {
			t.Error("Alive after Run returned = true, want false")
		}
	})
}
