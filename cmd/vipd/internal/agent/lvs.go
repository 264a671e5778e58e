package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vipd/vipd/checks"
	"github.com/vipd/vipd/configs"
	"github.com/vipd/vipd/lvs"
	"github.com/vipd/vipd/vrrp"
)

// lvsPart runs the LVS virtual services: it health-checks the real servers
// (one checks.Scheduler for all), turns config + health into the desired
// IPVS state, hands it to the reconciler, follows the linked VRRP instances
// and drives the connection sync daemon. Kernel calls run on its own
// goroutine, never on a VRRP router's.
type lvsPart struct {
	log    *slog.Logger
	cfg    *configs.Config
	rec    *lvs.Reconciler
	sched  *checks.Scheduler
	checks map[realKey][]string // check ids of each real server
	quorum *notifier            // runs quorum_up / quorum_down

	syncD    *lvs.SyncConn // nil without lvs_sync_daemon
	syncInst string
	syncWant lvs.SyncState // the role the sync daemon must have
	syncOK   bool          // it has it (else retried every second)

	dirty  chan struct{}
	events chan vrrp.Transition // transitions of instances LVS cares about
}

// realKey names one configured real server: virtual server i, real server j.
type realKey struct{ vs, rs int }

func (a *agent) buildLVS() error {
	if len(a.cfg.VirtualServers) == 0 && a.cfg.Global.LVSSyncDaemon.Interface == "" {
		return nil
	}
	l := &lvsPart{
		log: a.log.With("part", "lvs"), cfg: a.cfg, checks: map[realKey][]string{},
		dirty: make(chan struct{}, 1), events: make(chan vrrp.Transition, 64),
	}
	l.quorum = newNotifier(l.log, "SERVICE", "quorum", "", nil)
	rec, err := lvs.NewKernelReconciler("", lvs.Config{Logger: l.log, OnQuorum: l.onQuorum})
	if err != nil {
		return fmt.Errorf("lvs: %w (is the ip_vs module loaded?)", err)
	}
	l.rec = rec
	l.sched = checks.NewScheduler(a.log.With("part", "checks"))
	if err := l.addChecks(); err != nil {
		rec.Close()
		return err
	}
	if sd := a.cfg.Global.LVSSyncDaemon; sd.Interface != "" {
		c, err := lvs.OpenSync(0)
		if err != nil {
			rec.Close()
			return err
		}
		l.syncD, l.syncInst = c, sd.Instance
	}
	// Transitions of linked instances reach the LVS goroutine as events.
	linked := map[string]bool{l.syncInst: l.syncInst != ""}
	for _, vs := range a.cfg.VirtualServers {
		if vs.VRRPInstance != "" {
			linked[vs.VRRPInstance] = true
		}
	}
	for name := range linked {
		if in := a.byName[name]; in != nil {
			in.onTransition = append(in.onTransition, func(t vrrp.Transition) {
				select {
				case l.events <- t:
				default:
					l.log.Error("lvs event queue full, transition dropped", "instance", t.Name, "to", t.To.String())
				}
			})
		}
	}
	a.lvs = l
	return nil
}

// addChecks registers every real server's checks with the scheduler.
func (l *lvsPart) addChecks() error {
	g := l.cfg.Global
	for i, vs := range l.cfg.VirtualServers {
		for j, rs := range vs.RealServers {
			for k, c := range rs.Checks {
				id := fmt.Sprintf("vs%d/rs%d/%s%d", i, j, c.Type, k)
				ck, err := newChecker(c, rs.Address, g)
				if err != nil {
					return fmt.Errorf("virtual_servers[%d].real_servers[%d].checks[%d]: %w", i, j, k, err)
				}
				interval := c.DelayLoop
				if interval == 0 {
					interval = vs.DelayLoop
				}
				l.sched.Add(id, ck, checks.Params{Interval: interval, Timeout: c.ConnectTimeout, Retry: c.Retry,
					DelayBeforeRetry: c.DelayBeforeRetry, Rise: c.Rise, Fall: c.Fall, InitialUp: true},
					func(string, checks.State) { l.markDirty() })
				l.checks[realKey{i, j}] = append(l.checks[realKey{i, j}], id)
			}
		}
	}
	return nil
}

