package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vipd/vipd/cmd/vipd/internal/alert"
	"github.com/vipd/vipd/cmd/vipd/internal/director"
	"github.com/vipd/vipd/cmd/vipd/internal/holder"
	"github.com/vipd/vipd/cmd/vipd/internal/notify"
	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/lvs"
	"github.com/vipd/vipd/providers/netlink"
	"github.com/vipd/vipd/vrrp"
)

// Version is set by the build:
// go build -ldflags "-X github.com/vipd/vipd/cmd/vipd/internal/agent.Version=v1.2.3".
var Version = ""

// VersionString is Version, else the module version the binary was built
// from, else "(devel)".
func VersionString() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// agent is one running vipd.
//
// Concurrency: status and metrics read the agent from other goroutines at
// any time, start-up included; mu guards the sets of parts (instances,
// director, counters), which only the goroutine in run changes.
type agent struct {
	plan      *plan.Plan
	host      Host
	log       *slog.Logger
	startedAt time.Time
	metrics   *metrics

	mu        sync.RWMutex
	instances []*instance
	byName    map[string]*instance
	director  *director.Director // nil without virtual servers or sync daemon
	// groupNotifiers run the sync groups' notify commands.
	groupNotifiers []*notify.Runner
	// alerts sends e-mail / webhook alerts; nil when none is configured.
	alerts *alert.Notifier
	// reloaded counts reloads applied (guarded by mu).
	reloaded int

	// Owned by the goroutine in run.
	conns   connSet
	muxes   map[int]*vrrp.Mux
	aux     *errgroup.Group // servers, receive loops, director, tracking
	auxCtx  context.Context
	tracks  *tracking
	bfd     *bfdPeers // nil until an instance uses BFD
	reloads chan reloadRequest
	// ready and stopping are called when every instance has started and
	// when the agent begins to stop (systemd notify).
	ready, stopping func()
	reloadHook      func(ctx context.Context) (string, error)
	// wireDrops counts, per address family, packets dropped before they
	// could be matched to an instance (malformed, checksum, TTL, unknown VRID).
	wireDrops map[int]*vrrp.Counters
}

// instance is one VRRP instance with everything attached to it.
type instance struct {
	plan     plan.Instance
	log      *slog.Logger
	counters *vrrp.Counters
	holder   *holder.Holder
	notifier *notify.Runner
	// onTransition is called (after the holder and notifier) for every
	// transition: metrics, sync-group notification, LVS.
	onTransition []func(t vrrp.Transition)

	// Set by startInstance.
	closeProviders func()
	aux            sync.WaitGroup // holder and notifier goroutines
	stopAux        func()         // releases (holder), ends aux, closes providers
	stopRouter     context.CancelFunc
	routerDone     chan struct{}

	mu      sync.Mutex
	router  *vrrp.Router          // nil until its interface exists
	waitErr string                // why the router is not running (e.g. interface missing)
	tracks  map[string]trackValue // by track key
}

// Transition implements vrrp.Hooks.
func (in *instance) Transition(t vrrp.Transition) {
	in.holder.SetMaster(t.To == vrrp.Master)
	in.notifier.Transition(t.To, t.Priority)
	for _, f := range in.onTransition {
		f(t)
	}
}

// PeerMaster implements vrrp.Hooks: another master was heard while we are
// master; re-announce so switches and neighbours point at us again.
func (in *instance) PeerMaster(p vrrp.PeerInfo) {
	in.log.Warn("another master heard, re-announcing vips", "peer", p.Addr, "priority", p.Priority)
	in.holder.Reannounce()
}

// Agent is one vipd agent.
type Agent struct{ a *agent }

// Hooks are called as the agent's life goes on (systemd notify); nil ones
// are skipped.
type Hooks struct {
	// Ready: every instance has started.
	Ready func()
	// Stopping: the agent begins to stop.
	Stopping func()
	// Reload serves `vipd reload` on the status socket: re-read the
	// configuration and apply it (Agent.Reload); nil: not offered.
	Reload func(ctx context.Context) (summary string, err error)
}

