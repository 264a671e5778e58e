//go:build linux

package lvs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/moby/ipvs"
)

// kService is the cached kernel state of one owned service.
type kService struct {
	params svcParams
	dests  map[netip.AddrPort]dstParams
}

// wantService is the kernel state one ServiceState asks for.
type wantService struct {
	params svcParams
	dests  map[netip.AddrPort]dstParams
}

type quorumEvent struct {
	st ServiceState
	up bool
}

// Reconciler programs IPVS so that it matches the desired state, touching
// only the services it owns (see the package doc). Its methods are safe for
// concurrent use; they are serialized.
type Reconciler struct {
	h        ipvsHandle
	closer   func()
	log      *slog.Logger
	m        *Metrics
	onQuorum func(ServiceState, bool)

	mu     sync.Mutex
	table  map[ServiceKey]*kService // cached kernel view of owned services; nil: read the kernel first
	owned  map[ServiceKey]bool
	quorum map[ServiceKey]bool // quorum up, per desired service
	active map[string]bool     // VRRP instances that are master
	last   []ServiceState      // desired state of the last Reconcile
}

// NewReconciler returns a reconciler over h: an *ipvs.Handle (OpenKernel)
// or an lvstest.Fake.
func NewReconciler(h ipvsHandle, cfg Config) *Reconciler {
	r := &Reconciler{
		h: h, log: cfg.Logger, m: cfg.Metrics, onQuorum: cfg.OnQuorum,
		owned: map[ServiceKey]bool{}, quorum: map[ServiceKey]bool{}, active: map[string]bool{},
	}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if r.m == nil {
		r.m = &Metrics{}
	}
	return r
}

// NewKernelReconciler opens the kernel's IPVS table in the network
// namespace at netnsPath ("" for the current one) and returns a reconciler
// over it. Close releases the handle.
func NewKernelReconciler(netnsPath string, cfg Config) (*Reconciler, error) {
	h, err := OpenKernel(netnsPath)
	if err != nil {
		return nil, err
	}
	r := NewReconciler(h, cfg)
	r.closer = h.Close
	return r, nil
}

// Close releases the kernel handle of NewKernelReconciler; it leaves the
// kernel table as it is (call Flush first for lvs_flush). Safe to call more
// than once.
func (r *Reconciler) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closer != nil {
		r.closer()
		r.closer = nil
	}
}

// Run calls Resync every interval until ctx is done, repairing changes
// made to owned services behind vipd's back; errors are logged and counted
// (Metrics). It returns ctx's error.
func (r *Reconciler) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if err := r.Resync(ctx); err != nil && ctx.Err() == nil {
				r.log.Error("lvs resync failed", "err", err)
			}
		}
	}
}

// Status reports every desired service with its real servers, their
// health, programmed weights and connection counts (one destination read
// per programmed service).
func (r *Reconciler) Status(ctx context.Context) ([]ServiceStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ServiceStatus, 0, len(r.last))
	var errs []error
	for _, st := range r.last {
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("lvs: status: %w", err)
		}
		k := st.Key()
		ss := ServiceStatus{Service: k.String(), Scheduler: st.scheduler(), Instance: st.Instance, QuorumUp: r.quorum[k]}
		kernel := map[netip.AddrPort]*ipvs.Destination{}
		if ks, ok := r.table[k]; ok {
			ss.Programmed = true
			ds, err := r.getDests(toIPVS(k, ks.params))
			if err != nil {
				errs = append(errs, fmt.Errorf("%v: %w", k, err))
			}
			for _, d := range ds {
				if a, _, ok := fromIPVSDest(d); ok {
					kernel[a] = d
				}
			}
		}
		add := func(a netip.AddrPort, weight int, healthy, sorry bool) {
			rs := RealStatus{Address: a, Weight: weight, KernelWeight: -1, Healthy: healthy, Sorry: sorry}
			if d, ok := kernel[a]; ok {
				rs.KernelWeight, rs.ActiveConns, rs.InactConns = d.Weight, d.ActiveConnections, d.InactiveConnections
			}
			ss.Reals = append(ss.Reals, rs)
		}
		for _, rs := range st.Reals {
			add(rs.Address, rs.Weight, rs.Healthy, false)
		}
		if st.Sorry.IsValid() {
			add(st.Sorry, 1, false, true)
		}
		out = append(out, ss)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("lvs: status: %w", errors.Join(errs...))
	}
	return out, nil
}

// Metrics returns the reconciler's kernel call counters.
func (r *Reconciler) Metrics() *Metrics { return r.m }