// newChecker builds the checker of one configured check of real server rs.
func newChecker(c configs.Check, rs netip.AddrPort, g configs.Global) (checks.Checker, error) {
	ip, port := rs.Addr(), rs.Port()
	if c.ConnectIP.IsValid() {
		ip = c.ConnectIP
	}
	if c.ConnectPort != 0 {
		port = uint16(c.ConnectPort)
	}
	target := netip.AddrPortFrom(ip, port)
	switch c.Type {
	case configs.CheckTCP:
		return checks.NewTCPChecker(target), nil
	case configs.CheckHTTP, configs.CheckHTTPS:
		return checks.NewHTTPChecker(checks.HTTPConfig{Target: target, TLS: c.Type == configs.CheckHTTPS, Path: c.Path,
			StatusCodes: c.StatusCodes, Digest: c.Digest, VirtualHost: c.VirtualHost, TLSVerify: c.TLSVerify,
			Timeout: c.ConnectTimeout})
	case configs.CheckMisc:
		user := c.User
		if user == "" {
			user = g.ScriptUser
		}
		return checks.NewExecChecker(checks.ExecConfig{Command: c.Command, Timeout: c.ConnectTimeout,
			Dynamic: c.Dynamic, User: user, Security: g.EnableScriptSecurity})
	case configs.CheckDNS:
		if c.ConnectPort == 0 {
			target = netip.AddrPortFrom(ip, 53)
		}
		return checks.NewDNSChecker(checks.DNSConfig{Server: target, Name: c.QueryName, Type: c.QueryType, Timeout: c.ConnectTimeout})
	case configs.CheckUDP:
		return checks.NewUDPChecker(checks.UDPConfig{Target: target, Send: []byte(c.Send), Expect: []byte(c.Expect),
			RequireReply: c.Expect != "", Timeout: c.ConnectTimeout})
	}
	return nil, fmt.Errorf("check type %q is not known", c.Type)
}

func (l *lvsPart) markDirty() {
	select {
	case l.dirty <- struct{}{}:
	default:
	}
}

// onQuorum runs quorum_up / quorum_down off the reconciler's goroutine.
func (l *lvsPart) onQuorum(st lvs.ServiceState, up bool) {
	l.log.Warn("service quorum changed", "service", st.Key(), "up", up)
	cmd := st.QuorumDown
	if up {
		cmd = st.QuorumUp
	}
	l.quorum.command(cmd)
}

// desired is the IPVS state the config and the current health ask for.
func (l *lvsPart) desired() []lvs.ServiceState {
	var out []lvs.ServiceState
	groups := map[string][]string{}
	for _, g := range l.cfg.VirtualServerGroups {
		groups[g.Name] = g.Members
	}
	for i, vs := range l.cfg.VirtualServers {
		st, err := serviceState(vs)
		if err != nil { // validated at load; kept for safety
			l.log.Error("virtual server skipped", "index", i, "err", err)
			continue
		}
		for j := range vs.RealServers {
			h, w := l.realHealth(realKey{i, j})
			st.Reals[j].Healthy = h
			if w != nil {
				st.Reals[j].Weight = *w
			}
		}
		if vs.Group != "" {
			out = append(out, lvs.ExpandGroup(st, groupMembers(groups[vs.Group]))...)
			continue
		}
		out = append(out, st)
	}
	return out
}

// realHealth: a real server is healthy when all its checks are up; a
// dynamic MISC_CHECK's weight overrides the configured weight.
func (l *lvsPart) realHealth(k realKey) (bool, *int) {
	var w *int
	for _, id := range l.checks[k] {
		st, ok := l.sched.State(id)
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

// serviceState converts one configured virtual server (health not applied).
func serviceState(vs configs.VirtualServer) (lvs.ServiceState, error) {
	var st lvs.ServiceState
	var err error
	st.Address, st.FWMark = vs.Address, vs.FWMark
	if st.Protocol, err = lvs.ParseProtocol(vs.Protocol); err != nil {
		return st, err
	}
	st.Scheduler = vs.Scheduler
	if st.SchedFlags, err = lvs.ParseSchedFlags(vs.Scheduler, vs.SchedulerFlags); err != nil {
		return st, err
	}
	if st.Forwarding, err = lvs.ParseForwarding(vs.Forwarding); err != nil {
		return st, err
	}
	st.Persistence = vs.PersistenceTimeout
	if st.Netmask, err = configs.ParseGranularity(vs.PersistenceGranularity); err != nil {
		return st, err
	}
	if vs.FWMark != 0 {
		st.Family = lvs.IPv4
		if len(vs.RealServers) > 0 && vs.RealServers[0].Address.Addr().Is6() {
			st.Family = lvs.IPv6
		}
	}
	st.Sorry, st.Quorum, st.Hysteresis = vs.SorryServer, vs.Quorum, vs.Hysteresis
	st.Instance, st.QuorumUp, st.QuorumDown = vs.VRRPInstance, vs.QuorumUp, vs.QuorumDown
	for _, rs := range vs.RealServers {
		r := lvs.RealState{Real: lvs.Real{Address: rs.Address, Weight: rs.Weight,
			UpperThreshold: uint32(rs.UpperThreshold), LowerThreshold: uint32(rs.LowerThreshold)}, Healthy: true}
		if rs.Forwarding != "" {
			if r.Forwarding, err = lvs.ParseForwarding(rs.Forwarding); err != nil {
				return st, err
			}
		}
		r.InhibitOnFailure = vs.InhibitOnFailure
		if rs.InhibitOnFailure != nil {
			r.InhibitOnFailure = *rs.InhibitOnFailure
		}
		st.Reals = append(st.Reals, r)
	}
	return st, nil
}

// groupMembers expands virtual_server_group members, ranges included.
func groupMembers(members []string) []lvs.GroupMember {
	var out []lvs.GroupMember
	for _, m := range members {
		first, last, fwm, err := configs.ParseGroupMember(m)
		if err != nil {
			continue // validated at load
		}
		if fwm != 0 {
			out = append(out, lvs.GroupMember{FWMark: fwm})
			continue
		}
		for a := first.Addr(); ; a = a.Next() {
			out = append(out, lvs.GroupMember{Address: netip.AddrPortFrom(a, first.Port())})
			if a == last.Addr() || !a.IsValid() {
				break
			}
		}
	}
	return out
}

// run owns every kernel call: reconcile on health changes, follow VRRP,
// resync periodically; on stop, flush (lvs_flush) and stop the sync daemon.
func (l *lvsPart) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return l.sched.Run(gctx) })
	g.Go(func() error { l.quorum.run(gctx); return nil })
	if l.syncD != nil {
		l.switchSync(ctx, lvs.SyncBackup)
	}
	l.reconcile(ctx)
	resync := time.NewTicker(60 * time.Second)
	defer resync.Stop()
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-l.dirty:
			l.reconcile(ctx)
		case t := <-l.events:
			l.follow(ctx, t)
		case <-retry.C:
			if l.syncD != nil && !l.syncOK {
				l.switchSync(ctx, l.syncWant)
			}
		case <-resync.C:
			if err := l.rec.Resync(ctx); err != nil && ctx.Err() == nil {
				l.log.Error("ipvs resync failed", "err", err)
			}
		}
	}
	stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if l.cfg.Global.LVSFlush {
		if err := l.rec.Flush(stop); err != nil {
			l.log.Error("lvs flush failed", "err", err)
		} else {
			l.log.Info("lvs services flushed")
		}
	}
	if l.syncD != nil {
		for _, s := range []lvs.SyncState{lvs.SyncMaster, lvs.SyncBackup} {
			_ = l.syncD.StopSyncDaemon(stop, s)
		}
		_ = l.syncD.Close()
	}
	l.rec.Close()
	return g.Wait()
}

