package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// State is the state of a VRRP instance (RFC 5798 §6.4), plus Fault
// (keepalived): a tracked interface or script failed, so the instance
// neither advertises nor takes part in the election.
type State int

// States of a Router.
const (
	Initialize State = iota // §6.4.1: not running (before Run, after stop)
	Backup                  // §6.4.2
	Master                  // §6.4.3
	Fault                   // a track reported a fault
)

// String returns INIT, BACKUP, MASTER or FAULT, the names keepalived and
// `vipd status` use.
func (s State) String() string {
	switch s {
	case Initialize:
		return "INIT"
	case Backup:
		return "BACKUP"
	case Master:
		return "MASTER"
	case Fault:
		return "FAULT"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Transition is one state change of a Router.
type Transition struct {
	Name     string // Config.Name of the instance
	VRID     uint8
	From, To State
	// Reason is a short human-readable cause, e.g. "master down timer
	// expired", "stop", "track chk_nginx fault".
	Reason string
	At     time.Time // Clock time of the change
	// Priority is the effective priority at the change.
	Priority uint8
}

// PeerReason says why a Router called Hooks.PeerMaster.
type PeerReason int

// Reasons for PeerMaster.
const (
	// PeerLower: an advert from a router that thinks it is master but
	// loses the election to us (lower priority, or equal priority and a
	// smaller address): a dual master, e.g. while a partition heals.
	PeerLower PeerReason = iota + 1
	// PeerResigned: a priority-0 advert from another router, which just
	// stopped or yielded to us (after a split brain the yielding side had
	// announced the VIPs; RFC 5798 §6.4.3 answers with an advert at once).
	PeerResigned
)

// String returns "lower_priority" or "resigned".
func (r PeerReason) String() string {
	switch r {
	case PeerLower:
		return "lower_priority"
	case PeerResigned:
		return "resigned"
	}
	return fmt.Sprintf("PeerReason(%d)", int(r))
}

// PeerInfo describes another master heard while we are master (a dual
// master, e.g. after a partition heals).
type PeerInfo struct {
	Name     string // Config.Name of the instance that heard it
	VRID     uint8
	Addr     netip.Addr // the other master's source address
	Priority uint8      // its advertised priority (≤ ours; 0 for PeerResigned)
	Reason   PeerReason
	At       time.Time
}

// Hooks is how a Router reports to its consumer (the agent). Methods are
// called from the Router's goroutine, one at a time and never concurrently
// for one Router, and must not block: hand work (VIP acquire/release, GARP,
// notify scripts) to another goroutine.
type Hooks interface {
	// Transition is called after every state change, exactly once per
	// change. The agent acquires the VIPs on To == Master and releases them
	// when leaving Master (To == Backup, Fault, or Initialize on stop).
	Transition(t Transition)
	// PeerMaster is called while we are master when an advert arrives from
	// a router that still thinks it is master but loses the election to us
	// (PeerLower), or a priority-0 advert (PeerResigned: the other side
	// stopped or yielded after a split brain). We have already re-sent our
	// advert; the agent should re-announce the VIPs (GARP/NA) since the
	// peer may have announced them too and neighbours may still point at it.
	PeerMaster(p PeerInfo)
}

// NopHooks ignores every call.
type NopHooks struct{}

// Transition does nothing.
func (NopHooks) Transition(Transition) {}

// PeerMaster does nothing.
func (NopHooks) PeerMaster(PeerInfo) {}

// TrackStatus is the last SetTrack of one track.
type TrackStatus struct {
	Name  string
	Delta int  // priority adjustment while in this state
	Fault bool // the track puts the instance in Fault
}

// RouterStatus is a snapshot of a Router for `vipd status` and metrics.
type RouterStatus struct {
	Name              string
	VRID              uint8
	Version           uint8
	State             State
	Priority          uint8 // Config.Priority
	EffectivePriority uint8 // Priority adjusted by tracks
	// Master is the address of the master we hear (ours while master);
	// invalid when none is known.
	Master netip.Addr
	Since  time.Time // time of the last transition
	Reason string    // reason of the last transition
	// HigherMasterAt is when we last heard an advert from a master that wins
	// against our effective priority (higher, or equal with a greater
	// address); zero if never.
	HigherMasterAt time.Time
	SyncGroup      string
	Tracks         []TrackStatus // sorted by name
	// QueueFull counts packets Deliver dropped because the inbox was full
	// (also counted in Drops under DropQueueFull).
	QueueFull int64
	Drops     map[string]int64 // Counters.Snapshot
}

// inboxSize is the number of received packets a Router buffers. A healthy
// instance receives one advert per interval per peer, so a full inbox means
// the router goroutine is stuck or flooded.
const inboxSize = 16

// Router is one VRRP instance: the state machine of RFC 5798 §6.4 (and RFC
// 3768 for v2). Run drives it from a single goroutine; Deliver, SetTrack and
// Status may be called from any goroutine.
type Router struct {
	cfg      Config
	conn     Conn
	hooks    Hooks
	counters *Counters
	log      *slog.Logger
	clk      Clock

	authType uint8
	authData [8]byte
	vips     []netip.Addr // sorted, unmapped, to compare address lists

	inbox     chan Packet
	filter    atomic.Pointer[deliverFilter] // Deliver's pre-checks, replaced on Reconfigure
	wake      chan struct{}                 // cap 1: tracks or group commands changed
	ping      chan chan struct{}            // Alive's probes, answered by the Run loop
	running   atomic.Bool
	queueFull atomic.Int64
	group     atomic.Pointer[SyncGroup]

	mu        sync.Mutex // guards tracks, groupCmds, pending, peerDowns, st, and writes of cfg
	tracks    map[string]TrackStatus
	groupCmds []groupCmd
	pending   *Config    // given to Reconfigure, not yet applied
	peerDowns []peerDown // PeerDown calls not yet applied (peerdown.go)
	st        RouterStatus

	// Owned by the Run goroutine.
	state               State
	effPrio             uint8
	ownFault            bool
	masterAdverInterval time.Duration
	timer               Timer
	preemptUntil        time.Time // zero: the preempt delay is not armed
	faultReason         string
	mismatchLogged      string                   // last address list mismatch logged
	dropLogged          map[DropReason]time.Time // when each drop reason was last logged
}

// dropLogInterval bounds drop logging: each reason is logged at most once
// per interval, so strangers cannot flood the log (Counters count every
// packet).
const dropLogInterval = time.Minute

// NewRouter returns a Router for cfg that sends through conn. hooks may be
// nil (NopHooks); counters may be shared between routers and may be nil;
// clk nil means RealClock. The caller (the Mux) feeds received packets to
// Deliver; the Router never calls conn.Recv, nor JoinGroup.
func NewRouter(cfg Config, conn Conn, hooks Hooks, counters *Counters, log *slog.Logger, clk Clock) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("vrrp: new router %q: %w", cfg.Name, err)
	}
	if conn == nil {
		return nil, fmt.Errorf("vrrp: new router %q: nil conn", cfg.Name)
	}
	if log == nil {
		return nil, fmt.Errorf("vrrp: new router %q: nil logger", cfg.Name)
	}
	if hooks == nil {
		hooks = NopHooks{}
	}
	if counters == nil {
		counters = new(Counters)
	}
	if clk == nil {
		clk = RealClock()
	}
	cfg.Src = cfg.Src.Unmap()
	cfg.Peers = slices.Clone(cfg.Peers)
	for i, p := range cfg.Peers {
		cfg.Peers[i] = p.Unmap()
	}
	r := &Router{
		cfg:      cfg,
		conn:     conn,
		hooks:    hooks,
		counters: counters,
		log:      log.With("vrid", int(cfg.VRID)),
		clk:      clk,
		vips:     sortedAddrs(cfg.VIPs),
		inbox:    make(chan Packet, inboxSize),
		wake:     make(chan struct{}, 1),
		ping:     make(chan chan struct{}),
		tracks:   make(map[string]TrackStatus),
		state:    Initialize,
		effPrio:  cfg.Priority,
	}
	if cfg.Version == 2 && cfg.AuthPass != "" {
		r.authType = AuthTypeSimple
		r.authData = AuthPassword(cfg.AuthPass)
	}
	r.filter.Store(newDeliverFilter(cfg, r.authType, r.authData))
	r.st = RouterStatus{
		Name:              cfg.Name,
		VRID:              cfg.VRID,
		Version:           cfg.Version,
		State:             Initialize,
		Priority:          cfg.Priority,
		EffectivePriority: cfg.Priority,
	}
	return r, nil
}