// Reconcile makes the owned part of the kernel table match desired and
// remembers desired for SetActive and Resync. A service whose Instance is
// not master (SetActive) is removed from the kernel. On a kernel error it
// still applies what it can, returns the errors joined, and re-reads the
// kernel on the next call.
func (r *Reconciler) Reconcile(ctx context.Context, desired []ServiceState) error {
	if err := ValidateStates(desired); err != nil {
		return fmt.Errorf("lvs: reconcile: %w", err)
	}
	r.mu.Lock()
	r.last = slices.Clone(desired)
	events, err := r.reconcileLocked(ctx)
	r.mu.Unlock()
	r.fire(events)
	return err
}

// SetActive records whether the VRRP instance is master and re-applies the
// last desired state: services linked to an instance are programmed only
// while it is master, and left untouched until its first SetActive.
func (r *Reconciler) SetActive(ctx context.Context, instance string, active bool) error {
	r.mu.Lock()
	if cur, known := r.active[instance]; known && cur == active {
		r.mu.Unlock()
		return nil
	}
	r.active[instance] = active
	var events []quorumEvent
	var err error
	if r.last != nil {
		events, err = r.reconcileLocked(ctx)
	}
	r.mu.Unlock()
	r.fire(events)
	return err
}

// Resync re-reads the kernel table and re-applies the last desired state,
// repairing changes made behind vipd's back.
func (r *Reconciler) Resync(ctx context.Context) error {
	r.mu.Lock()
	r.table = nil
	var events []quorumEvent
	var err error
	if r.last != nil {
		events, err = r.reconcileLocked(ctx)
	}
	r.mu.Unlock()
	r.fire(events)
	return err
}

// Flush is RemoveOwned without extra keys: it deletes every service vipd
// owns and nothing else.
func (r *Reconciler) Flush(ctx context.Context) error { return r.RemoveOwned(ctx) }

// RemoveOwned deletes every service vipd owns, with its real servers, and
// nothing else: what this Reconciler programmed or adopted, the services of
// the last desired state that exist in the kernel, and those with the
// given keys (for `vipd cleanup`, which knows the configuration but not
// what a crashed process programmed). This is keepalived's behaviour on
// stop, and vipd's default.
func (r *Reconciler) RemoveOwned(ctx context.Context, keys ...ServiceKey) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.table == nil || len(keys) > 0 {
		want := r.desiredKeys()
		for _, k := range keys {
			want[k] = true
		}
		if err := r.refreshLocked(want); err != nil {
			return fmt.Errorf("lvs: remove owned: %w", err)
		}
	}
	var errs []error
	for _, k := range sortedKeys(r.table) {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if err := r.delService(k, r.table[k].params); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(r.table, k)
		delete(r.owned, k)
	}
	if len(errs) > 0 {
		r.table = nil
		return fmt.Errorf("lvs: remove owned: %w", errors.Join(errs...))
	}
	r.log.Info("lvs owned services removed")
	return nil
}

// FlushAll deletes every virtual service in the kernel table, vipd's or
// not, as keepalived's lvs_flush does at start (and lvs_flush_onstop at
// stop): one kernel read, then one delete per service. Afterwards nothing
// is owned; the next Reconcile re-reads the kernel and programs the
// desired state from scratch.
func (r *Reconciler) FlushAll(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.table = nil // whatever happens, re-read the kernel next time
	svcs, err := r.getServices()
	if err != nil {
		return fmt.Errorf("lvs: flush all: %w", err)
	}
	var errs []error
	for _, s := range svcs {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		k, _, _ := fromIPVS(s)
		if err := r.call("delete service", k, netip.AddrPort{}, func() error { return r.h.DelService(s) }, &r.m.delService); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(r.owned, k)
	}
	if len(errs) > 0 {
		return fmt.Errorf("lvs: flush all: %w", errors.Join(errs...))
	}
	r.log.Info("lvs table flushed", "services", len(svcs))
	return nil
}

func (r *Reconciler) fire(events []quorumEvent) {
	for _, e := range events {
		if e.up {
			r.log.Info("quorum gained", "vip", e.st.Key().String())
		} else {
			r.log.Warn("quorum lost", "vip", e.st.Key().String())
		}
		if r.onQuorum != nil {
			r.onQuorum(e.st, e.up)
		}
	}
}

func (r *Reconciler) desiredKeys() map[ServiceKey]bool {
	keys := make(map[ServiceKey]bool, len(r.last))
	for _, st := range r.last {
		keys[st.Key()] = true
	}
	return keys
}

