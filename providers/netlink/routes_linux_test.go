//go:build linux

package netlink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	vnl "github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// routingNS makes a namespace with lo and a veth pair rt0/rt1 up, rt0
// holding 192.0.2.1/24 and 2001:db8::1/64, and returns its path and a
// handle in it. It is deleted when the test ends, also on failure.
func routingNS(t *testing.T) (string, *vnl.Handle) {
	t.Helper()
	skipUnlessRoot(t)
	ns := fmt.Sprintf("vn-rt-%d", rand.IntN(1_000_000))
	run(t, "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "rt0", "type", "veth", "peer", "name", "rt1"},
		{"link", "set", "rt1", "up"},
		{"link", "set", "rt0", "up"},
		{"addr", "add", "192.0.2.1/24", "dev", "rt0"},
		{"addr", "add", "2001:db8::1/64", "dev", "rt0", "nodad"},
	} {
		run(t, append([]string{"-n", ns}, args...)...)
	}
	path := "/run/netns/" + ns
	waitUp(t, link{ns: path, name: "rt0"})
	return path, nsHandle(t, path)
}

// listed returns the routes and rules with protocol keepalived in every
// table, in Route/Rule form, sorted by String.
func listed(t *testing.T, h *vnl.Handle) ([]string, []string) {
	t.Helper()
	rts, err := h.RouteListFiltered(vnl.FAMILY_ALL, &vnl.Route{Table: unix.RT_TABLE_UNSPEC, Protocol: ProtoKeepalived},
		vnl.RT_FILTER_TABLE|vnl.RT_FILTER_PROTOCOL)
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, r := range rts {
		routes = append(routes, fromVNLRoute(t, h, r).String())
	}
	rus, err := h.RuleList(vnl.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, r := range rus {
		if r.Protocol == ProtoKeepalived {
			rules = append(rules, fromVNLRule(r).String())
		}
	}
	slices.Sort(routes)
	slices.Sort(rules)
	return routes, rules
}

func fromVNLRoute(t *testing.T, h *vnl.Handle, r vnl.Route) Route {
	t.Helper()
	out := Route{Table: r.Table, Metric: r.Priority, Scope: Scope(r.Scope), Type: RouteType(r.Type)}
	if out.Table == TableMain {
		out.Table = 0
	}
	if r.Dst != nil {
		out.To = prefixOf(r.Dst)
	}
	out.Via, _ = netip.AddrFromSlice(r.Gw)
	out.Src, _ = netip.AddrFromSlice(r.Src)
	out.Via, out.Src = out.Via.Unmap(), out.Src.Unmap()
	// The kernel puts IPv6 reject routes on lo; they have no device.
	if r.LinkIndex > 0 && out.Type == RouteUnicast {
		l, err := h.LinkByIndex(r.LinkIndex)
		if err != nil {
			t.Fatal(err)
		}
		out.Dev = l.Attrs().Name
	}
	return out
}

func fromVNLRule(r vnl.Rule) Rule {
	out := Rule{Table: r.Table, Priority: r.Priority, IIF: r.IifName, OIF: r.OifName, FwMark: r.Mark, IPv6: r.Family == vnl.FAMILY_V6}
	if r.Src != nil {
		out.From = prefixOf(r.Src)
	}
	if r.Dst != nil {
		out.To = prefixOf(r.Dst)
	}
	if r.Mask != nil {
		out.FwMask = *r.Mask
	}
	return out
}

func prefixOf(n *net.IPNet) netip.Prefix {
	a, _ := netip.AddrFromSlice(n.IP)
	bits, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), bits)
}

func strs[T fmt.Stringer](xs []T) []string {
	var out []string
	for _, x := range xs {
		out = append(out, x.String())
	}
	slices.Sort(out)
	return out
}

var (
	pfx  = netip.MustParsePrefix
	addr = netip.MustParseAddr
)