// Config returns the Router's configuration (the last one applied).
func (r *Router) Config() Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cfg
}

// Deliver hands a received packet to the Router. It never blocks: when the
// inbox is full the packet is dropped and counted (DropQueueFull and
// RouterStatus.QueueFull). Packets delivered before Run starts are kept up
// to the inbox size.
func (r *Router) Deliver(p Packet) {
	// A flood of packets that cannot be ours (a stranger, a wrong version
	// or password) must not fill the inbox and push out a real advert: once
	// the inbox is half full they are counted here, before queueing, with
	// the reasons accept gives (below that, accept counts and logs them).
	if len(r.inbox) >= cap(r.inbox)/2 {
		if reason, ok := r.filter.Load().drop(p); ok {
			r.counters.Inc(reason)
			return
		}
	}
	select {
	case r.inbox <- p:
	default:
		r.queueFull.Add(1)
		r.counters.Inc(DropQueueFull)
	}
}

// SetTrack records the state of one track_script / track_interface (keepalived
// semantics): delta is added to the base priority (the effective priority
// is clamped to 1..254, and a base of 255 is never changed); fault puts the
// instance in Fault until every track's fault has cleared. Calling it again
// with the same name replaces the previous value. It never blocks.
func (r *Router) SetTrack(name string, delta int, fault bool) {
	r.mu.Lock()
	r.tracks[name] = TrackStatus{Name: name, Delta: delta, Fault: fault}
	r.mu.Unlock()
	r.poke()
}