// New returns the agent of plan p on host.
func New(p *plan.Plan, log *slog.Logger, host Host, hooks Hooks) *Agent {
	a := newAgent(p, log, host)
	if hooks.Ready != nil {
		a.ready = hooks.Ready
	}
	if hooks.Stopping != nil {
		a.stopping = hooks.Stopping
	}
	a.reloadHook = hooks.Reload
	return &Agent{a}
}

// Run runs the agent until ctx ends. On return every VIP this node held
// has been released (master instances send a priority-0 advert first).
func (x *Agent) Run(ctx context.Context) error { return x.a.run(ctx) }

// Reload applies p to the running agent with the least disruption and
// returns a one-line summary; see ErrRestartNeeded.
func (x *Agent) Reload(ctx context.Context, p *plan.Plan) (string, error) { return x.a.Reload(ctx, p) }

// Alive reports whether every running VRRP router answers within a second
// (the systemd watchdog's liveness check). An instance waiting for its
// interface counts as alive.
func (x *Agent) Alive() bool {
	a := x.a
	a.mu.RLock()
	ins := slices.Clone(a.instances)
	a.mu.RUnlock()
	for _, in := range ins {
		r := in.currentRouter()
		if r == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		ok := r.Alive(ctx)
		cancel()
		if !ok {
			return false
		}
	}
	return true
}

// InvalidReload counts a reload refused because the new configuration is
// invalid (the caller builds the plan).
func (x *Agent) InvalidReload() { x.a.metrics.reloads.WithLabelValues("invalid").Inc() }

// Run runs the agent of plan p on host until ctx ends (New + Agent.Run).
func Run(ctx context.Context, p *plan.Plan, log *slog.Logger, host Host) error {
	return New(p, log, host, Hooks{}).Run(ctx)
}

func newAgent(p *plan.Plan, log *slog.Logger, host Host) *agent {
	a := &agent{plan: p, host: host, log: log, startedAt: time.Now(), byName: map[string]*instance{},
		wireDrops: map[int]*vrrp.Counters{}, conns: connSet{}, muxes: map[int]*vrrp.Mux{},
		reloads: make(chan reloadRequest), ready: func() {}, stopping: func() {}}
	a.metrics = newMetrics(a)
	return a
}

// build creates every part of the plan.
func (a *agent) build(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.plan.Alerts; c != nil {
		n, err := alert.New(*c, a.log.With("part", "alert"))
		if err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
		a.alerts = n
	}
	for _, pi := range a.plan.Instances {
		in, err := a.newInstance(ctx, pi)
		if err != nil {
			for _, in := range a.instances {
				in.closeProviders()
			}
			return err
		}
		a.instances = append(a.instances, in)
		a.byName[pi.Name] = in
	}
	if err := a.buildDirector(); err != nil {
		for _, in := range a.instances {
			in.closeProviders()
		}
		return err
	}
	a.buildSyncGroups()
	return nil
}

