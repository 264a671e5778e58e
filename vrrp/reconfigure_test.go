package vrrp_test

import (
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipd/vipd/vrrp"
)

// TestReconfigurePriorityPreempts: raising a backup's priority above the
// master's takes effect from the next advert it receives: it no longer
// accepts the master's adverts and preempts when Master_Down_Interval runs
// out (RFC 5798 §6.4.2), and a
// reconfigured master advertises its new values at once, without a
// transition of its own.
func TestReconfigurePriorityPreempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a, b := h.electA(unicastPair(150, 100))
		before := len(a.hooks[0].path())

		// The master's advert interval changes: one advert at once, then
		// every 2 s, with no transition.
		ca := a.r().Config()
		ca.AdvertInterval = 2 * time.Second
		if err := a.r().Reconfigure(ca); err != nil {
			t.Fatal(err)
		}
		h.advance(time.Millisecond)
		sent := a.lastSent()
		if sent.Advert.AdvertInterval != 2*time.Second {
			t.Fatalf("advert after reconfigure carries interval %v, want 2s", sent.Advert.AdvertInterval)
		}
		h.advance(1900 * time.Millisecond)
		if !a.lastSent().At.Equal(sent.At) {
			t.Fatal("master advertised before its new 2 s interval")
		}
		h.advance(200 * time.Millisecond)
		if a.lastSent().At.Equal(sent.At) {
			t.Fatal("master did not advertise at its new 2 s interval")
		}
		if got := len(a.hooks[0].path()); got != before {
			t.Fatalf("reconfigure caused a transition of the master: %v", a.hooks[0].path())
		}

		cb := b.r().Config()
		cb.Priority = 200
		if err := b.r().Reconfigure(cb); err != nil {
			t.Fatal(err)
		}
		// b no longer accepts a's adverts; its Master_Down_Timer was last
		// reset by one it accepted at priority 100, to 3 × 2 s + (256-100) ×
		// 2 s / 256 = 7.22 s.
		h.advance(7300 * time.Millisecond)
		h.wantStates("after b's priority rose", map[string]string{"a": "BACKUP", "b": "MASTER"})
		if st := b.r().Status(); st.Priority != 200 || st.EffectivePriority != 200 {
			t.Errorf("b's status priority %d/%d, want 200", st.Priority, st.EffectivePriority)
		}
	})
}

func TestReconfigureRefusesIdentityChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a := h.run(cfg("a", addrA, 100, addrB))
		for _, edit := range []func(*vrrp.Config){
			func(c *vrrp.Config) { c.VRID = 52 },
			func(c *vrrp.Config) { c.Version = 2 },
			func(c *vrrp.Config) { c.IfIndex++ },
			func(c *vrrp.Config) { c.Priority = 0 },
		} {
			c := a.r().Config()
			edit(&c)
			if err := a.r().Reconfigure(c); err == nil {
				t.Errorf("Reconfigure(%+v) succeeded", c)
			}
		}
	})
}

// TestDeliverDropsStrangersBeforeQueueing: a flood from a stranger (more
// packets than the inbox holds, delivered faster than the router runs) is
// counted as not_peer and never fills the inbox, so the peer's adverts that
// follow are still received.
func TestDeliverDropsStrangersBeforeQueueing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a, _ := h.electA(unicastPair(200, 100))
		r := a.r()
		before := r.Status().Drops["not_peer"]
		for range 1000 {
			r.Deliver(vrrp.Packet{Src: addrX, Dst: addrA, TTL: 255, Advert: vrrp.Advert{Version: 3, VRID: 51, Priority: 254, AdvertInterval: time.Second, Addrs: []netip.Addr{vip}}})
		}
		synctest.Wait() // the router has handled what it queued
		st := r.Status()
		if got := st.Drops["not_peer"] - before; got != 1000 {
			t.Errorf("not_peer drops = %d, want 1000", got)
		}
		if st.QueueFull != 0 {
			t.Errorf("%d packets dropped for a full inbox: the flood was queued", st.QueueFull)
		}
		h.advance(2 * time.Second)
		h.wantStates("after the flood", map[string]string{"a": "MASTER", "b": "BACKUP"})
	})
}