// Status returns a snapshot of the Router.
func (r *Router) Status() RouterStatus {
	r.mu.Lock()
	st := r.st
	st.Tracks = make([]TrackStatus, 0, len(r.tracks))
	for _, t := range r.tracks {
		st.Tracks = append(st.Tracks, t)
	}
	r.mu.Unlock()
	slices.SortFunc(st.Tracks, func(a, b TrackStatus) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	if g := r.group.Load(); g != nil {
		st.SyncGroup = g.name
	}
	st.QueueFull = r.queueFull.Load()
	st.Drops = r.counters.Snapshot()
	return st
}

// poke wakes the Run loop without blocking.
func (r *Router) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run runs the state machine until ctx is done, then stops (see stop) and
// returns nil. It returns an error only if the Router is already running or
// has run before. If ctx is already done, Run returns nil at once, with no
// transition.
//
// Stop ("make-before-break"): a master sends one advert with priority 0
// (RFC 5798 §6.4.3 Shutdown) so a backup takes over after its Skew_Time,
// but stays Master, keeping its VIPs, until it hears an advert from the new
// master or Master_Down_Interval passes; only then does it transition
// Master → Initialize with reason "stop" (the agent releases the VIPs on
// that transition) and return. Packets must keep being delivered while it
// waits. A backup or faulted router transitions to Initialize at once.
func (r *Router) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return fmt.Errorf("vrrp: run %q: %w", r.cfg.Name, errAlreadyRun)
	}
	if ctx.Err() != nil {
		return nil // stopped before it started: nothing to resign
	}
	r.timer = r.clk.NewTimer(time.Hour)
	r.timer.Stop()
	defer r.timer.Stop()

	r.masterAdverInterval = r.cfg.AdvertInterval
	r.refreshTracks()
	if g := r.group.Load(); g != nil {
		g.setFault(r, r.ownFault)
	}
	r.start(ctx)
	for {
		select {
		case <-ctx.Done():
			r.stop(ctx)
			return nil
		case p := <-r.inbox:
			r.onPacket(ctx, p)
		case <-r.timer.C():
			r.onTimer(ctx)
		case <-r.wake:
			r.onWake(ctx)
		case ack := <-r.ping:
			close(ack)
		}
	}
}

