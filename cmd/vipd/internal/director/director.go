package director

import (
	"context"
	"log/slog"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vipd/vipd/checks"
	"github.com/vipd/vipd/cmd/vipd/internal/notify"
	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/lvs"
)

// SyncDaemon is the part of lvs.SyncConn the director uses.
type SyncDaemon interface {
	SwitchSyncDaemon(ctx context.Context, state lvs.SyncState, iface string, syncID uint8) error
	StopSyncDaemon(ctx context.Context, state lvs.SyncState) error
	Close() error
}

// Options are the director's settings.
type Options struct {
	// Services are the plan's services (Update replaces them).
	Services   []plan.Service
	SyncDaemon *plan.SyncDaemon // nil: none
	// FlushAtStart empties the whole IPVS table before the first
	// reconcile (keepalived lvs_flush).
	FlushAtStart bool
	// OnStop is what happens to the IPVS table when Run ends.
	OnStop plan.LVSStop
	// ScriptExec is how quorum_up/down and notify_up/down run.
	ScriptExec notify.Exec
	// OnRealChange, when set, is called (on Run's goroutine; it must not
	// block) when a real server's health changes, after its notify_up /
	// notify_down was queued.
	OnRealChange func(svc plan.Service, r plan.Real, up bool)
}

// Director runs the LVS services of a plan.
type Director struct {
	log   *slog.Logger
	opts  Options
	rec   *lvs.Reconciler
	sched *checks.Scheduler
	// quorum runs quorum_up / quorum_down and notify_up / notify_down.
	quorum *notify.Runner

	syncD    SyncDaemon    // nil without a sync daemon
	syncWant lvs.SyncState // the role the sync daemon must have
	syncOK   bool          // it has it (else retried every second)

	dirty chan struct{} // health changed or an instance changed (cap 1)

	mu       sync.Mutex
	services []plan.Service  // the plan's services (Update replaces them)
	masters  map[string]bool // latest mastership of each followed instance
	health   map[string]bool // last health of each real server, by service and address (Run only)
	applied  map[string]bool // what Run last applied
}

// New returns a Director programming through rec (it takes ownership and
// closes it when Run ends) and, with opts.SyncDaemon, through syncD. Exec
// (misc) checks are built here, from the host's scripts; one that cannot
// be built counts as failing, with its reason in Status.
func New(log *slog.Logger, rec *lvs.Reconciler, syncD SyncDaemon, opts Options) *Director {
	d := &Director{
		log: log, opts: opts, rec: rec, syncD: syncD,
		sched:   checks.NewScheduler(log.With("part", "checks")),
		quorum:  notify.New(log, notify.Service, "quorum", plan.Notify{}),
		dirty:   make(chan struct{}, 1),
		masters: map[string]bool{}, applied: map[string]bool{}, services: opts.Services, health: map[string]bool{},
	}
	d.quorum.SetExec(opts.ScriptExec)
	for _, svc := range opts.Services {
		for _, r := range svc.Reals {
			for _, c := range r.Checks {
				d.addCheck(c)
			}
		}
	}
	return d
}

// OnQuorum is for lvs.Config.OnQuorum: it runs quorum_up / quorum_down off
// the reconciler's goroutine.
func (d *Director) OnQuorum(st lvs.ServiceState, up bool) {
	d.log.Warn("service quorum changed", "service", st.Key(), "up", up)
	cmd := st.QuorumDown
	if up {
		cmd = st.QuorumUp
	}
	d.quorum.Command(cmd)
}

// failing is the checker of an exec check whose script cannot run.
type failing struct {
	name string
	err  error
}

func (f failing) Check(context.Context) checks.Result {
	return checks.Result{Reason: f.err.Error()}
}
func (f failing) String() string { return f.name }

func (d *Director) addCheck(c plan.Check) {
	ck := c.Checker
	if c.Exec != nil {
		ec, err := checks.NewExecChecker(*c.Exec)
		if err != nil {
			d.log.Error("misc check cannot run, counted as failing", "check", c.ID, "err", err)
			ck = failing{name: "misc " + c.Exec.Command, err: err}
		} else {
			ck = ec
		}
	}
	if ck == nil {
		return
	}
	d.sched.Add(c.ID, ck, c.Params, func(string, checks.State) { d.wake() })
}

func (d *Director) wake() {
	select {
	case d.dirty <- struct{}{}:
	default:
	}
}

// Follow records that instance is (or no longer is) master. It never
// blocks; Run applies the latest state.
func (d *Director) Follow(instance string, master bool) {
	d.mu.Lock()
	d.masters[instance] = master
	d.mu.Unlock()
	d.wake()
}

