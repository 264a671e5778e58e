package vrrp_test

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestSyncGroupNoThrashOnInconsistentPriorities: a's members (200, 200) are
// master over b's (150, 150) until a weighted track drops only a-x to 100.
// b-x then wants to preempt, but b-y still defers to a-y (200). Going
// master with b-x anyway (and b-y following) made a-y preempt back (and
// a-x follow), and so on every Master_Down_Interval, forever. As keepalived
// does (vrrp_sync_can_goto_master: "prefer backup state to avoid
// thrashing"), b-x must stay backup while a member of its group defers to a
// live master: the groups stay where they are.
func TestSyncGroupNoThrashOnInconsistentPriorities(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a := h.run(groupCfgs("a", addrA, 200, 200, addrB))
		b := h.run(groupCfgs("b", addrB, 150, 150, addrA))
		h.advance(5 * time.Second)
		all := map[string]string{"a-x": "MASTER", "a-y": "MASTER", "b-x": "BACKUP", "b-y": "BACKUP"}
		wantGroupStates(t, "elected", all, a, b)
		before := len(b.hooks[0].path()) + len(b.hooks[1].path()) + len(a.hooks[0].path()) + len(a.hooks[1].path())

		a.routers[0].SetTrack("chk", -100, false)
		h.advance(20 * time.Second)
		wantGroupStates(t, "20s after a-x dropped to 100", all, a, b)
		after := len(b.hooks[0].path()) + len(b.hooks[1].path()) + len(a.hooks[0].path()) + len(a.hooks[1].path())
		if after != before {
			t.Errorf("%d transitions in 20s, want none:\na-x %v\na-y %v\nb-x %v\nb-y %v", after-before,
				a.hooks[0].path(), a.hooks[1].path(), b.hooks[0].path(), b.hooks[1].path())
		}

		// When the master node dies, b takes over as a group.
		h.stop(a)
		h.advance(5 * time.Second)
		wantGroupStates(t, "a stopped", map[string]string{"b-x": "MASTER", "b-y": "MASTER"}, b)
	})
}