// Alive reports whether the Run loop answers a probe before ctx is done:
// false before Run, after it returned (or while it stops), and while the
// loop is stuck (say, a Hooks method blocks). The agent's systemd watchdog
// sends keep-alives only while every router is alive.
func (r *Router) Alive(ctx context.Context) bool {
	ack := make(chan struct{})
	select {
	case r.ping <- ack:
	case <-ctx.Done():
		return false
	}
	select {
	case <-ack:
		return true
	case <-ctx.Done():
		return false
	}
}

var errAlreadyRun = errors.New("router already run")

// start is the Startup event of §6.4.1.
func (r *Router) start(ctx context.Context) {
	now := r.clk.Now()
	if r.cfg.PreemptDelay > 0 {
		r.preemptUntil = now.Add(r.cfg.PreemptDelay)
	}
	switch {
	case r.faulted():
		r.enterFault(ctx, r.faultReason)
	case r.effPrio == PriorityOwner:
		r.enterMaster(ctx, "address owner")
	case r.cfg.InitialMaster:
		r.enterMaster(ctx, "initial state master")
	default:
		r.enterBackup("start")
	}
}

// onTimer handles the expiry of Master_Down_Timer (Backup) or Adver_Timer
// (Master).
func (r *Router) onTimer(ctx context.Context) {
	switch r.state {
	case Backup:
		// §6.4.2: Master_Down_Timer fired.
		if g := r.group.Load(); g != nil {
			g.setDeferring(r, false)
			if name, ok := g.deferringMember(r); ok {
				// Sync group: wait until no member defers to a master.
				r.log.Debug("sync group member defers to a master, staying backup", "peer", name)
				r.resetTimer(masterDownInterval(r.effPrio, r.masterAdverInterval, r.cfg.Version))
				return
			}
		}
		r.enterMaster(ctx, "master down timer expired")
	case Master:
		// §6.4.3: Adver_Timer fired.
		r.sendAdvert(ctx, r.effPrio)
		r.resetTimer(advertDelay(r.clk.Now(), r.cfg.AdvertInterval))
	}
}

// onPacket applies the receive checks of RFC 5798 §7.1 / RFC 3768 §7.1
// that belong to the instance, then the advert rules of the current state.
func (r *Router) onPacket(ctx context.Context, p Packet) {
	if reason, ok := r.accept(p); !ok {
		r.counters.Inc(reason)
		r.logDrop(p, reason)
		return
	}
	switch r.state {
	case Backup:
		r.backupAdvert(p)
	case Master:
		r.masterAdvert(ctx, p)
	}
	// Initialize, Fault: adverts are ignored (§6.4.1; Fault takes no part).
}

// logDrop logs a dropped advert, naming the reason and the sender, at most
// once per dropLogInterval per reason. Address list mismatches are logged by
// accept itself (once per peer and list).
func (r *Router) logDrop(p Packet, reason DropReason) {
	if reason == DropAddrCount {
		return
	}
	now := r.clk.Now()
	if last, ok := r.dropLogged[reason]; ok && now.Sub(last) < dropLogInterval {
		return
	}
	if r.dropLogged == nil {
		r.dropLogged = make(map[DropReason]time.Time)
	}
	r.dropLogged[reason] = now
	r.log.Warn("advert dropped", "reason", reason.String(), "peer", p.Src.Unmap(), "vrid", p.Advert.VRID,
		"dropped", r.counters.Get(reason))
}

// deliverFilter is what Deliver checks before queueing: the stateless part
// of accept, on a snapshot of the configuration.
type deliverFilter struct {
	src      netip.Addr
	peers    map[netip.Addr]bool // nil: multicast, any source
	version  uint8
	authType uint8
	authData [8]byte
}