func (a *agent) run(ctx context.Context) error {
	p, log := a.plan, a.log
	for _, w := range p.Warnings {
		log.Warn("configuration", "warning", w)
	}
	if err := a.build(ctx); err != nil {
		return err
	}
	started := false
	defer func() { // an error before the instances started
		if !started {
			for _, in := range a.instances {
				in.closeProviders()
			}
		}
	}()

	// Servers and helpers live until every router has stopped and released.
	// One failing (say, the metrics listener) does not stop the others.
	auxCtx, auxCancel := context.WithCancel(context.Background())
	a.aux, a.auxCtx = &errgroup.Group{}, auxCtx
	stopAux := func() error { auxCancel(); return a.aux.Wait() }
	defer func() { _ = stopAux() }() // early returns; the normal path reports its error below
	defer a.conns.close()
	if err := a.startServers(auxCtx, a.aux); err != nil {
		return err
	}
	for _, in := range a.instances {
		if err := a.openConn(in.plan.Family); err != nil {
			return err
		}
		if in.plan.BFD != nil {
			if err := a.openBFD(); err != nil {
				return err
			}
		}
	}
	for _, gn := range a.groupNotifiers {
		a.aux.Go(func() error { gn.Run(auxCtx); return nil })
	}
	if a.alerts != nil {
		a.aux.Go(func() error { return a.alerts.Run(auxCtx) })
	}
	if a.director != nil {
		a.aux.Go(func() error { return a.director.Run(auxCtx) })
	}
	a.tracks = newTracking(a)
	if err := a.tracks.update(auxCtx, a.plan); err != nil {
		return err
	}
	// Create the routers whose interface exists now (the others wait for
	// it), so that sync groups can join them before any runs.
	for _, in := range a.instances {
		a.newRouter(in, a.conns[in.plan.Family])
	}
	if err := a.joinSyncGroups(); err != nil {
		log.Error("sync groups", "err", err)
	}
	for _, in := range a.instances {
		a.startInstance(ctx, in)
	}
	started = true
	log.Info("vipd started", "node", p.Global.Node, "instances", len(a.instances), "version", VersionString())
	// Start-up (config decoding, SDK clients, many instances at once) peaks
	// well above the steady heap: give that memory back to the OS once.
	debug.FreeOSMemory()
	a.ready()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case req := <-a.reloads:
			req.reply <- a.reload(ctx, req.plan)
		}
	}
	log.Info("vipd stopping")
	a.stopping()
	// Routers stop with ctx (each master sends priority 0 and releases);
	// then the holders release and the instances' helpers end.
	a.mu.RLock()
	ins := slices.Clone(a.instances)
	a.mu.RUnlock()
	for _, in := range ins {
		<-in.routerDone
	}
	for _, in := range ins {
		in.stopAux()
	}
	err := stopAux()
	log.Info("vipd stopped")
	return err
}

// newInstance creates an instance of the plan with its providers, holder
// and notifier (nothing runs yet).
func (a *agent) newInstance(ctx context.Context, pi plan.Instance) (*instance, error) {
	log := a.log.With("instance", pi.Name)
	in := &instance{plan: pi, log: log, counters: new(vrrp.Counters)}
	local, cloud, closeFn, err := a.host.Providers(ctx, pi, log)
	if err != nil {
		return nil, fmt.Errorf("instance %s: %w", pi.Name, err)
	}
	in.closeProviders = closeFn
	var routes holder.Routes
	if len(pi.Routes)+len(pi.Rules) > 0 && a.host.Routing != nil {
		rt := a.host.Routing(log)
		routes = instanceRoutes{rt, pi.Routes, pi.Rules}
		in.closeProviders = func() { closeFn(); _ = rt.Close() }
	}
	in.holder = holder.New(log, pi.VIPs, local, cloud, holder.Options{
		Holder: pi.Holder, Fenced: in.higherMasterHeard, OnConfirm: a.metrics.observeConfirm(pi.Name), Routes: routes,
	})
	in.notifier = notify.New(log, notify.Instance, pi.Name, pi.Notify)
	in.notifier.SetExec(a.scriptExec())
	in.onTransition = append(in.onTransition, a.metrics.countTransition)
	if a.alerts != nil {
		in.onTransition = append(in.onTransition, func(t vrrp.Transition) {
			if in.currentPlan().Alert {
				a.alerts.Send(alert.Event{Kind: alert.KindInstance, Name: t.Name, State: alertState(t.To), Detail: t.Reason, Time: t.At})
			}
		})
	}
	return in, nil
}

// instanceRoutes binds an instance's routes and rules to its table.
type instanceRoutes struct {
	rt     Routing
	routes []netlink.Route
	rules  []netlink.Rule
}

func (r instanceRoutes) Add(ctx context.Context) error    { return r.rt.Set(ctx, r.routes, r.rules) }
func (r instanceRoutes) Remove(ctx context.Context) error { return r.rt.Remove(ctx) }

