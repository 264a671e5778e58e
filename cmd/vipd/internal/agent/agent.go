package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vipd/vipd/configs"
	"github.com/vipd/vipd/providers"
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
type agent struct {
	cfg       *configs.Config
	log       *slog.Logger
	startedAt time.Time
	instances []*instance
	byName    map[string]*instance
	metrics   *metrics
	lvs       *lvsPart // nil without virtual servers
	// wireDrops counts, per address family, packets dropped before they
	// could be matched to an instance (malformed, checksum, TTL, unknown VRID).
	wireDrops map[int]*vrrp.Counters
}

// instance is one VRRP instance with everything attached to it.
type instance struct {
	cfg      configs.Instance
	log      *slog.Logger
	family   int
	counters *vrrp.Counters
	router   *vrrp.Router // nil until its interface exists
	holder   *holder
	notifier *notifier
	provider string
	group    string
	// onTransition is called (after the holder and notifier) for every
	// transition: sync-group notification, LVS activation, sync daemon.
	onTransition []func(t vrrp.Transition)

	mu      sync.Mutex
	waitErr string                // why the router is not running (e.g. interface missing)
	tracks  map[string]trackValue // by track name
}

// Transition implements vrrp.Hooks.
func (in *instance) Transition(t vrrp.Transition) {
	in.holder.setMaster(t.To == vrrp.Master)
	state := t.To.String()
	if t.To == vrrp.Initialize && t.Reason == "stop" {
		state = "STOP"
	}
	in.notifier.notify(state, int(t.Priority))
	for _, f := range in.onTransition {
		f(t)
	}
}

// PeerMaster implements vrrp.Hooks: another master was heard while we are
// master; re-announce so switches and neighbours point at us again.
func (in *instance) PeerMaster(p vrrp.PeerInfo) {
	in.log.Warn("another master heard, re-announcing vips", "peer", p.Addr, "priority", p.Priority)
	in.holder.reannounce()
}

// Run runs the agent until ctx ends. On return every VIP this node held has
// been released (master instances send a priority-0 advert first).
func Run(ctx context.Context, cfg *configs.Config, log *slog.Logger) error {
	a := &agent{cfg: cfg, log: log, startedAt: time.Now(), byName: map[string]*instance{}, wireDrops: map[int]*vrrp.Counters{}}
	a.metrics = newMetrics(a)
	provs, err := a.buildInstances(ctx)
	if err != nil {
		return err
	}
	defer provs.close()
	if err := a.buildLVS(); err != nil {
		return err
	}

	// Servers and helpers live until every router has stopped and released.
	// One failing (say, the metrics listener) does not stop the others.
	auxCtx, auxCancel := context.WithCancel(context.Background())
	aux := &errgroup.Group{}
	stopAux := func() error { auxCancel(); return aux.Wait() }
	defer stopAux()
	if err := a.startServers(auxCtx, aux); err != nil {
		return err
	}

	conns, err := openConns(a.instances)
	if err != nil {
		return err
	}
	for fam := range conns {
		a.wireDrops[fam] = new(vrrp.Counters)
	}
	defer conns.close()
	muxes := map[int]*vrrp.Mux{}
	for fam, c := range conns {
		m := vrrp.NewMux(c, a.wireDrops[fam], log.With("family", fam))
		muxes[fam] = m
		aux.Go(func() error {
			if err := m.Run(auxCtx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("vrrp receive loop ended", "family", fam, "err", err)
			}
			return nil
		})
	}

	for _, in := range a.instances {
		aux.Go(func() error { in.holder.run(auxCtx); return nil })
		aux.Go(func() error { in.notifier.run(auxCtx); return nil })
	}
	if a.lvs != nil {
		aux.Go(func() error { return a.lvs.run(auxCtx) })
	}
	if err := a.startTracking(auxCtx, aux); err != nil {
		return err
	}
	// Create the routers whose interface exists now; the others wait for it.
	for _, in := range a.instances {
		a.newRouter(in, conns[in.family])
	}
	if err := a.buildSyncGroups(auxCtx, aux); err != nil {
		log.Error("sync groups", "err", err)
	}

	// Routers stop when ctx ends; each master sends priority 0 and releases.
	var routers sync.WaitGroup
	for _, in := range a.instances {
		// Remove VIPs a previous run left behind before anything can become master.
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		in.holder.cleanup(cctx)
		cancel()
		routers.Add(1)
		go func() {
			defer routers.Done()
			a.runInstance(ctx, in, conns[in.family], muxes[in.family])
		}()
	}
	log.Info("vipd started", "node", cfg.Global.Node, "instances", len(a.instances), "version", VersionString())
	<-ctx.Done()
	log.Info("vipd stopping")
	routers.Wait()
	// Let holders release (they see the final transitions first).
	for _, in := range a.instances {
		in.holder.setMaster(false)
	}
	err = stopAux()
	log.Info("vipd stopped")
	return err
}

