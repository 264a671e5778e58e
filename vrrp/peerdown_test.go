package vrrp_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// After PeerDown (a BFD session to the master went Down) a backup takes
// over in Skew_Time, not in Master_Down_Interval = 3 × advert + skew, and
// several backups stay ordered by priority.
func TestPeerDownTakesOverAfterSkewTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a := h.run(cfg("a", addrA, 200, addrB, addrC))
		b := h.run(cfg("b", addrB, 150, addrA, addrC))
		c := h.run(cfg("c", addrC, 100, addrA, addrB))
		h.advance(5 * time.Second)
		h.wantStates("elected", map[string]string{"a": "MASTER", "b": "BACKUP", "c": "BACKUP"})

		// a dies 1ms after its next advert; BFD tells both backups at once,
		// when their Master_Down_Timer still has ~3.4s to run.
		h.advanceTo(a.lastSent().At.Add(time.Second + time.Millisecond))
		h.net.Drop(addrA)
		down := h.clk.Now()
		b.r().PeerDown(addrA, 0)
		c.r().PeerDown(addrA, 0)
		synctest.Wait()
		// Skew_Time(150, 1s) = 414.0625ms; Skew_Time(100, 1s) = 609.375ms.
		h.advanceTo(down.Add(414 * time.Millisecond))
		h.wantStates("just before b's Skew_Time", map[string]string{"a": "MASTER", "b": "BACKUP", "c": "BACKUP"})
		h.advance(time.Millisecond)
		h.wantStates("after b's Skew_Time", map[string]string{"a": "MASTER", "b": "MASTER", "c": "BACKUP"})
		if got, want := b.hooks[0].last().At, down.Add(414062500); !got.Equal(want) {
			t.Errorf("b became master at %v, want %v (Skew_Time after PeerDown)", got.Sub(down), want.Sub(down))
		}
		// c heard b's first advert before its own Skew_Time: it stays backup.
		h.advance(5 * time.Second)
		h.wantStates("5s later", map[string]string{"a": "MASTER", "b": "MASTER", "c": "BACKUP"})
		if got := c.r().Status().Master; got != addrB {
			t.Errorf("c hears master %v, want %v", got, addrB)
		}
		if diff := cmp.Diff([]string{"INIT", "BACKUP"}, c.hooks[0].path()); diff != "" {
			t.Errorf("c's states (-want +got):\n%s", diff)
		}
	})
}

// PeerDown of a router that is not the current master, or on the master
// itself, changes nothing; an advert from the master within Skew_Time
// cancels the takeover.
func TestPeerDownIgnoredUnlessMaster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a := h.run(cfg("a", addrA, 200, addrB, addrC))
		b := h.run(cfg("b", addrB, 150, addrA, addrC))
		c := h.run(cfg("c", addrC, 100, addrA, addrB))
		h.advance(5 * time.Second)
		h.wantStates("elected", map[string]string{"a": "MASTER", "b": "BACKUP", "c": "BACKUP"})

		b.r().PeerDown(addrC, 0) // another backup
		a.r().PeerDown(addrB, 0) // the master hears of a backup
		c.r().PeerDown(addrX, 0) // a stranger
		synctest.Wait()
		// a keeps advertising, so nothing changes however long we wait.
		h.advance(10 * time.Second)
		h.wantStates("after PeerDown of non-masters", map[string]string{"a": "MASTER", "b": "BACKUP", "c": "BACKUP"})

		// A false PeerDown of a live master: a's next advert comes 100ms
		// later, within b's Skew_Time (414ms), and re-arms b's
		// Master_Down_Timer.
		next := a.lastSent().At.Add(time.Second)
		h.advanceTo(next.Add(-100 * time.Millisecond))
		b.r().PeerDown(addrA, 0)
		synctest.Wait()
		h.advance(2 * time.Second)
		h.wantStates("after a false PeerDown", map[string]string{"a": "MASTER", "b": "BACKUP", "c": "BACKUP"})

		// With a dead, without PeerDown, b waits Master_Down_Interval.
		h.net.Drop(addrA)
		heard := a.lastSent().At
		h.advanceTo(heard.Add(3414 * time.Millisecond))
		h.wantStates("before Master_Down_Interval", map[string]string{"a": "MASTER", "b": "BACKUP", "c": "BACKUP"})
		h.advance(time.Millisecond)
		h.wantStates("after Master_Down_Interval", map[string]string{"a": "MASTER", "b": "MASTER", "c": "BACKUP"})
	})
}

// With a skew base on the BFD time scale the takeover follows PeerDown
// within (256 - Priority) × base / 256.
func TestPeerDownSkewBase(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		a, b := h.electA(unicastPair(200, 150))
		h.advanceTo(a.lastSent().At.Add(time.Second + time.Millisecond))
		h.net.Drop(addrA)
		down := h.clk.Now()
		b.r().PeerDown(addrA, 50*time.Millisecond)
		synctest.Wait()
		// (256 - 150) × 50ms / 256 = 20.703125ms.
		h.advanceTo(down.Add(20 * time.Millisecond))
		h.wantStates("before the skew", map[string]string{"a": "MASTER", "b": "BACKUP"})
		h.advance(time.Millisecond)
		h.wantStates("after the skew", map[string]string{"a": "MASTER", "b": "MASTER"})
		if got, want := b.hooks[0].last().At, down.Add(20703125); !got.Equal(want) {
			t.Errorf("b became master %v after PeerDown, want %v", got.Sub(down), want.Sub(down))
		}
	})
}
