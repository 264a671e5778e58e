package vrrp

import (
	"net/netip"
	"time"
)

// maxPeerDowns bounds the PeerDown calls queued for the Run loop.
const maxPeerDowns = 16

// PeerDown tells the Router that peer is known to be dead, typically because
// a BFD session to it went Down. A backup whose current master is peer
// treats it as Master_Down (RFC 5798 §6.4.2) but still waits a Skew_Time,
// so that several backups take over in priority order, and an advert from
// peer within that time cancels the takeover as usual. Any other state, or
// a peer that is not the current master, is left alone. It never blocks
// and may be called from any goroutine.
//
// The Skew_Time is (256 - Priority) × skewBase / 256; skewBase ≤ 0 means
// Master_Adver_Interval, as RFC 5798 §6.1 has it (e.g. 414 ms at priority
// 150 with 1 s adverts). A base on the BFD time scale (e.g. the BFD
// interval) makes the takeover nearly as fast as the BFD detection, but
// the order among several backups then holds only if their BFD sessions
// detect the death within the skew difference of one another; otherwise
// a lower backup may take over first and yield to the higher one when it
// hears its advert.
func (r *Router) PeerDown(peer netip.Addr, skewBase time.Duration) {
	r.mu.Lock()
	if len(r.peerDowns) >= maxPeerDowns {
		r.peerDowns = r.peerDowns[1:]
	}
	r.peerDowns = append(r.peerDowns, peerDown{peer.Unmap(), skewBase})
	r.mu.Unlock()
	r.poke()
}

// peerDown is one PeerDown call.
type peerDown struct {
	peer     netip.Addr
	skewBase time.Duration
}

// applyPeerDowns arms Master_Down_Timer to Skew_Time if a queued PeerDown
// names the master a backup hears. Run goroutine only.
func (r *Router) applyPeerDowns() {
	r.mu.Lock()
	downs := r.peerDowns
	r.peerDowns = nil
	master := r.st.Master
	r.mu.Unlock()
	if r.state != Backup || !master.IsValid() {
		return
	}
	for _, d := range downs {
		if d.peer != master {
			continue
		}
		skew := skewTime(r.effPrio, r.masterAdverInterval, r.cfg.Version)
		if d.skewBase > 0 {
			skew = skewTime(r.effPrio, d.skewBase, 3)
		}
		r.log.Info("master peer down, taking over after skew time", "peer", d.peer, "skew", skew)
		r.resetTimer(skew)
		return
	}
}