// newRouter creates the instance's router if its interface exists; it
// reports whether it did, recording why not for `vipd status`.
func (a *agent) newRouter(in *instance, conn vrrp.Conn) bool {
	rcfg, err := routerConfig(in.cfg)
	if err == nil {
		var r *vrrp.Router
		r, err = vrrp.NewRouter(rcfg, conn, in, in.counters, in.log, vrrp.RealClock())
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
			in.log.Error("join vrrp multicast group failed", "iface", in.cfg.Interface, "err", err)
		}
	}
	unregister := mux.Register(rcfg.IfIndex, rcfg.VRID, in.family, r.Deliver)
	defer unregister()
	if err := r.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		in.log.Error("router stopped", "err", err)
	}
}

// startServers serves the status socket and metrics. The status socket is
// bound before it returns, so a second vipd fails at once.
func (a *agent) startServers(ctx context.Context, g *errgroup.Group) error {
	sock := a.cfg.Global.StatusSocket
	ready := make(chan error, 1)
	g.Go(func() error { return serveStatus(ctx, a.log, sock, a.status, ready) })
	if err := <-ready; err != nil {
		return err
	}
	if addr := a.cfg.Global.MetricsListen; addr != "" {
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

// routerConfig turns the instance config into a vrrp.Config, resolving the
// interface and the source address. It fails while the interface is missing.
func routerConfig(c configs.Instance) (vrrp.Config, error) {
	ifi, err := net.InterfaceByName(c.Interface)
	if err != nil {
		return vrrp.Config{}, fmt.Errorf("interface %s: %w", c.Interface, err)
	}
	rc := vrrp.Config{
		Name: c.Name, VRID: uint8(c.VRID), Version: uint8(c.Version), Priority: uint8(c.Priority),
		AdvertInterval: c.AdvertInterval, Preempt: c.Preempt, PreemptDelay: c.PreemptDelay,
		AcceptMode: c.Accept, InitialMaster: c.State == "MASTER", IfIndex: ifi.Index,
		Src: c.UnicastSrcIP, Peers: c.UnicastPeers, AuthPass: c.AuthPass,
	}
	for _, v := range c.VIPs {
		rc.VIPs = append(rc.VIPs, v.Addr())
	}
	if !rc.Src.IsValid() {
		src, err := primaryAddr(ifi, len(rc.Peers) == 0, instanceFamily(c))
		if err != nil {
			return vrrp.Config{}, err
		}
		rc.Src = src
	}
	return rc, nil
}

// primaryAddr picks the advert source on ifi: the first address of the
// family; for IPv6 multicast the link-local one (RFC 5798 §5.1.2.1).
func primaryAddr(ifi *net.Interface, multicast bool, family int) (netip.Addr, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("interface %s: %w", ifi.Name, err)
	}
	var fallback netip.Addr
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err != nil || vrrp.Family(p.Addr()) != family {
			continue
		}
		ad := p.Addr().Unmap()
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
	return netip.Addr{}, fmt.Errorf("interface %s has no IPv%d address to send adverts from", ifi.Name, family)
}

func instanceFamily(c configs.Instance) int {
	if len(c.VIPs) > 0 {
		return vrrp.Family(c.VIPs[0].Addr())
	}
	if c.UnicastSrcIP.IsValid() {
		return vrrp.Family(c.UnicastSrcIP)
	}
	return 4
}

type connSet map[int]vrrp.Conn

func (cs connSet) close() {
	for _, c := range cs {
		_ = c.Close()
	}
}

func openConns(ins []*instance) (connSet, error) {
	cs := connSet{}
	for _, in := range ins {
		if _, ok := cs[in.family]; ok {
			continue
		}
		var (
			c   vrrp.Conn
			err error
		)
		if in.family == 6 {
			c, err = vrrp.ListenIPv6()
		} else {
			c, err = vrrp.ListenIPv4()
		}
		if err != nil {
			cs.close()
			return nil, fmt.Errorf("vrrp socket (IPv%d): %w (vipd needs CAP_NET_RAW)", in.family, err)
		}
		cs[in.family] = c
	}
	return cs, nil
}

// buildInstances creates the instances and their providers.
func (a *agent) buildInstances(ctx context.Context) (*providerSet, error) {
	ps := newProviderSet(a.log)
	for _, c := range a.cfg.Instances {
		log := a.log.With("instance", c.Name)
		in := &instance{cfg: c, log: log, family: instanceFamily(c), counters: new(vrrp.Counters)}
		local, cloud, err := ps.forInstance(ctx, c)
		if err != nil {
			ps.close()
			return nil, fmt.Errorf("instance %s: %w", c.Name, err)
		}
		in.provider = c.Provider.Type
		if in.provider == "" {
			in.provider = configs.ProviderNetlink
		}
		var vips []providers.VIP
		for _, v := range c.VIPs {
			vips = append(vips, providers.VIP{Prefix: v, Interface: c.Interface})
		}
		h := newHolder(log, vips, local, cloud)
		p := c.Provider
		if p.Backoff.Initial > 0 {
			h.backoff.Initial = p.Backoff.Initial
		}
		if p.Backoff.Max > 0 {
			h.backoff.Max = p.Backoff.Max
		}
		if p.CallTimeout > 0 {
			h.callTimeout = p.CallTimeout
		}
		h.driftInterval = p.DriftCheckInterval
		h.garpRefresh = c.GARP.MasterRefresh
		h.garpDelay = c.GARP.MasterDelay
		if p.Fence {
			h.fenced = in.higherMasterHeard
		}
		h.onConfirm = a.metrics.observeConfirm(c.Name)
		in.holder = h
		in.notifier = newNotifier(log, "INSTANCE", c.Name, c.Notify, map[string]string{
			"MASTER": c.NotifyMaster, "BACKUP": c.NotifyBackup, "FAULT": c.NotifyFault, "STOP": c.NotifyStop,
		})
		in.onTransition = append(in.onTransition, a.metrics.countTransition)
		a.instances = append(a.instances, in)
		a.byName[c.Name] = in
	}
	return ps, nil
}

// higherMasterHeard reports whether a master that beats us was heard within
// the last three advert intervals (split-brain fencing).
func (in *instance) higherMasterHeard() bool {
	r := in.currentRouter()
	if r == nil {
		return false
	}
	st := r.Status()
	return !st.HigherMasterAt.IsZero() && time.Since(st.HigherMasterAt) < 3*in.cfg.AdvertInterval+time.Second
}

func (in *instance) currentRouter() *vrrp.Router {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.router
}

// buildSyncGroups ties instances that fail over together. Routers of a group
// must exist, so it waits (bounded) for them to start.
func (a *agent) buildSyncGroups(ctx context.Context, g *errgroup.Group) error {
	var errs []error
	for _, sg := range a.cfg.SyncGroups {
		var rs []*vrrp.Router
		for _, name := range sg.Instances {
			in := a.byName[name]
			if in == nil {
				errs = append(errs, fmt.Errorf("sync group %s: unknown instance %s", sg.Name, name))
				continue
			}
			if r := in.currentRouter(); r != nil {
				rs = append(rs, r)
				in.group = sg.Name
			} else {
				errs = append(errs, fmt.Errorf("sync group %s: instance %s cannot start (%s), left out of the group", sg.Name, name, in.waitErr))
			}
		}
		if len(rs) < 2 {
			continue
		}
		if _, err := vrrp.NewSyncGroup(sg.Name, rs...); err != nil {
			errs = append(errs, fmt.Errorf("sync group %s: %w", sg.Name, err))
			continue
		}
		gn := newNotifier(a.log.With("group", sg.Name), "GROUP", sg.Name, "", map[string]string{
			"MASTER": sg.NotifyMaster, "BACKUP": sg.NotifyBackup, "FAULT": sg.NotifyFault,
		})
		var (
			mu   sync.Mutex
			last vrrp.State
		)
		for _, name := range sg.Instances {
			if in := a.byName[name]; in != nil && in.group == sg.Name {
				in.onTransition = append(in.onTransition, func(t vrrp.Transition) {
					mu.Lock()
					defer mu.Unlock()
					if t.To != last {
						last = t.To
						gn.notify(t.To.String(), int(t.Priority))
					}
				})
			}
		}
		g.Go(func() error { gn.run(ctx); return nil })
	}
	return errors.Join(errs...)
}