// startInstance starts the instance's holder, notifier and router (the
// router waits for its interface if it is missing).
func (a *agent) startInstance(ctx context.Context, in *instance) {
	auxCtx, cancel := context.WithCancel(context.Background())
	in.aux.Add(2)
	go func() { defer in.aux.Done(); in.holder.Run(auxCtx) }()
	go func() { defer in.aux.Done(); in.notifier.Run(auxCtx) }()
	in.stopAux = func() {
		in.holder.SetMaster(false)
		cancel()
		in.aux.Wait()
		in.closeProviders()
	}
	// Remove VIPs a previous run left behind before anything can become master.
	cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
	in.holder.Cleanup(cctx)
	ccancel()
	rctx, rcancel := context.WithCancel(ctx)
	in.stopRouter = rcancel
	in.routerDone = make(chan struct{})
	fam := in.plan.Family
	go func() {
		defer close(in.routerDone)
		a.runInstance(rctx, in, a.conns[fam], a.muxes[fam])
	}()
}

// stopInstance stops one instance (a reload removed it): a master sends
// priority 0 and keeps its VIPs until the new master is heard, then the
// holder releases them.
func (in *instance) stop() {
	in.stopRouter()
	<-in.routerDone
	in.stopAux()
}

// openConn opens the VRRP socket of family fam and starts its receive loop,
// once.
func (a *agent) openConn(fam int) error {
	if _, ok := a.conns[fam]; ok {
		return nil
	}
	c, err := a.host.Listen(fam)
	if err != nil {
		return fmt.Errorf("vrrp socket (IPv%d): %w (vipd needs CAP_NET_RAW)", fam, err)
	}
	a.mu.Lock()
	if a.wireDrops[fam] == nil {
		a.wireDrops[fam] = new(vrrp.Counters)
	}
	drops := a.wireDrops[fam]
	a.mu.Unlock()
	m := vrrp.NewMux(c, drops, a.log.With("family", fam))
	a.conns[fam], a.muxes[fam] = c, m
	a.aux.Go(func() error {
		if err := m.Run(a.auxCtx); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("vrrp receive loop ended", "family", fam, "err", err)
		}
		return nil
	})
	return nil
}

// newRouter creates the instance's router if its interface exists; it
// reports whether it did, recording why not for `vipd status`.
func (a *agent) newRouter(in *instance, conn vrrp.Conn) bool {
	rcfg, err := a.resolveRouter(in.currentPlan())
	if err == nil {
		var r *vrrp.Router
		r, err = vrrp.NewRouter(rcfg, conn, in, in.counters, in.log, a.host.Clock)
		if err == nil {
			in.mu.Lock()
			in.router, in.waitErr = r, ""
			in.mu.Unlock()
			in.replayTracks()
			return true
		}
	}
	in.mu.Lock()
	in.waitErr = err.Error()
	in.mu.Unlock()
	return false
}