func (l *lvsPart) reconcile(ctx context.Context) {
	if err := l.rec.Reconcile(ctx, l.desired()); err != nil && ctx.Err() == nil {
		l.log.Error("ipvs reconcile failed", "err", err)
	}
}

// follow applies a transition of a linked VRRP instance.
func (l *lvsPart) follow(ctx context.Context, t vrrp.Transition) {
	master := t.To == vrrp.Master
	if err := l.rec.SetActive(ctx, t.Name, master); err != nil && ctx.Err() == nil {
		l.log.Error("ipvs activate failed", "instance", t.Name, "master", master, "err", err)
	}
	if l.syncD != nil && t.Name == l.syncInst {
		state := lvs.SyncBackup
		if master {
			state = lvs.SyncMaster
		}
		l.switchSync(ctx, state)
	}
}

// switchSync gives the sync daemon the role state; on failure the run loop
// retries every second until it has it (a backup without its daemon would
// drop every live connection at the next failover).
func (l *lvsPart) switchSync(ctx context.Context, state lvs.SyncState) {
	sd := l.cfg.Global.LVSSyncDaemon
	retrying := l.syncWant == state && !l.syncOK
	l.syncWant, l.syncOK = state, false
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := l.syncD.SwitchSyncDaemon(cctx, state, sd.Interface, uint8(sd.SyncID)); err != nil {
		if !retrying {
			l.log.Error("ipvs sync daemon switch failed, retrying every second", "state", state.String(), "iface", sd.Interface, "err", err)
		}
		return
	}
	l.syncOK = true
	l.log.Info("ipvs sync daemon running", "state", state.String(), "iface", sd.Interface, "sync_id", sd.SyncID)
}

// status reports services with their real servers' health, weights and
// connection counts.
func (l *lvsPart) status() []ServiceStatus {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sts, err := l.rec.Status(ctx)
	if err != nil {
		l.log.Warn("ipvs status failed", "err", err)
	}
	reasons := l.checkReasons()
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
func (l *lvsPart) checkReasons() map[netip.AddrPort]string {
	out := map[netip.AddrPort]string{}
	keys := make([]realKey, 0, len(l.checks))
	for k := range l.checks {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].vs < keys[j].vs || keys[i].vs == keys[j].vs && keys[i].rs < keys[j].rs
	})
	for _, k := range keys {
		var why []string
		for _, id := range l.checks[k] {
			if st, ok := l.sched.State(id); ok && !st.Up {
				why = append(why, st.Reason)
			}
		}
		if len(why) > 0 {
			out[l.cfg.VirtualServers[k.vs].RealServers[k.rs].Address] = strings.Join(why, "; ")
		}
	}
	return out
}
