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
//
// Unlike keepalived, a member does not wait for every other member to be
// ready before going Master, so priorities must be consistent inside a
// group (the same winner node for every member); otherwise the members of
// two nodes can take the masterships from each other in turn.
type SyncGroup struct {
	name    string
	members []*Router

	mu    sync.Mutex
	fault map[*Router]bool // members with their own track fault
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
	g := &SyncGroup{name: name, fault: make(map[*Router]bool)}
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

// transition is called by member r's goroutine after it changed state.
func (g *SyncGroup) transition(r *Router, from, to State) {
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