func TestRoutingSetRemove(t *testing.T) {
	path, h := routingNS(t)
	// Someone else's route and rule, with the same kernel keys as two of
	// ours: they must survive everything below.
	run(t, "-n", path[len("/run/netns/"):], "route", "add", "198.51.100.64/26", "dev", "rt0")
	run(t, "-n", path[len("/run/netns/"):], "rule", "add", "from", "192.0.2.128/25", "table", "300", "priority", "900")

	routes := []Route{
		{To: pfx("198.51.100.0/24"), Via: addr("192.0.2.254"), Dev: "rt0", Table: 100, Metric: 10},
		{To: pfx("198.51.100.128/25"), Dev: "rt0", Src: addr("192.0.2.1"), Scope: ScopeLink},
		{To: pfx("198.51.100.7/32"), Table: 100, Type: RouteBlackhole},
		{To: pfx("198.51.100.8/32"), Type: RouteProhibit},
		{To: pfx("2001:db8:1::/48"), Metric: 5, Type: RouteUnreachable},
		{To: pfx("2001:db8:2::/48"), Table: 200, Metric: 1024, Type: RouteProhibit},
		{To: pfx("2001:db8:3::/48"), Via: addr("2001:db8::fe"), Dev: "rt0", Metric: 1024},
		{To: pfx("198.51.100.64/26"), Dev: "rt0", Scope: ScopeLink}, // pre-existing: not owned
	}
	rules := []Rule{
		{From: pfx("192.0.2.0/24"), Table: 100, Priority: 1000},
		{To: pfx("198.51.100.0/24"), IIF: "rt0", Table: 100, Priority: 1001},
		{IPv6: true, FwMark: 0x10, FwMask: 0xff, Table: 200, Priority: 1002},
		{From: pfx("2001:db8::/64"), OIF: "rt0", Table: 200, Priority: 1003},
	}
	r := NewRouting(Options{NetNS: path}, discardLog())
	defer r.Close()
	ctx := context.Background()

	if err := r.Set(ctx, routes, rules); err != nil {
		t.Fatalf("Set: %v", err)
	}
	wantRoutes, wantRules := strs(routes[:7]), strs(rules)
	gotRoutes, gotRules := listed(t, h)
	if diff := cmp.Diff(wantRoutes, gotRoutes); diff != "" {
		t.Errorf("routes after Set (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantRules, gotRules); diff != "" {
		t.Errorf("rules after Set (-want +got):\n%s", diff)
	}
	ownedRoutes, ownedRules := r.Owned()
	if diff := cmp.Diff(wantRoutes, strs(ownedRoutes)); diff != "" {
		t.Errorf("owned routes (-want +got):\n%s", diff)
	}
	if len(ownedRules) != len(rules) {
		t.Errorf("owned %d rules, want %d", len(ownedRules), len(rules))
	}

	// Idempotent, and a route deleted behind our back comes back.
	run(t, "-n", path[len("/run/netns/"):], "route", "del", "198.51.100.0/24", "table", "100")
	if err := r.Set(ctx, routes, rules); err != nil {
		t.Fatalf("second Set: %v", err)
	}
	gotRoutes, gotRules = listed(t, h)
	if diff := cmp.Diff(wantRoutes, gotRoutes); diff != "" {
		t.Errorf("routes after second Set (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantRules, gotRules); diff != "" {
		t.Errorf("rules after second Set (-want +got):\n%s", diff)
	}

	// Reload: drop a route and a rule, add one of each.
	routes2 := append(slices.Clone(routes[1:]), Route{To: pfx("198.51.100.9/32"), Type: RouteUnreachable, Table: 100})
	rules2 := append(slices.Clone(rules[1:]), Rule{To: pfx("198.51.100.9/32"), Table: 100, Priority: 1004})
	if err := r.Set(ctx, routes2, rules2); err != nil {
		t.Fatalf("reload Set: %v", err)
	}
	gotRoutes, gotRules = listed(t, h)
	if diff := cmp.Diff(strs(slices.Delete(slices.Clone(routes2), 6, 7)), gotRoutes); diff != "" {
		t.Errorf("routes after reload (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(strs(rules2), gotRules); diff != "" {
		t.Errorf("rules after reload (-want +got):\n%s", diff)
	}

	if err := r.Remove(ctx); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	gotRoutes, gotRules = listed(t, h)
	if len(gotRoutes) != 0 || len(gotRules) != 0 {
		t.Errorf("after Remove: routes %q, rules %q; want none", gotRoutes, gotRules)
	}
	if o1, o2 := r.Owned(); len(o1)+len(o2) != 0 {
		t.Errorf("still owned after Remove: %v %v", o1, o2)
	}
	if err := r.Remove(ctx); err != nil {
		t.Errorf("second Remove: %v", err)
	}
	// The pre-existing route and rule are still there.
	if rs, err := h.RouteListFiltered(vnl.FAMILY_V4, &vnl.Route{Dst: ipNet(pfx("198.51.100.64/26"))}, vnl.RT_FILTER_DST); err != nil || len(rs) != 1 {
		t.Errorf("pre-existing route: %d found (%v), want 1", len(rs), err)
	}
	rus, err := h.RuleList(vnl.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rus, func(r vnl.Rule) bool { return r.Priority == 900 && r.Table == 300 }) {
		t.Error("pre-existing rule (priority 900) is gone")
	}
}

// TestRoutingErrors: a bad entry does not stop the others, and its error
// names it; invalid entries are refused before the kernel sees them.
func TestRoutingErrors(t *testing.T) {
	path, h := routingNS(t)
	r := NewRouting(Options{NetNS: path}, discardLog())
	defer r.Close()
	good := Route{To: pfx("198.51.100.0/24"), Via: addr("192.0.2.254"), Dev: "rt0"}
	err := r.Set(context.Background(), []Route{
		{To: pfx("198.51.100.1/32"), Dev: "nope0"},
		{To: pfx("198.51.100.2/32"), Via: addr("2001:db8::fe")},
		{To: pfx("198.51.100.3/32"), Dev: "rt0", Type: RouteBlackhole},
		{To: pfx("198.51.100.4/32"), Via: addr("203.0.113.1")}, // gateway not on a link: ENETUNREACH
		good,
	}, []Rule{{From: pfx("192.0.2.0/24"), To: pfx("2001:db8::/64")}})
	if err == nil {
		t.Fatal("Set() = nil, want errors")
	}
	if !errors.Is(err, ErrInterfaceNotFound) {
		t.Errorf("Set() = %v, want it to wrap ErrInterfaceNotFound", err)
	}
	gotRoutes, gotRules := listed(t, h)
	if diff := cmp.Diff([]string{good.String()}, gotRoutes); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
	if len(gotRules) != 0 {
		t.Errorf("rules %q, want none", gotRules)
	}
	if err := r.Remove(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRouteValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    Route
		ok   bool
	}{
		{"via", Route{To: pfx("0.0.0.0/0"), Via: addr("192.0.2.1")}, true},
		{"dev", Route{To: pfx("2001:db8::/64"), Dev: "eth0"}, true},
		{"blackhole", Route{To: pfx("198.51.100.0/24"), Type: RouteBlackhole}, true},
		{"no to", Route{Via: addr("192.0.2.1")}, false},
		{"nowhere", Route{To: pfx("198.51.100.0/24")}, false},
		{"mixed", Route{To: pfx("198.51.100.0/24"), Via: addr("2001:db8::1")}, false},
		{"mixed src", Route{To: pfx("2001:db8::/64"), Dev: "eth0", Src: addr("192.0.2.1")}, false},
		{"blackhole via", Route{To: pfx("198.51.100.0/24"), Via: addr("192.0.2.1"), Type: RouteBlackhole}, false},
		{"unknown type", Route{To: pfx("198.51.100.0/24"), Dev: "eth0", Type: 3}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.r.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
