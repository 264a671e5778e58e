package vrrp

import (
	"fmt"
	"slices"
)

// Reconfigure replaces the configuration of a running (or not yet running)
// Router with cfg, as a live reload does. Priority, AdvertInterval,
// Preempt, PreemptDelay, AcceptMode, Src, Peers, VIPs and AuthPass may
// change; Name, VRID, Version and IfIndex may not (that is another
// instance). It never blocks: the Run goroutine applies the change on its
// next wake, without a transition: a master sends an advert with the new
// values at once and then every new AdvertInterval; a backup uses them from
// the next advert it receives or sends. Tracks keep their state.
func (r *Router) Reconfigure(cfg Config) error {
	r.mu.Lock()
	cur := r.cfg
	r.mu.Unlock()
	if cfg.Name != cur.Name || cfg.VRID != cur.VRID || cfg.Version != cur.Version || cfg.IfIndex != cur.IfIndex {
		return fmt.Errorf("vrrp: reconfigure %q: name, vrid, version and interface cannot change", cur.Name)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("vrrp: reconfigure %q: %w", cur.Name, err)
	}
	cfg.Src = cfg.Src.Unmap()
	cfg.Peers = slices.Clone(cfg.Peers)
	for i, p := range cfg.Peers {
		cfg.Peers[i] = p.Unmap()
	}
	r.mu.Lock()
	r.pending = &cfg
	r.mu.Unlock()
	r.poke()
	return nil
}

// applyPending applies a configuration given to Reconfigure; it reports
// whether there was one. Run goroutine only.
func (r *Router) applyPending() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.pending
	if c == nil {
		return false
	}
	r.pending = nil
	r.cfg = *c
	r.vips = sortedAddrs(c.VIPs)
	r.authType, r.authData = 0, [8]byte{}
	if c.Version == 2 && c.AuthPass != "" {
		r.authType = AuthTypeSimple
		r.authData = AuthPassword(c.AuthPass)
	}
	r.filter.Store(newDeliverFilter(*c, r.authType, r.authData))
	r.st.Priority = c.Priority
	r.mismatchLogged = ""
	if r.state == Master {
		r.masterAdverInterval = c.AdvertInterval
	}
	return true
}
