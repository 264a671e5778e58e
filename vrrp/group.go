package vrrp

import (
	"errors"
	"fmt"
	"sync"
)

// SyncGroup makes VRRP instances change state together (keepalived
// vrrp_sync_group), e.g. the outside and inside VIPs of a router, so that
// one node is master of all of them.
//
// Semantics (a subset of keepalived's, applied by each member's own Run
// goroutine, so a follower's transition happens shortly after the leader's):
//   - Fault: while any member has a track fault, every member is in Fault
//     (reason "sync group G member X fault"); a master resigns with a
//     priority 0 advert. When no member has a track fault any more, every
//     member returns to Backup (or Master if it is the address owner) and
//     the normal election follows.
//   - Master: when a member becomes Master (from Backup or at start), every
//     member in Backup becomes Master at once, without waiting for its own
//     Master_Down_Timer (reason "sync group G: X became master").
//   - Backup: when a member goes from Master to Backup (it heard a better
//     master), every member in Master goes to Backup (reason "sync group G:
//     X left master") and arms its Master_Down_Timer.
//   - Stop (Initialize) and members in Fault or Initialize are not followed.
//   - No thrashing: a Backup member whose Master_Down_Timer fires stays
//     Backup (and re-arms the timer) while another member defers to a live
//     master (it heard one it does not preempt, and no priority 0 since),
//     like keepalived's vrrp_sync_can_goto_master ("prefer backup state to
//     avoid thrashing"). Without it, priorities that are not consistent
//     inside the group (e.g. a weighted track on one member) made the
//     members of two nodes take the masterships from each other in turn,
//     forever; with it the group stays where it is.
type SyncGroup struct {
	name    string
	members []*Router

	mu        sync.Mutex
	fault     map[*Router]bool // members with their own track fault
	deferring map[*Router]bool // Backup members deferring to a live master
}

// groupCmd asks a member to follow another member's transition.
type groupCmd struct {
	to     State
	reason string
}

// NewSyncGroup joins routers into the group name. It must be called before
// any of them runs, and a router can be in one group only.
func NewSyncGroup(name string, routers ...*Router) (*SyncGroup, error) {
	if len(routers) == 0 {
		return nil, fmt.Errorf("vrrp: sync group %q: no members", name)
	}
	g := &SyncGroup{name: name, fault: make(map[*Router]bool), deferring: make(map[*Router]bool)}
	for _, r := range routers {
		if r == nil {
			return nil, fmt.Errorf("vrrp: sync group %q: nil router", name)
		}
		if r.running.Load() {
			return nil, fmt.Errorf("vrrp: sync group %q: router %q: %w", name, r.cfg.Name, errGroupRunning)
		}
		if r.group.Load() != nil {
			return nil, fmt.Errorf("vrrp: sync group %q: router %q is already in a group", name, r.cfg.Name)
		}
	}
	for _, r := range routers {
		r.group.Store(g)
	}
	g.members = routers
	return g, nil
}

var errGroupRunning = errors.New("already running")

// Name returns the group's name.
func (g *SyncGroup) Name() string { return g.name }

// setFault records r's own fault and wakes the other members when it
// changes.
func (g *SyncGroup) setFault(r *Router, fault bool) {
	g.mu.Lock()
	changed := g.fault[r] != fault
	g.fault[r] = fault
	g.mu.Unlock()
	if !changed {
		return
	}
	for _, m := range g.members {
		if m != r {
			m.poke()
		}
	}
}

// faultedMember returns the name of a member other than r with a track
// fault.
func (g *SyncGroup) faultedMember(r *Router) (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, m := range g.members {
		if m != r && g.fault[m] {
			return m.cfg.Name, true
		}
	}
	return "", false
}

// setDeferring records whether member r (in Backup) defers to a live
// master.
func (g *SyncGroup) setDeferring(r *Router, d bool) {
	g.mu.Lock()
	g.deferring[r] = d
	g.mu.Unlock()
}

// deferringMember returns the name of a member other than r that defers to
// a live master.
func (g *SyncGroup) deferringMember(r *Router) (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, m := range g.members {
		if m != r && g.deferring[m] {
			return m.cfg.Name, true
		}
	}
	return "", false
}

// transition is called by member r's goroutine after it changed state.
func (g *SyncGroup) transition(r *Router, from, to State) {
	g.setDeferring(r, false)
	var c groupCmd
	switch {
	case to == Master:
		c = groupCmd{to: Master, reason: "sync group " + g.name + ": " + r.cfg.Name + " became master"}
	case from == Master && to == Backup:
		c = groupCmd{to: Backup, reason: "sync group " + g.name + ": " + r.cfg.Name + " left master"}
	default:
		return
	}
	for _, m := range g.members {
		if m != r {
			m.post(c)
		}
	}
}