// refreshLocked reads the kernel table: every service in keys or already
// owned becomes owned (adopted) and cached with its destinations.
func (r *Reconciler) refreshLocked(keys map[ServiceKey]bool) error {
	svcs, err := r.getServices()
	if err != nil {
		return err
	}
	table := make(map[ServiceKey]*kService, len(keys))
	for _, s := range svcs {
		k, p, ok := fromIPVS(s)
		if !ok || !(keys[k] || r.owned[k]) {
			continue
		}
		ds, err := r.getDests(s)
		if err != nil {
			return err
		}
		ks := &kService{params: p, dests: make(map[netip.AddrPort]dstParams, len(ds))}
		for _, d := range ds {
			if a, dp, ok := fromIPVSDest(d); ok {
				ks.dests[a] = dp
			}
		}
		table[k] = ks
		if !r.owned[k] {
			r.log.Debug("service adopted", "vip", k.String())
			r.owned[k] = true
		}
	}
	r.table = table
	return nil
}

// plan computes the wanted kernel state and updates the quorum states.
// Services linked to a VRRP instance whose state SetActive has not reported
// yet are frozen: left as they are in the kernel, neither created nor
// deleted, so a restarted vipd does not drop a master's services before its
// VRRP instance has decided.
func (r *Reconciler) plan(desired []ServiceState) (want map[ServiceKey]wantService, frozen map[ServiceKey]bool, events []quorumEvent) {
	want = make(map[ServiceKey]wantService, len(desired))
	frozen = map[ServiceKey]bool{}
	seen := make(map[ServiceKey]bool, len(desired))
	for _, st := range desired {
		k := st.Key()
		seen[k] = true
		up := r.evalQuorum(k, st, &events)
		if st.Instance != "" {
			active, known := r.active[st.Instance]
			if !known {
				frozen[k] = true
				continue
			}
			if !active {
				continue
			}
		}
		w := wantService{params: st.params(), dests: make(map[netip.AddrPort]dstParams, len(st.Reals)+1)}
		sorry := !up && st.Sorry.IsValid()
		for _, rs := range st.Reals {
			p := dstParams{Weight: rs.Weight, Forwarding: rs.Forwarding, Upper: rs.UpperThreshold, Lower: rs.LowerThreshold}
			if p.Forwarding == ForwardDefault {
				p.Forwarding = st.forwarding()
			}
			switch {
			case rs.Healthy && !sorry:
			case rs.InhibitOnFailure:
				p.Weight = 0
			default:
				continue
			}
			w.dests[rs.Address] = p
		}
		if sorry {
			w.dests[st.Sorry] = dstParams{Weight: 1, Forwarding: st.forwarding()}
		}
		want[k] = w
	}
	for k := range r.quorum {
		if !seen[k] {
			delete(r.quorum, k)
		}
	}
	return want, frozen, events
}

// evalQuorum updates the quorum state of k from the healthy weights.
func (r *Reconciler) evalQuorum(k ServiceKey, st ServiceState, events *[]quorumEvent) bool {
	sum := 0
	for _, rs := range st.Reals {
		if rs.Healthy {
			sum += rs.Weight
		}
	}
	q := max(st.Quorum, 1)
	up, known := r.quorum[k]
	switch {
	case !known:
		up = sum >= q
		if !up {
			*events = append(*events, quorumEvent{st: st, up: false})
		}
	case up && sum < q-st.Hysteresis:
		up = false
		*events = append(*events, quorumEvent{st: st, up: false})
	case !up && sum >= q+st.Hysteresis:
		up = true
		*events = append(*events, quorumEvent{st: st, up: true})
	}
	r.quorum[k] = up
	return up
}

func (r *Reconciler) reconcileLocked(ctx context.Context) ([]quorumEvent, error) {
	want, frozen, events := r.plan(r.last)
	if r.table == nil {
		keys := r.desiredKeys()
		if err := r.refreshLocked(keys); err != nil {
			return events, fmt.Errorf("lvs: reconcile: %w", err)
		}
	}
	before := r.m.Snapshot()
	var errs []error
	// Services vipd owns that are no longer wanted.
	for _, k := range sortedKeys(r.table) {
		if _, ok := want[k]; ok || frozen[k] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return events, fmt.Errorf("lvs: reconcile: %w", err)
		}
		if err := r.delService(k, r.table[k].params); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(r.table, k)
	}
	for _, k := range sortedKeys(want) {
		if err := ctx.Err(); err != nil {
			return events, fmt.Errorf("lvs: reconcile: %w", err)
		}
		if err := r.applyService(k, want[k]); err != nil {
			errs = append(errs, err)
		}
	}
	owned := make(map[ServiceKey]bool, len(want)+len(r.table))
	for _, st := range r.last {
		owned[st.Key()] = true
	}
	for k := range r.table {
		owned[k] = true
	}
	r.owned = owned
	if d := r.m.Snapshot().Sub(before); d.Writes() > 0 {
		r.log.Info("lvs reconciled", "reason", fmt.Sprintf("%d kernel changes, %d errors", d.Writes(), d.Errors))
	}
	if len(errs) > 0 {
		r.table = nil // re-read the kernel next time
		return events, fmt.Errorf("lvs: reconcile: %w", errors.Join(errs...))
	}
	return events, nil
}