func newDeliverFilter(c Config, authType uint8, authData [8]byte) *deliverFilter {
	f := &deliverFilter{src: c.Src.Unmap(), version: c.Version, authType: authType, authData: authData}
	if len(c.Peers) > 0 {
		f.peers = make(map[netip.Addr]bool, len(c.Peers))
		for _, p := range c.Peers {
			f.peers[p.Unmap()] = true
		}
	}
	return f
}

// drop reports whether p is to be dropped before queueing, and why.
func (f *deliverFilter) drop(p Packet) (DropReason, bool) {
	src := p.Src.Unmap()
	switch {
	case src == f.src:
		return DropOwnPacket, true
	case f.peers != nil && !f.peers[src]:
		return DropNotPeer, true
	case p.Advert.Version != f.version:
		return DropVersion, true
	case f.version == 2 && (p.Advert.AuthType != f.authType || (f.authType == AuthTypeSimple && p.Advert.AuthData != f.authData)):
		return DropAuth, true
	}
	return 0, false
}

// accept reports whether p passes the per-instance receive checks, and if
// not why it must be dropped. The wire checks (checksum, TTL, version
// against family) are the Conn's job.
func (r *Router) accept(p Packet) (DropReason, bool) {
	a := &p.Advert
	src := p.Src.Unmap()
	if src == r.cfg.Src {
		return DropOwnPacket, false
	}
	if len(r.cfg.Peers) > 0 && !slices.Contains(r.cfg.Peers, src) {
		return DropNotPeer, false
	}
	if a.VRID != r.cfg.VRID {
		return DropVRIDUnknown, false
	}
	if a.Version != r.cfg.Version {
		return DropVersion, false
	}
	if r.cfg.Version == 2 {
		// RFC 3768 §7.1: the authentication type must match, and for
		// simple text the password.
		if a.AuthType != r.authType || (r.authType == AuthTypeSimple && a.AuthData != r.authData) {
			return DropAuth, false
		}
		// RFC 3768 §7.1: the advert interval must match ours.
		if a.AdvertInterval != r.cfg.AdvertInterval {
			return DropAdvertInterval, false
		}
	}
	// RFC 5798 §7.1: the address list must match ours unless the sender is
	// the address owner.
	if a.Priority != PriorityOwner && !slices.Equal(sortedAddrs(a.Addrs), r.vips) {
		// Log once per peer and list, not once per advert.
		if key := fmt.Sprint(src, a.Addrs); key != r.mismatchLogged {
			r.mismatchLogged = key
			r.log.Warn("address list mismatch", "peer", src, "err", fmt.Errorf("got %v, want %v", a.Addrs, r.cfg.VIPs))
		}
		return DropAddrCount, false
	}
	return 0, true
}

// backupAdvert is the advert rule of §6.4.2.
func (r *Router) backupAdvert(p Packet) {
	a := p.Advert
	now := r.clk.Now()
	src := p.Src.Unmap()
	g := r.group.Load()
	if a.Priority == priorityStop {
		// The master resigns: take over after Skew_Time.
		if g != nil {
			g.setDeferring(r, false)
		}
		r.resetTimer(skewTime(r.effPrio, r.masterAdverInterval, r.cfg.Version))
		return
	}
	if r.wins(a.Priority, src) {
		r.setHigherMaster(now)
	}
	if a.Priority >= r.effPrio {
		r.preemptUntil = time.Time{} // re-arm preempt_delay for the next lower master
	}
	if !r.cfg.Preempt || a.Priority >= r.effPrio || r.preemptDelayed(now) {
		if r.cfg.Version == 3 && a.AdvertInterval > 0 {
			r.masterAdverInterval = a.AdvertInterval // learn Master_Adver_Interval
		}
		r.setMaster(src)
		r.resetTimer(masterDownInterval(r.effPrio, r.masterAdverInterval, r.cfg.Version))
		if g != nil {
			g.setDeferring(r, true)
		}
		return
	}
	// Lower priority and we preempt: ignore it so Master_Down_Timer fires.
	if g != nil {
		g.setDeferring(r, false)
	}
}