// Update replaces the services (a live reload): checks whose id and
// settings are unchanged keep running with their state, the others are
// removed or added, and Run reconciles the kernel by difference (an
// unchanged real server keeps its connections). It never blocks.
func (d *Director) Update(services []plan.Service) (added, removed int) {
	old := map[string]plan.Check{}
	for _, c := range allChecks(d.currentServices()) {
		old[c.ID] = c
	}
	keep := map[string]bool{}
	for _, c := range allChecks(services) {
		if o, ok := old[c.ID]; ok && reflect.DeepEqual(o.Spec, c.Spec) && o.Params == c.Params {
			keep[c.ID] = true
			continue
		}
		if _, ok := old[c.ID]; ok {
			d.sched.Remove(c.ID)
			removed++
		}
		d.addCheck(c)
		added++
	}
	for id := range old {
		if !keep[id] && !slices.ContainsFunc(allChecks(services), func(c plan.Check) bool { return c.ID == id }) {
			d.sched.Remove(id)
			removed++
		}
	}
	d.mu.Lock()
	d.services = services
	d.mu.Unlock()
	d.wake()
	return added, removed
}

func allChecks(services []plan.Service) []plan.Check {
	var out []plan.Check
	for _, svc := range services {
		for _, r := range svc.Reals {
			out = append(out, r.Checks...)
		}
	}
	return out
}

func (d *Director) currentServices() []plan.Service {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.services
}

// desired is the IPVS state the plan and the current health ask for.
func (d *Director) desired() []lvs.ServiceState {
	var out []lvs.ServiceState
	for _, svc := range d.currentServices() {
		st := svc.State
		st.Reals = append([]lvs.RealState(nil), st.Reals...)
		for j, r := range svc.Reals {
			h, w := d.realHealth(r)
			st.Reals[j].Healthy = h
			if w != nil {
				st.Reals[j].Weight = *w
			}
		}
		if svc.Group != nil {
			out = append(out, lvs.ExpandGroup(st, svc.Group)...)
			continue
		}
		out = append(out, st)
	}
	return out
}

// realHealth: a real server is healthy when all its checks are up; a
// dynamic MISC_CHECK's weight overrides the configured weight.
func (d *Director) realHealth(r plan.Real) (bool, *int) {
	var w *int
	for _, c := range r.Checks {
		st, ok := d.sched.State(c.ID)
		if !ok {
			continue
		}
		if !st.Up {
			return false, nil
		}
		if st.Weight != nil {
			w = st.Weight
		}
	}
	return true, w
}

// Run owns every kernel call: reconcile on health and mastership changes,
// resync periodically; on its end, flush (FlushOnStop), stop the sync
// daemon and close the reconciler.
func (d *Director) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.sched.Run(gctx) })
	g.Go(func() error { d.quorum.Run(gctx); return nil })
	if d.syncD != nil {
		d.switchSync(ctx, lvs.SyncBackup)
	}
	if d.opts.FlushAtStart {
		if err := d.rec.FlushAll(ctx); err != nil {
			d.log.Error("lvs flush at start failed", "err", err)
		} else {
			d.log.Info("ipvs table flushed at start (lvs_flush)")
		}
	}
	d.apply(ctx)
	resync := time.NewTicker(60 * time.Second)
	defer resync.Stop()
	var retry <-chan time.Time
	if d.syncD != nil {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		retry = t.C
	}
	for {
		select {
		case <-ctx.Done():
			d.stop()
			return g.Wait()
		case <-d.dirty:
			d.apply(ctx)
		case <-retry:
			if !d.syncOK {
				d.switchSync(ctx, d.syncWant)
			}
		case <-resync.C:
			if err := d.rec.Resync(ctx); err != nil && ctx.Err() == nil {
				d.log.Error("ipvs resync failed", "err", err)
			}
		}
	}
}

// apply brings followed instances' mastership and the health to the kernel.
func (d *Director) apply(ctx context.Context) {
	d.mu.Lock()
	changed := map[string]bool{}
	for name, m := range d.masters {
		if prev, ok := d.applied[name]; !ok || prev != m {
			changed[name] = m
			d.applied[name] = m
		}
	}
	d.mu.Unlock()
	for name, master := range changed {
		if err := d.rec.SetActive(ctx, name, master); err != nil && ctx.Err() == nil {
			d.log.Error("ipvs activate failed", "instance", name, "master", master, "err", err)
		}
		if sd := d.opts.SyncDaemon; d.syncD != nil && name == sd.Instance {
			state := lvs.SyncBackup
			if master {
				state = lvs.SyncMaster
			}
			d.switchSync(ctx, state)
		}
	}
	if err := d.rec.Reconcile(ctx, d.desired()); err != nil && ctx.Err() == nil {
		d.log.Error("ipvs reconcile failed", "err", err)
	}
	d.realChanges()
}