// applyService brings one service to w with the fewest calls: create it if
// missing, update its parameters in place, then add/update destinations
// before deleting the unwanted ones (never an empty service in between).
func (r *Reconciler) applyService(k ServiceKey, w wantService) error {
	ks, ok := r.table[k]
	if ok && ks.params == w.params && maps.Equal(ks.dests, w.dests) {
		return nil // the common case: nothing to do
	}
	if !ok {
		if err := r.call("new service", k, netip.AddrPort{}, func() error { return r.h.NewService(toIPVS(k, w.params)) }, &r.m.newService); err != nil {
			return err
		}
		ks = &kService{params: w.params, dests: map[netip.AddrPort]dstParams{}}
		r.table[k] = ks
	} else if ks.params != w.params {
		if err := r.call("update service", k, netip.AddrPort{}, func() error { return r.h.UpdateService(toIPVS(k, w.params)) }, &r.m.updateService); err != nil {
			return err
		}
		ks.params = w.params
	}
	svc := toIPVS(k, ks.params)
	var errs []error
	for _, a := range sortedAddrs(w.dests) {
		p := w.dests[a]
		cur, ok := ks.dests[a]
		switch {
		case !ok:
			if err := r.call("new destination", k, a, func() error { return r.h.NewDestination(svc, toIPVSDest(a, p)) }, &r.m.newDest); err != nil {
				errs = append(errs, err)
				continue
			}
		case cur != p:
			if err := r.call("update destination", k, a, func() error { return r.h.UpdateDestination(svc, toIPVSDest(a, p)) }, &r.m.updateDest); err != nil {
				errs = append(errs, err)
				continue
			}
		default:
			continue
		}
		ks.dests[a] = p
	}
	for _, a := range sortedAddrs(ks.dests) {
		if _, ok := w.dests[a]; ok {
			continue
		}
		p := ks.dests[a]
		if err := r.call("delete destination", k, a, func() error { return r.h.DelDestination(svc, toIPVSDest(a, p)) }, &r.m.delDest); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(ks.dests, a)
	}
	return errors.Join(errs...)
}

func (r *Reconciler) delService(k ServiceKey, p svcParams) error {
	return r.call("delete service", k, netip.AddrPort{}, func() error { return r.h.DelService(toIPVS(k, p)) }, &r.m.delService)
}

func (r *Reconciler) getServices() ([]*ipvs.Service, error) {
	r.m.getServices.Add(1)
	s, err := r.h.GetServices()
	if err != nil {
		r.m.errors.Add(1)
		return nil, fmt.Errorf("get services: %w", err)
	}
	return s, nil
}

func (r *Reconciler) getDests(s *ipvs.Service) ([]*ipvs.Destination, error) {
	r.m.getDests.Add(1)
	d, err := r.h.GetDestinations(s)
	if err != nil {
		r.m.errors.Add(1)
		return nil, fmt.Errorf("get destinations: %w", err)
	}
	return d, nil
}

// call runs one kernel write, counts it and wraps its error.
func (r *Reconciler) call(op string, k ServiceKey, dest netip.AddrPort, fn func() error, counter interface{ Add(uint64) uint64 }) error {
	counter.Add(1)
	if err := fn(); err != nil {
		r.m.errors.Add(1)
		if dest.IsValid() {
			return fmt.Errorf("%s %v %v: %w", op, k, dest, err)
		}
		return fmt.Errorf("%s %v: %w", op, k, err)
	}
	if dest.IsValid() {
		r.log.Debug("ipvs changed", "reason", op, "vip", k.String(), "target", dest.String())
	} else {
		r.log.Debug("ipvs changed", "reason", op, "vip", k.String())
	}
	return nil
}

func sortedKeys[V any](m map[ServiceKey]V) []ServiceKey {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b ServiceKey) int {
		return cmp.Or(cmp.Compare(a.Family, b.Family), cmp.Compare(a.FWMark, b.FWMark), cmp.Compare(a.Protocol, b.Protocol),
			a.Addr.Compare(b.Addr), cmp.Compare(a.Port, b.Port))
	})
	return keys
}

func sortedAddrs(m map[netip.AddrPort]dstParams) []netip.AddrPort {
	addrs := slices.Collect(maps.Keys(m))
	slices.SortFunc(addrs, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return addrs
}