// preemptDelayed reports whether preempt_delay still holds off preemption,
// arming it at the first lower-priority master.
func (r *Router) preemptDelayed(now time.Time) bool {
	if r.cfg.PreemptDelay <= 0 {
		return false
	}
	if r.preemptUntil.IsZero() {
		r.preemptUntil = now.Add(r.cfg.PreemptDelay)
	}
	return now.Before(r.preemptUntil)
}

// wins reports whether an advert of priority prio from src beats us in the
// election: higher priority, or equal priority and a greater primary
// address (§6.4.3).
func (r *Router) wins(prio uint8, src netip.Addr) bool {
	return prio > r.effPrio || (prio == r.effPrio && src.Compare(r.cfg.Src) > 0)
}

// masterAdvert is the advert rule of §6.4.3.
func (r *Router) masterAdvert(ctx context.Context, p Packet) {
	a := p.Advert
	src := p.Src.Unmap()
	now := r.clk.Now()
	switch {
	case a.Priority == priorityStop:
		// §6.4.3: another router resigns (it stopped, or yielded to us
		// after a split brain): assert ourselves at once, and have the
		// agent re-announce, since neighbours may still point at it.
		r.sendAdvert(ctx, r.effPrio)
		r.resetTimer(r.cfg.AdvertInterval)
		r.log.Info("peer master", "peer", src, "reason", PeerResigned.String())
		r.hooks.PeerMaster(PeerInfo{Name: r.cfg.Name, VRID: r.cfg.VRID, Addr: src, Priority: a.Priority, Reason: PeerResigned, At: now})
	case r.wins(a.Priority, src):
		r.setHigherMaster(now)
		if r.cfg.Version == 3 && a.AdvertInterval > 0 {
			r.masterAdverInterval = a.AdvertInterval
		}
		r.setMaster(src)
		reason := fmt.Sprintf("higher priority master %v (priority %d)", src, a.Priority)
		if a.Priority == r.effPrio {
			reason = fmt.Sprintf("equal priority master %v with greater address", src)
		}
		r.yield(ctx)
		r.enterBackup(reason)
	default:
		// Dual master: the other one loses. RFC 5798 discards the advert;
		// we reassert at once so it backs off sooner, and tell the agent.
		r.sendAdvert(ctx, r.effPrio)
		r.resetTimer(r.cfg.AdvertInterval)
		r.log.Info("peer master", "peer", src, "reason", PeerLower.String())
		r.hooks.PeerMaster(PeerInfo{Name: r.cfg.Name, VRID: r.cfg.VRID, Addr: src, Priority: a.Priority, Reason: PeerLower, At: now})
	}
}

// yield tells the master that wins against us that we were master too, so
// it re-announces the VIPs at once: after a split brain heals, neighbours
// still send to our MAC, and without this the winner, hearing nothing, would
// leave them to their ARP/ND timeouts (seconds of black hole). It sends two
// adverts while still master:
//   - one at our priority, which loses: keepalived's master answers a
//     lower-priority advert with an advert and a GARP burst
//     (garp_lower_prio_repeat, on by default; vrrp_state_master_rx), as its
//     higher_prio_send_advert option does when keepalived yields, and vipd
//     reports it as PeerLower;
//   - one at priority 0 (we resign), which any RFC 5798 master answers at
//     once (§6.4.3) and vipd reports as PeerResigned.
func (r *Router) yield(ctx context.Context) {
	r.sendAdvert(ctx, r.effPrio)
	r.sendAdvert(ctx, priorityStop)
}

