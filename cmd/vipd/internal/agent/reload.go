package agent

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/vrrp"
)

// reloadRequest asks the goroutine in run to apply a new plan.
type reloadRequest struct {
	plan  *plan.Plan
	reply chan reloadResult
}

type reloadResult struct {
	summary string
	err     error
}

// ErrRestartNeeded wraps the changes a reload cannot apply to a running
// agent; the old configuration stays in force.
var ErrRestartNeeded = errors.New("restart vipd to apply")

// Reload applies plan p to the running agent with the least disruption (see
// reload) and returns its one-line summary. It waits until the agent has
// started.
func (a *agent) Reload(ctx context.Context, p *plan.Plan) (string, error) {
	req := reloadRequest{plan: p, reply: make(chan reloadResult, 1)}
	select {
	case a.reloads <- req:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	r := <-req.reply
	return r.summary, r.err
}

// reload applies np, as keepalived's reload does: an unchanged instance
// keeps its state, timers and VIPs; an instance whose VRRP settings, VIPs or
// notify commands changed is reconfigured in place (no transition; VIPs
// added or removed on a master are added or removed, the others not
// touched); one whose interface, VRID, version, provider, holder settings,
// tracks, BFD, routes or rules changed is replaced (the old one resigns with priority 0 and
// releases, the new one starts in BACKUP); a removed one resigns and
// releases; a new one starts in BACKUP. Services and checks are updated by
// difference. What cannot change while running (sync groups, the sync
// daemon, the status socket and metrics address, turning LVS on or off, an
// instance of a sync group being added or replaced) refuses the whole
// reload, leaving the old configuration in force. Called by run's goroutine
// only.
func (a *agent) reload(ctx context.Context, np *plan.Plan) reloadResult {
	op := a.plan
	var refuse []string
	if !reflect.DeepEqual(op.SyncGroups, np.SyncGroups) {
		refuse = append(refuse, "sync_groups changed")
	}
	if !reflect.DeepEqual(op.SyncDaemon, np.SyncDaemon) {
		refuse = append(refuse, "global.lvs_sync_daemon changed")
	}
	if op.Global.StatusSocket != np.Global.StatusSocket || op.Global.StatusSocketGroup != np.Global.StatusSocketGroup ||
		op.Global.MetricsListen != np.Global.MetricsListen {
		refuse = append(refuse, "global.status_socket, status_socket_group or metrics_listen changed")
	}
	if (a.director != nil) != (len(np.Services) > 0 || np.SyncDaemon != nil) {
		refuse = append(refuse, "virtual_servers added to or all removed from a running agent")
	}
	a.mu.RLock()
	old := map[string]*instance{}
	for _, in := range a.instances {
		old[in.plan.Name] = in
	}
	a.mu.RUnlock()

	var added, replaced, changed []plan.Instance
	unchanged := 0
	keep := map[string]bool{}
	for _, pi := range np.Instances {
		keep[pi.Name] = true
		in := old[pi.Name]
		switch {
		case in == nil:
			added = append(added, pi)
		case reflect.DeepEqual(in.plan, pi):
			unchanged++
		case liveChangeable(in.plan, pi):
			changed = append(changed, pi)
		default:
			replaced = append(replaced, pi)
		}
	}
	var removed []*instance
	for name, in := range old {
		if !keep[name] {
			removed = append(removed, in)
		}
	}
	for _, pi := range slices.Concat(added, replaced) {
		if pi.SyncGroup != "" {
			refuse = append(refuse, fmt.Sprintf("instance %s of sync group %s is new or replaced", pi.Name, pi.SyncGroup))
		}
	}
	if len(refuse) > 0 {
		a.metrics.reloads.WithLabelValues("refused").Inc()
		return reloadResult{err: fmt.Errorf("%w: %s", ErrRestartNeeded, strings.Join(refuse, "; "))}
	}

	// Build the new instances first: a provider that cannot be built fails
	// the reload before anything changed.
	var fresh []*instance
	for _, pi := range slices.Concat(added, replaced) {
		in, err := a.newInstance(ctx, pi)
		if err == nil {
			err = a.openConn(pi.Family)
		}
		if err == nil && pi.BFD != nil {
			err = a.openBFD()
		}
		if err != nil {
			for _, f := range fresh {
				f.closeProviders()
			}
			if in != nil {
				in.closeProviders()
			}
			a.metrics.reloads.WithLabelValues("failed").Inc()
			return reloadResult{err: err}
		}
		if a.director != nil {
			d := a.director
			in.onTransition = append(in.onTransition, func(t vrrp.Transition) { d.Follow(t.Name, t.To == vrrp.Master) })
		}
		fresh = append(fresh, in)
	}

	// Stop what goes: removed instances and the old side of replaced ones.
	for _, pi := range replaced {
		removed = append(removed, old[pi.Name])
	}
	for _, in := range removed {
		in.stop()
	}
	a.mu.Lock()
	a.instances = slices.DeleteFunc(a.instances, func(in *instance) bool { return slices.Contains(removed, in) })
	for _, in := range removed {
		delete(a.byName, in.plan.Name)
	}
	a.mu.Unlock()

	for _, pi := range changed {
		a.reconfigure(old[pi.Name], pi)
	}
	a.mu.Lock()
	a.plan = np
	a.reloaded++
	for _, in := range a.instances {
		in.notifier.SetExec(a.scriptExec()) // script_user / enable_script_security
	}
	for _, gn := range a.groupNotifiers {
		gn.SetExec(a.scriptExec())
	}
	a.instances = append(a.instances, fresh...)
	for _, in := range fresh {
		a.byName[in.plan.Name] = in
	}
	a.mu.Unlock()
	if err := a.tracks.update(a.auxCtx, np); err != nil {
		a.log.Error("reload: tracking", "err", err)
	}
	for _, in := range fresh {
		a.tracks.attach(in)
		a.newRouter(in, a.conns[in.plan.Family])
		a.startInstance(ctx, in)
	}
	var checksAdded, checksRemoved int
	if a.director != nil {
		checksAdded, checksRemoved = a.director.Update(np.Services)
		// An instance newly linked to a service may already be master.
		a.mu.RLock()
		for _, in := range a.instances {
			if r := in.currentRouter(); r != nil {
				a.director.Follow(in.plan.Name, r.Status().State == vrrp.Master)
			}
		}
		a.mu.RUnlock()
	}
	for _, w := range np.Warnings {
		a.log.Warn("configuration", "warning", w)
	}
	summary := fmt.Sprintf("instances: %d added, %d removed, %d replaced, %d changed, %d unchanged; services: %d; checks: %d added, %d removed",
		len(added), len(removed)-len(replaced), len(replaced), len(changed), unchanged, len(np.Services), checksAdded, checksRemoved)
	a.log.Info("configuration reloaded", "summary", summary)
	a.metrics.reloads.WithLabelValues("ok").Inc()
	return reloadResult{summary: summary}
}

// liveChangeable reports whether instance o can become n in place.
func liveChangeable(o, n plan.Instance) bool {
	return o.Interface == n.Interface && o.Family == n.Family && o.Router.VRID == n.Router.VRID &&
		o.Router.Version == n.Router.Version && o.SyncGroup == n.SyncGroup &&
		reflect.DeepEqual(o.Provider, n.Provider) && o.Holder == n.Holder && reflect.DeepEqual(o.Tracks, n.Tracks) &&
		reflect.DeepEqual(o.BFD, n.BFD) && reflect.DeepEqual(o.Routes, n.Routes) && reflect.DeepEqual(o.Rules, n.Rules)
}

// reconfigure changes an instance in place to pi.
func (a *agent) reconfigure(in *instance, pi plan.Instance) {
	a.mu.Lock()
	in.mu.Lock()
	in.plan = pi
	in.mu.Unlock()
	a.mu.Unlock()
	in.notifier.Set(pi.Notify)
	in.holder.SetVIPs(pi.VIPs)
	if r := in.currentRouter(); r != nil {
		rc, err := a.resolveRouter(pi)
		if err == nil {
			err = r.Reconfigure(rc)
		}
		if err != nil {
			in.log.Error("reload: instance not reconfigured", "err", err)
		}
	}
}
