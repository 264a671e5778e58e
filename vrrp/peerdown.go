package vrrp

import "net/netip"

// maxPeerDowns bounds the PeerDown calls queued for the Run loop.
const maxPeerDowns = 16

// PeerDown tells the Router that peer is known to be dead, typically because
// a BFD session to it went Down. A backup whose current master is peer
// treats it as Master_Down (RFC 5798 §6.4.2) but still waits its Skew_Time,
// so that several backups take over in priority order, and an advert from
// peer within that time cancels the takeover as usual. Any other state, or
// a peer that is not the current master, is left alone. It never blocks
// and may be called from any goroutine.
func (r *Router) PeerDown(peer netip.Addr) {
	r.mu.Lock()
	if len(r.peerDowns) >= maxPeerDowns {
		r.peerDowns = r.peerDowns[1:]
	}
	r.peerDowns = append(r.peerDowns, peer.Unmap())
	r.mu.Unlock()
	r.poke()
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
	for _, p := range downs {
		if p == master {
			skew := skewTime(r.effPrio, r.masterAdverInterval, r.cfg.Version)
			r.log.Info("master peer down, taking over after skew time", "peer", p, "skew", skew)
			r.resetTimer(skew)
			return
		}
	}
}