// realChanges runs notify_up / notify_down and OnRealChange for each real
// server whose health changed since the last look (a new one starts up, as
// its checks do, without an event).
func (d *Director) realChanges() {
	for _, svc := range d.currentServices() {
		for _, r := range svc.Reals {
			k := svc.Name + "|" + r.Address.String()
			up, _ := d.realHealth(r)
			prev, seen := d.health[k]
			d.health[k] = up
			if !seen || prev == up {
				continue
			}
			d.log.Info("real server changed", "service", svc.Name, "real", r.Address, "up", up)
			if up {
				d.quorum.Command(r.NotifyUp)
			} else {
				d.quorum.Command(r.NotifyDown)
			}
			if d.opts.OnRealChange != nil {
				d.opts.OnRealChange(svc, r, up)
			}
		}
	}
}

func (d *Director) stop() {
	stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch d.opts.OnStop {
	case plan.RemoveOwned:
		if err := d.rec.RemoveOwned(stop); err != nil {
			d.log.Error("removing vipd's ipvs services failed", "err", err)
		} else {
			d.log.Info("vipd's ipvs services removed")
		}
	case plan.FlushAll:
		if err := d.rec.FlushAll(stop); err != nil {
			d.log.Error("ipvs flush at stop failed", "err", err)
		} else {
			d.log.Info("ipvs table flushed at stop (lvs_flush_on_stop)")
		}
	case plan.Keep:
		d.log.Info("ipvs services left in place (lvs_keep_on_stop)")
	}
	if d.syncD != nil {
		for _, s := range []lvs.SyncState{lvs.SyncMaster, lvs.SyncBackup} {
			_ = d.syncD.StopSyncDaemon(stop, s)
		}
		_ = d.syncD.Close()
	}
	d.rec.Close()
}

// switchSync gives the sync daemon the role state; on failure Run retries
// every second until it has it (a backup without its daemon would drop
// every live connection at the next failover).
func (d *Director) switchSync(ctx context.Context, state lvs.SyncState) {
	sd := d.opts.SyncDaemon
	retrying := d.syncWant == state && !d.syncOK
	d.syncWant, d.syncOK = state, false
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := d.syncD.SwitchSyncDaemon(cctx, state, sd.Interface, sd.SyncID); err != nil {
		if !retrying {
			d.log.Error("ipvs sync daemon switch failed, retrying every second", "state", state.String(), "iface", sd.Interface, "err", err)
		}
		return
	}
	d.syncOK = true
	d.log.Info("ipvs sync daemon running", "state", state.String(), "iface", sd.Interface, "sync_id", sd.SyncID)
}

// ServiceStatus is one LVS virtual service for `vipd status`.
type ServiceStatus struct {
	Name        string       `json:"name"` // e.g. TCP 192.0.2.100:80 or FWM 1
	Scheduler   string       `json:"scheduler"`
	Active      bool         `json:"active"` // programmed in the kernel
	RealServers []RealStatus `json:"real_servers"`
}

// RealStatus is one real server of a virtual service.
type RealStatus struct {
	Address     string `json:"address"`
	Weight      int    `json:"weight"`
	Healthy     bool   `json:"healthy"`
	CheckReason string `json:"check_reason,omitempty"`
	ActiveConns int    `json:"active_conns"`
	InactConns  int    `json:"inact_conns"`
}

// Status reports services with their real servers' health, weights and
// connection counts.
func (d *Director) Status() []ServiceStatus {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sts, err := d.rec.Status(ctx)
	if err != nil {
		d.log.Warn("ipvs status failed", "err", err)
	}
	reasons := d.checkReasons()
	out := make([]ServiceStatus, 0, len(sts))
	for _, s := range sts {
		ss := ServiceStatus{Name: s.Service, Scheduler: s.Scheduler, Active: s.Programmed}
		for _, r := range s.Reals {
			rs := RealStatus{Address: r.Address.String(), Weight: max(r.KernelWeight, 0), Healthy: r.Healthy,
				ActiveConns: r.ActiveConns, InactConns: r.InactConns, CheckReason: reasons[r.Address]}
			if r.Sorry {
				rs.CheckReason = "sorry server"
			}
			ss.RealServers = append(ss.RealServers, rs)
		}
		out = append(out, ss)
	}
	return out
}

// checkReasons maps each failing real server to its checks' reasons.
func (d *Director) checkReasons() map[netip.AddrPort]string {
	out := map[netip.AddrPort]string{}
	for _, svc := range d.currentServices() {
		for _, r := range svc.Reals {
			var why []string
			for _, c := range r.Checks {
				if st, ok := d.sched.State(c.ID); ok && !st.Up {
					why = append(why, st.Reason)
				}
			}
			if len(why) > 0 {
				out[r.Address] = strings.Join(why, "; ")
			}
		}
	}
	return out
}