// runInstance runs the instance's router until ctx ends; while its interface
// is missing it retries every 2 s (the rest of the agent keeps running).
func (a *agent) runInstance(ctx context.Context, in *instance, conn vrrp.Conn, mux *vrrp.Mux) {
	for logged := false; in.currentRouter() == nil; {
		if a.newRouter(in, conn) {
			in.log.Info("instance can start now")
			break
		}
		if !logged {
			in.mu.Lock()
			why := in.waitErr
			in.mu.Unlock()
			in.log.Error("instance cannot start, retrying every 2s", "reason", why)
			logged = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
	r := in.currentRouter()
	rcfg := r.Config()
	if len(rcfg.Peers) == 0 {
		if err := conn.JoinGroup(rcfg.IfIndex); err != nil {
			in.log.Error("join vrrp multicast group failed", "iface", rcfg.IfIndex, "err", err)
		}
	}
	unregister := mux.Register(rcfg.IfIndex, rcfg.VRID, vrrp.Family(rcfg.Src), r.Deliver)
	defer unregister()
	if a.bfd != nil && in.currentPlan().BFD != nil {
		defer a.bfd.watch(in, r)()
	}
	if err := r.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		in.log.Error("router stopped", "err", err)
	}
}

// startServers serves the status socket and metrics. The status socket is
// bound before it returns, so a second vipd fails at once.
func (a *agent) startServers(ctx context.Context, g *errgroup.Group) error {
	sock := a.plan.Global.StatusSocket
	ready := make(chan error, 1)
	g.Go(func() error {
		return serveStatus(ctx, a.log, sock, a.plan.Global.StatusSocketGroup, a.status, a.reloadHook, ready)
	})
	if err := <-ready; err != nil {
		return err
	}
	if addr := a.plan.Global.MetricsListen; addr != "" {
		g.Go(func() error {
			err := serveMetrics(ctx, a.log, addr, a.metrics.reg)
			if err != nil {
				a.log.Error("metrics server failed; vrrp goes on", "err", err)
			}
			return nil
		})
	}
	return nil
}

// resolveRouter completes the instance's vrrp.Config from its interface:
// index and, without unicast_src_ip, the source address. It fails while the
// interface is missing.
func (a *agent) resolveRouter(in plan.Instance) (vrrp.Config, error) {
	ifi, err := a.host.Interface(in.Interface)
	if err != nil {
		return vrrp.Config{}, err
	}
	rc := in.Router
	rc.IfIndex = ifi.Index
	if !rc.Src.IsValid() {
		src, err := primaryAddr(in.Interface, ifi.Addrs, len(rc.Peers) == 0, in.Family)
		if err != nil {
			return vrrp.Config{}, err
		}
		rc.Src = src
	}
	return rc, nil
}

// primaryAddr picks the advert source among an interface's addresses: the
// first of the family; for IPv6 multicast the link-local one (RFC 5798
// §5.1.2.1), for IPv6 unicast a global one if any.
func primaryAddr(name string, addrs []netip.Addr, multicast bool, family int) (netip.Addr, error) {
	var fallback netip.Addr
	for _, ad := range addrs {
		if vrrp.Family(ad) != family {
			continue
		}
		if family == 6 && multicast {
			if ad.IsLinkLocalUnicast() {
				return ad, nil
			}
			continue
		}
		if family == 6 && ad.IsLinkLocalUnicast() {
			if !fallback.IsValid() {
				fallback = ad
			}
			continue
		}
		return ad, nil
	}
	if fallback.IsValid() {
		return fallback, nil
	}
	return netip.Addr{}, fmt.Errorf("interface %s has no IPv%d address to send adverts from", name, family)
}

type connSet map[int]vrrp.Conn

func (cs connSet) close() {
	for _, c := range cs {
		_ = c.Close()
	}
}

// buildDirector creates the LVS director when the plan has services or a
// sync daemon, and links it to the instances it follows.
func (a *agent) buildDirector() error {
	p := a.plan
	if len(p.Services) == 0 && p.SyncDaemon == nil {
		return nil
	}
	log := a.log.With("part", "lvs")
	var d *director.Director
	rec, err := a.host.IPVS(lvs.Config{Logger: log, OnQuorum: func(st lvs.ServiceState, up bool) { d.OnQuorum(st, up) }})
	if err != nil {
		return fmt.Errorf("lvs: %w (is the ip_vs module loaded?)", err)
	}
	var sd director.SyncDaemon
	if p.SyncDaemon != nil {
		if sd, err = a.host.SyncDaemon(); err != nil {
			rec.Close()
			return fmt.Errorf("lvs sync daemon: %w", err)
		}
	}
	d = director.New(log, rec, sd, director.Options{Services: p.Services, SyncDaemon: p.SyncDaemon, ScriptExec: a.scriptExec(),
		FlushAtStart: p.LVS.FlushAtStart, OnStop: p.LVS.OnStop, OnRealChange: a.realChanged})
	linked := map[string]bool{}
	if p.SyncDaemon != nil && p.SyncDaemon.Instance != "" {
		linked[p.SyncDaemon.Instance] = true
	}
	for _, svc := range p.Services {
		if svc.State.Instance != "" {
			linked[svc.State.Instance] = true
		}
	}
	for name := range linked {
		if in := a.byName[name]; in != nil {
			in.onTransition = append(in.onTransition, func(t vrrp.Transition) { d.Follow(t.Name, t.To == vrrp.Master) })
		}
	}
	a.director = d
	return nil
}

// scriptExec is how notify commands run: as script_user, refused when
// insecure with enable_script_security (keepalived applies both to them).
func (a *agent) scriptExec() notify.Exec {
	return notify.Exec{User: a.plan.Global.ScriptUser, Security: a.plan.Global.EnableScriptSecurity}
}

// realChanged sends the alert of a real server's health change.
func (a *agent) realChanged(svc plan.Service, r plan.Real, up bool) {
	if a.alerts == nil || !r.Alert {
		return
	}
	st := alert.StateDown
	if up {
		st = alert.StateUp
	}
	vs := alert.FWMService(svc.State.FWMark)
	if svc.State.FWMark == 0 {
		vs = alert.Service(svc.State.Address, strings.ToLower(svc.State.Protocol.String()))
	}
	a.alerts.Send(alert.Event{Kind: alert.KindRealServer, Name: alert.Service(r.Address, strings.ToLower(svc.State.Protocol.String())),
		VirtualServer: vs, State: st, Time: time.Now()})
}

// alertState is keepalived's name of a VRRP state in alerts.
func alertState(s vrrp.State) alert.State {
	switch s {
	case vrrp.Master:
		return alert.StateMaster
	case vrrp.Backup:
		return alert.StateBackup
	case vrrp.Fault:
		return alert.StateFault
	}
	return alert.StateStop
}

// higherMasterHeard reports whether a master that beats us was heard within
// the last three advert intervals (split-brain fencing).
func (in *instance) higherMasterHeard() bool {
	r := in.currentRouter()
	if r == nil {
		return false
	}
	st := r.Status()
	return !st.HigherMasterAt.IsZero() && time.Since(st.HigherMasterAt) < 3*r.Config().AdvertInterval+time.Second
}

// currentPlan is the instance's plan (a reload may change it in place).
func (in *instance) currentPlan() plan.Instance {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.plan
}

func (in *instance) currentRouter() *vrrp.Router {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.router
}

// buildSyncGroups sets up each sync group's notify commands (run on the
// group's first transition to each state).
func (a *agent) buildSyncGroups() {
	for _, sg := range a.plan.SyncGroups {
		gn := notify.New(a.log.With("group", sg.Name), notify.Group, sg.Name, sg.Notify)
		gn.SetExec(a.scriptExec())
		var (
			mu   sync.Mutex
			last vrrp.State
		)
		for _, name := range sg.Instances {
			if in := a.byName[name]; in != nil {
				in.onTransition = append(in.onTransition, func(t vrrp.Transition) {
					mu.Lock()
					defer mu.Unlock()
					if t.To != last {
						last = t.To
						gn.Transition(t.To, t.Priority)
						if a.alerts != nil && sg.Alert {
							a.alerts.Send(alert.Event{Kind: alert.KindSyncGroup, Name: sg.Name, State: alertState(t.To), Time: t.At})
						}
					}
				})
			}
		}
		a.groupNotifiers = append(a.groupNotifiers, gn)
	}
}

// joinSyncGroups ties the routers of each sync group; a member whose
// router could not start is left out, with an error naming it.
func (a *agent) joinSyncGroups() error {
	var errs []error
	for _, sg := range a.plan.SyncGroups {
		var rs []*vrrp.Router
		for _, name := range sg.Instances {
			in := a.byName[name]
			if r := in.currentRouter(); r != nil {
				rs = append(rs, r)
			} else {
				in.mu.Lock()
				why := in.waitErr
				in.mu.Unlock()
				errs = append(errs, fmt.Errorf("sync group %s: instance %s cannot start (%s), left out of the group", sg.Name, name, why))
			}
		}
		if len(rs) < 2 {
			continue
		}
		if _, err := vrrp.NewSyncGroup(sg.Name, rs...); err != nil {
			errs = append(errs, fmt.Errorf("sync group %s: %w", sg.Name, err))
		}
	}
	return errors.Join(errs...)
}