// onWake applies track and sync group changes.
func (r *Router) onWake(ctx context.Context) {
	r.applyPeerDowns()
	prevPrio := r.effPrio
	reconfigured := r.applyPending()
	wasOwnFault := r.ownFault
	r.refreshTracks()
	g := r.group.Load()
	if g != nil && wasOwnFault != r.ownFault {
		g.setFault(r, r.ownFault)
	}
	r.mu.Lock()
	cmds := r.groupCmds
	r.groupCmds = nil
	r.mu.Unlock()

	switch {
	case r.faulted() && r.state != Fault:
		r.enterFault(ctx, r.faultReason)
		return
	case !r.faulted() && r.state == Fault:
		// Leaving Fault is a restart (§6.4.1): the configured interval and,
		// if set, a fresh preempt_delay.
		r.masterAdverInterval = r.cfg.AdvertInterval
		r.preemptUntil = time.Time{}
		if r.cfg.PreemptDelay > 0 {
			r.preemptUntil = r.clk.Now().Add(r.cfg.PreemptDelay)
		}
		if r.effPrio == PriorityOwner {
			r.enterMaster(ctx, "fault cleared")
		} else {
			r.enterBackup("fault cleared")
		}
		return
	}
	for _, c := range cmds {
		switch {
		case c.to == Master && r.state == Backup:
			r.enterMaster(ctx, c.reason)
		case c.to == Backup && r.state == Master:
			// The group yields: tell this member's peers too, so a
			// survivor re-announces this member's VIPs as well.
			r.yield(ctx)
			r.enterBackup(c.reason)
		}
	}
	if r.state == Master && (r.effPrio != prevPrio || reconfigured) {
		// Tell the backups at once, so a preempting one can take over.
		r.sendAdvert(ctx, r.effPrio)
		r.resetTimer(r.cfg.AdvertInterval)
	}
}

// refreshTracks recomputes the effective priority and own fault from the
// tracks.
func (r *Router) refreshTracks() {
	r.mu.Lock()
	sum := 0
	var faults []string
	for name, t := range r.tracks {
		sum += t.Delta
		if t.Fault {
			faults = append(faults, name)
		}
	}
	r.mu.Unlock()
	r.effPrio = effectivePriority(r.cfg.Priority, sum)
	r.ownFault = len(faults) > 0
	if r.ownFault {
		slices.Sort(faults)
		r.faultReason = "track " + faults[0] + " fault"
	}
	r.mu.Lock()
	r.st.EffectivePriority = r.effPrio
	r.mu.Unlock()
}

// effectivePriority is base + delta clamped to 1..254; the owner's 255
// never changes (keepalived semantics).
func effectivePriority(base uint8, delta int) uint8 {
	if base == PriorityOwner {
		return base
	}
	return uint8(min(max(int(base)+delta, 1), PriorityOwner-1))
}

// faulted reports whether the instance must be in Fault: its own track
// fault, or a fault of a member of its sync group.
func (r *Router) faulted() bool {
	if r.ownFault {
		return true
	}
	if g := r.group.Load(); g != nil {
		if name, ok := g.faultedMember(r); ok {
			r.faultReason = "sync group " + g.name + " member " + name + " fault"
			return true
		}
	}
	return false
}

// enterMaster is the transition to Master (§6.4.1, §6.4.2): send an
// advert, then every Advertisement_Interval.
func (r *Router) enterMaster(ctx context.Context, reason string) {
	r.sendAdvert(ctx, r.effPrio)
	r.resetTimer(r.cfg.AdvertInterval)
	r.setMaster(r.cfg.Src)
	r.setState(Master, reason)
}

// enterBackup is the transition to Backup (§6.4.1, §6.4.3): arm
// Master_Down_Timer.
func (r *Router) enterBackup(reason string) {
	if r.state != Master {
		// From Initialize or Fault no master is known yet.
		r.setMaster(netip.Addr{})
	}
	r.resetTimer(masterDownInterval(r.effPrio, r.masterAdverInterval, r.cfg.Version))
	r.setState(Backup, reason)
}

// enterFault stops advertising. A master first resigns with a priority 0
// advert (as keepalived does) so a backup takes over after Skew_Time.
func (r *Router) enterFault(ctx context.Context, reason string) {
	if r.state == Master {
		r.sendAdvert(ctx, priorityStop)
	}
	r.timer.Stop()
	r.setMaster(netip.Addr{})
	r.setState(Fault, reason)
}

