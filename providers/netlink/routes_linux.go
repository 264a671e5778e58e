//go:build linux

package netlink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	vnl "github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Routing installs one VRRP instance's virtual_routes and virtual_rules
// (keepalived vrrp_iproute.c, vrrp_iprule.c). It remembers which routes and
// rules it added itself and only ever removes those: a route or rule that
// was already there (the kernel answers EEXIST) is left alone and not
// owned.
//
// Use: Set when the instance becomes MASTER (after its VIPs, since a route
// may use a VIP as src), Remove when it leaves MASTER (before the VIPs go),
// Set again with the new lists on a reload while MASTER. Safe for
// concurrent use; calls are serialised.
type Routing struct {
	opts Options
	log  *slog.Logger

	mu     sync.Mutex
	h      *vnl.Handle
	routes map[Route]bool // owned: added by this Routing and not removed since
	rules  map[Rule]bool
	closed bool
}

// NewRouting returns a Routing that works in opts.NetNS (empty: the
// caller's namespace); only NetNS is used from opts.
func NewRouting(opts Options, log *slog.Logger) *Routing {
	return &Routing{opts: opts, log: log, routes: map[Route]bool{}, rules: map[Rule]bool{}}
}

// Set makes the owned routes and rules the given ones, as keepalived's
// reload does (clear_diff_routes / clear_diff_rules):
//   - an owned route or rule not in the new lists is removed;
//   - an owned route still in the lists is replaced (NLM_F_REPLACE: the
//     kernel copy is rewritten, and restored if it vanished, e.g. with its
//     interface); an owned rule still in the lists is re-added if missing;
//   - a route or rule not owned yet is added exclusively (NLM_F_EXCL);
//     EEXIST means someone else's, which is logged and not owned.
//
// Rules are added before routes and removed after them. Every entry is
// tried; the errors (invalid entries, missing interfaces, unreachable
// gateways, …) are joined. Entries that failed are tried again by the next
// Set. ctx is checked between kernel calls.
func (r *Routing) Set(ctx context.Context, routes []Route, rules []Rule) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, err := r.handle()
	if err != nil {
		return err
	}
	wantRoutes := map[Route]bool{}
	wantRules := map[Rule]bool{}
	var errs []error
	for _, rt := range routes {
		if err := rt.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("netlink: %w", err))
			continue
		}
		wantRoutes[rt] = true
	}
	for _, ru := range rules {
		if err := ru.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("netlink: %w", err))
			continue
		}
		wantRules[ru] = true
	}
	// Owned entries that are no longer wanted: routes first.
	for rt := range r.routes {
		if !wantRoutes[rt] {
			errs = append(errs, r.delRoute(ctx, h, rt))
		}
	}
	for ru := range r.rules {
		if !wantRules[ru] {
			errs = append(errs, r.delRule(ctx, h, ru))
		}
	}
	// Wanted entries: rules first, in the given order.
	for _, ru := range rules {
		if !wantRules[ru] {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		nr, err := toRule(h, ru)
		if err == nil {
			err = h.RuleAdd(nr)
		}
		switch {
		case err == nil:
			r.rules[ru] = true
			r.log.Info("rule added", "rule", ru.String())
		case errors.Is(err, unix.EEXIST) && r.rules[ru]:
			// Ours and still there.
		case errors.Is(err, unix.EEXIST):
			r.log.Warn("rule already present, not owned", "rule", ru.String())
		default:
			errs = append(errs, fmt.Errorf("netlink: add rule %s: %w", ru, err))
		}
	}
	for _, rt := range routes {
		if !wantRoutes[rt] {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		nr, err := toRoute(h, rt)
		if err == nil {
			if r.routes[rt] {
				err = h.RouteReplace(nr)
			} else {
				err = h.RouteAdd(nr)
			}
		}
		switch {
		case err == nil:
			if !r.routes[rt] {
				r.log.Info("route added", "route", rt.String())
			}
			r.routes[rt] = true
		case errors.Is(err, unix.EEXIST):
			r.log.Warn("route already present, not owned", "route", rt.String())
		default:
			if r.routes[rt] {
				// keepalived: a failed replace deletes the old route and
				// adds it later.
				errs = append(errs, r.delRoute(ctx, h, rt))
			}
			errs = append(errs, fmt.Errorf("netlink: add route %s: %w", rt, err))
		}
	}
	return errors.Join(errs...)
}

// Remove deletes every route and then every rule this Routing added; what
// is already gone is not an error. Nothing is owned afterwards, except
// entries whose removal failed (tried again by the next Remove or Set).
func (r *Routing) Remove(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.routes) == 0 && len(r.rules) == 0 {
		return nil
	}
	h, err := r.handle()
	if err != nil {
		return err
	}
	var errs []error
	for rt := range r.routes {
		errs = append(errs, r.delRoute(ctx, h, rt))
	}
	for ru := range r.rules {
		errs = append(errs, r.delRule(ctx, h, ru))
	}
	return errors.Join(errs...)
}

