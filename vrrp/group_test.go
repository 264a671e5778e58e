package vrrp_test

import (
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/vrrp"
)

// groupCfgs returns the configs of sync group members x (VRID 51) and y
// (VRID 52) of a node.
func groupCfgs(node string, src netip.Addr, prioX, prioY uint8, peers ...netip.Addr) (x, y vrrp.Config) {
	x = cfg(node+"-x", src, prioX, peers...)
	y = cfg(node+"-y", src, prioY, peers...)
	y.VRID = 52
	y.VIPs = []netip.Addr{vip2}
	return x, y
}

// groupStates returns the state of every router of the nodes by name.
func groupStates(nodes ...*node) map[string]string {
	m := make(map[string]string)
	for _, n := range nodes {
		for _, r := range n.routers {
			m[r.Config().Name] = r.Status().State.String()
		}
	}
	return m
}

func wantGroupStates(t *testing.T, when string, want map[string]string, nodes ...*node) {
	t.Helper()
	if diff := cmp.Diff(want, groupStates(nodes...)); diff != "" {
		t.Fatalf("%s: states (-want +got):\n%s", when, diff)
	}
}

func TestSyncGroupFollowsMaster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		// Alone: x (200) declares the master down at 3.21875s, y (100) would
		// at 3.609375s but follows x.
		a := h.run(groupCfgs("a", addrA, 200, 100, addrB))
		h.advance(3218 * time.Millisecond)
		wantGroupStates(t, "before x's Master_Down_Interval", map[string]string{"a-x": "BACKUP", "a-y": "BACKUP"}, a)
		h.advance(time.Millisecond)
		wantGroupStates(t, "x master", map[string]string{"a-x": "MASTER", "a-y": "MASTER"}, a)
		if got := a.hooks[1].last(); got.Reason != "sync group G: a-x became master" || got.At != a.hooks[0].last().At {
			t.Errorf("y's transition = %+v, want sync group G: a-x became master at x's time", got)
		}
		if got := a.routers[1].Status().SyncGroup; got != "G" {
			t.Errorf("SyncGroup = %q, want G", got)
		}
	})
}

func TestSyncGroupFollowsBackup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a := h.run(groupCfgs("a", addrA, 200, 200, addrB))
		h.advance(5 * time.Second)
		wantGroupStates(t, "alone", map[string]string{"a-x": "MASTER", "a-y": "MASTER"}, a)
		// Only x hears a better master; y follows x to BACKUP.
		a.routers[0].Deliver(vrrp.Packet{
			Advert: vrrp.Advert{Version: 3, VRID: 51, Priority: 250, AdvertInterval: time.Second, Addrs: []netip.Addr{vip}},
			Src:    addrB, Dst: addrA, TTL: 255, IfIndex: 1,
		})
		synctest.Wait()
		wantGroupStates(t, "x heard a better master", map[string]string{"a-x": "BACKUP", "a-y": "BACKUP"}, a)
		if got := a.hooks[1].last().Reason; got != "sync group G: a-x left master" {
			t.Errorf("y's reason = %q", got)
		}
		// Both members yield out loud (own priority, then 0), so a peer
		// that is master of y after a split brain re-announces y's VIPs.
		at := a.hooks[0].last().At
		got := map[uint8][]uint8{}
		for _, s := range a.conn.Sent() {
			if s.At.Equal(at) {
				got[s.Advert.VRID] = append(got[s.Advert.VRID], s.Advert.Priority)
			}
		}
		if diff := cmp.Diff(map[uint8][]uint8{51: {200, 0}, 52: {200, 0}}, got); diff != "" {
			t.Errorf("adverts at the yield by VRID (-want +got):\n%s", diff)
		}
	})
}

func TestSyncGroupFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a := h.run(groupCfgs("a", addrA, 200, 200, addrB))
		b := h.run(groupCfgs("b", addrB, 150, 100, addrA))
		h.advance(5 * time.Second)
		all := func(sa, sb string) map[string]string {
			return map[string]string{"a-x": sa, "a-y": sa, "b-x": sb, "b-y": sb}
		}
		wantGroupStates(t, "elected", all("MASTER", "BACKUP"), a, b)

		// One member faults: the whole group faults and resigns; b-x takes
		// over after its Skew_Time (414ms) and b-y follows at once, before
		// its own Skew_Time (609ms).
		a.routers[0].SetTrack("eth1", 0, true)
		synctest.Wait()
		wantGroupStates(t, "a-x fault", all("FAULT", "BACKUP"), a, b)
		if got := a.hooks[1].last().Reason; got != "sync group G member a-x fault" {
			t.Errorf("a-y's reason = %q", got)
		}
		h.advance(415 * time.Millisecond)
		wantGroupStates(t, "after b-x's Skew_Time", all("FAULT", "MASTER"), a, b)
		if got := b.hooks[1].last().Reason; got != "sync group G: b-x became master" {
			t.Errorf("b-y's reason = %q", got)
		}

		// A second member's own fault keeps the group in FAULT after the
		// first clears.
		a.routers[1].SetTrack("chk", 0, true)
		a.routers[0].SetTrack("eth1", 0, false)
		h.advance(5 * time.Second)
		wantGroupStates(t, "a-y still faulted", all("FAULT", "MASTER"), a, b)

		// All clear: a's members return to BACKUP and preempt together.
		a.routers[1].SetTrack("chk", 0, false)
		synctest.Wait()
		wantGroupStates(t, "faults cleared", all("BACKUP", "MASTER"), a, b)
		h.advance(5 * time.Second)
		wantGroupStates(t, "a preempted", all("MASTER", "BACKUP"), a, b)
	})
}

func TestNewSyncGroupErrors(t *testing.T) {
	h := newHarnessNoBubble(t)
	conn, err := h.net.NewConn(addrA, 1)
	if err != nil {
		t.Fatal(err)
	}
	cx, cy := groupCfgs("a", addrA, 100, 100, addrB)
	x, err := vrrp.NewRouter(cx, conn, nil, nil, h.log, h.clk)
	if err != nil {
		t.Fatal(err)
	}
	y, err := vrrp.NewRouter(cy, conn, nil, nil, h.log, h.clk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vrrp.NewSyncGroup("empty"); err == nil {
		t.Error("empty group: no error")
	}
	if _, err := vrrp.NewSyncGroup("nil", x, nil); err == nil {
		t.Error("nil member: no error")
	}
	if _, err := vrrp.NewSyncGroup("G", x, y); err != nil {
		t.Fatalf("NewSyncGroup: %v", err)
	}
	if _, err := vrrp.NewSyncGroup("H", y); err == nil {
		t.Error("router in two groups: no error")
	}

	// A router that already runs cannot join.
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		n := h.run(cfg("c", addrC, 100, addrB))
		if _, err := vrrp.NewSyncGroup("late", n.r()); err == nil {
			t.Error("running router joined a group")
		}
	})
}
