package vrrp_test

import (
	"context"
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
	var w io.Writer = io.Discard
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