// Owned returns the routes and rules currently owned, for status output.
func (r *Routing) Owned() ([]Route, []Rule) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var routes []Route
	var rules []Rule
	for rt := range r.routes {
		routes = append(routes, rt)
	}
	for ru := range r.rules {
		rules = append(rules, ru)
	}
	return routes, rules
}

// Close releases the rtnetlink handle; it does not remove anything. Safe
// to call more than once.
func (r *Routing) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.h != nil {
		r.h.Close()
		r.h = nil
	}
	return nil
}

func (r *Routing) delRoute(ctx context.Context, h *vnl.Handle, rt Route) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	nr, err := toRoute(h, rt)
	if err == nil {
		err = h.RouteDel(nr)
	}
	if err != nil && !gone(err) {
		return fmt.Errorf("netlink: delete route %s: %w", rt, err)
	}
	delete(r.routes, rt)
	r.log.Info("route removed", "route", rt.String())
	return nil
}

func (r *Routing) delRule(ctx context.Context, h *vnl.Handle, ru Rule) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	nr, err := toRule(h, ru)
	if err == nil {
		err = h.RuleDel(nr)
	}
	if err != nil && !gone(err) {
		return fmt.Errorf("netlink: delete rule %s: %w", ru, err)
	}
	delete(r.rules, ru)
	r.log.Info("rule removed", "rule", ru.String())
	return nil
}

// gone reports whether a delete failed because the entry (or its
// interface) no longer exists.
func gone(err error) bool {
	return errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT) ||
		errors.Is(err, unix.ENODEV) || errors.Is(err, ErrInterfaceNotFound)
}

func (r *Routing) handle() (*vnl.Handle, error) {
	if r.closed {
		return nil, ErrClosed
	}
	if r.h != nil {
		return r.h, nil
	}
	h, err := openRoute(r.opts.NetNS)
	if err != nil {
		return nil, err
	}
	r.h = h
	return h, nil
}

func ifindex(h *vnl.Handle, name string) (int, error) {
	if name == "" {
		return 0, nil
	}
	l, err := h.LinkByName(name)
	if err != nil {
		var nf vnl.LinkNotFoundError
		if errors.As(err, &nf) {
			return 0, fmt.Errorf("interface %s: %w", name, ErrInterfaceNotFound)
		}
		return 0, err
	}
	return l.Attrs().Index, nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	if !p.IsValid() {
		return nil
	}
	p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p)).Masked()
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// unmapBits is what a v4-mapped prefix's length loses when unmapped.
func unmapBits(p netip.Prefix) int {
	if p.Addr().Is4In6() {
		return 96
	}
	return 0
}

func ip(a netip.Addr) net.IP {
	if !a.IsValid() {
		return nil
	}
	return a.Unmap().AsSlice()
}

func toRoute(h *vnl.Handle, rt Route) (*vnl.Route, error) {
	oif, err := ifindex(h, rt.Dev)
	if err != nil {
		return nil, err
	}
	typ := int(rt.Type)
	if typ == 0 {
		typ = int(RouteUnicast)
	}
	family := vnl.FAMILY_V4
	if dst := rt.To.Addr().Unmap(); dst.Is6() {
		family = vnl.FAMILY_V6
	}
	var flags int
	if rt.OnLink {
		flags = int(vnl.FLAG_ONLINK)
	}
	return &vnl.Route{
		Flags:     flags,
		Family:    family,
		Dst:       ipNet(rt.To),
		Gw:        ip(rt.Via),
		LinkIndex: oif,
		Src:       ip(rt.Src),
		Table:     rt.Table,
		Priority:  rt.Metric,
		Scope:     vnl.Scope(rt.Scope),
		Type:      typ,
		Protocol:  ProtoKeepalived,
	}, nil
}

func toRule(h *vnl.Handle, ru Rule) (*vnl.Rule, error) {
	// Interface names are passed as names; only check they exist, so a
	// typo fails loudly instead of making a rule that never matches.
	for _, n := range []string{ru.IIF, ru.OIF} {
		if _, err := ifindex(h, n); err != nil {
			return nil, err
		}
	}
	nr := vnl.NewRule()
	nr.Family = vnl.FAMILY_V4
	if ru.v6() {
		nr.Family = vnl.FAMILY_V6
	}
	nr.Src, nr.Dst = ipNet(ru.From), ipNet(ru.To)
	nr.Table = ru.table()
	if ru.Priority != 0 {
		nr.Priority = ru.Priority
	}
	nr.IifName, nr.OifName = ru.IIF, ru.OIF
	if ru.FwMark != 0 || ru.FwMask != 0 {
		nr.Mark = ru.FwMark
		m := ru.fwMask()
		nr.Mask = &m
	}
	nr.Protocol = ProtoKeepalived
	return nr, nil
}