// stop is the Shutdown event (§6.4.2, §6.4.3), see Run.
func (r *Router) stop(ctx context.Context) {
	if r.state != Master {
		r.timer.Stop()
		r.setState(Initialize, "stop")
		return
	}
	sctx := context.WithoutCancel(ctx)
	r.sendAdvert(sctx, priorityStop)
	r.resetTimer(masterDownInterval(r.effPrio, r.cfg.AdvertInterval, r.cfg.Version))
	reason := "stop"
wait:
	for {
		select {
		case p := <-r.inbox:
			if dr, ok := r.accept(p); !ok {
				r.counters.Inc(dr)
				continue
			}
			if p.Advert.Priority != priorityStop {
				r.setMaster(p.Src.Unmap())
				break wait
			}
		case <-r.timer.C():
			break wait
		}
	}
	r.timer.Stop()
	r.setState(Initialize, reason)
}

// sendAdvert sends one advert with priority prio to every peer, or to the
// family's multicast group. Send errors are logged: adverts are periodic
// and a lost one is what the protocol tolerates.
func (r *Router) sendAdvert(ctx context.Context, prio uint8) {
	a := Advert{
		Version:        r.cfg.Version,
		VRID:           r.cfg.VRID,
		Priority:       prio,
		AdvertInterval: r.cfg.AdvertInterval,
		AuthType:       r.authType,
		AuthData:       r.authData,
		Addrs:          r.cfg.VIPs,
	}
	dsts := r.cfg.Peers
	if len(dsts) == 0 {
		dsts = []netip.Addr{MulticastIPv4}
		if Family(r.cfg.Src) == 6 {
			dsts = []netip.Addr{MulticastIPv6}
		}
	}
	for _, dst := range dsts {
		sctx, cancel := context.WithTimeout(ctx, r.cfg.AdvertInterval)
		err := r.conn.Send(sctx, r.cfg.IfIndex, r.cfg.Src, dst, a)
		cancel()
		if err != nil {
			r.log.Warn("send advert failed", "peer", dst, "state", r.state.String(), "err", err)
		}
	}
}

// resetTimer (re)arms the single timer of the state: Master_Down_Timer in
// Backup, Adver_Timer in Master, the stop wait while stopping.
func (r *Router) resetTimer(d time.Duration) {
	r.timer.Reset(d)
}

func (r *Router) setMaster(a netip.Addr) {
	r.mu.Lock()
	r.st.Master = a
	r.mu.Unlock()
}

func (r *Router) setHigherMaster(t time.Time) {
	r.mu.Lock()
	r.st.HigherMasterAt = t
	r.mu.Unlock()
}

// setState records a transition, logs it (one line) and reports it to the
// hooks and the sync group.
func (r *Router) setState(to State, reason string) {
	from := r.state
	if from == to {
		return
	}
	r.state = to
	now := r.clk.Now()
	r.mu.Lock()
	r.st.State = to
	r.st.Since = now
	r.st.Reason = reason
	r.mu.Unlock()
	r.log.Info("transition", "from", from.String(), "to", to.String(), "reason", reason)
	r.hooks.Transition(Transition{Name: r.cfg.Name, VRID: r.cfg.VRID, From: from, To: to, Reason: reason, At: now, Priority: r.effPrio})
	if g := r.group.Load(); g != nil {
		g.transition(r, from, to)
	}
}

// post queues a sync group command for the Run loop without blocking.
func (r *Router) post(c groupCmd) {
	r.mu.Lock()
	if len(r.groupCmds) >= maxGroupCmds {
		r.groupCmds = r.groupCmds[1:]
	}
	r.groupCmds = append(r.groupCmds, c)
	r.mu.Unlock()
	r.poke()
}

const maxGroupCmds = 16

func sortedAddrs(as []netip.Addr) []netip.Addr {
	s := make([]netip.Addr, len(as))
	for i, a := range as {
		s[i] = a.Unmap()
	}
	slices.SortFunc(s, netip.Addr.Compare)
	return s
}
