package netlink

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
)

// RouteType is a route's kernel type (rtm_type).
type RouteType uint8

// Route types keepalived's virtual_routes accept (values are RTN_*).
const (
	RouteUnicast     RouteType = 1 // default: forward (via / dev)
	RouteBlackhole   RouteType = 6 // drop silently
	RouteUnreachable RouteType = 7 // drop, ICMP host unreachable
	RouteProhibit    RouteType = 8 // drop, ICMP administratively prohibited
)

func (t RouteType) String() string {
	switch t {
	case 0, RouteUnicast:
		return "unicast"
	case RouteBlackhole:
		return "blackhole"
	case RouteUnreachable:
		return "unreachable"
	case RouteProhibit:
		return "prohibit"
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Scope is a route's scope (rtm_scope); the zero value is universe
// ("global"), keepalived's default.
type Scope uint8

// Route scopes (RT_SCOPE_*).
const (
	ScopeUniverse Scope = 0
	ScopeSite     Scope = 200
	ScopeLink     Scope = 253
	ScopeHost     Scope = 254
	ScopeNowhere  Scope = 255
)

// ProtoKeepalived is the route protocol (RTPROT_KEEPALIVED, 18) vipd marks
// its routes with, as keepalived does, so `ip route show proto keepalived`
// lists them and a removal never matches a route someone else added.
const ProtoKeepalived = 18

// TableMain is the main routing table; Table 0 in a Route or Rule means it.
const TableMain = 254

// Route is one entry of keepalived's virtual_routes / static_routes.
type Route struct {
	To     netip.Prefix // destination, required (0.0.0.0/0 or ::/0 for default)
	Via    netip.Addr   // gateway; optional
	Dev    string       // output interface; optional
	Src    netip.Addr   // preferred source address; optional
	Table  int          // 0: main
	Metric int          // priority / preference; 0: none
	Scope  Scope
	Type   RouteType // 0: unicast
	// OnLink takes Via as reachable on Dev even outside Dev's subnets
	// (ip route … onlink).
	OnLink bool
}

func (r Route) String() string {
	s := r.Type.String() + " " + r.To.String()
	if r.Via.IsValid() {
		s += " via " + r.Via.String()
	}
	if r.Dev != "" {
		s += " dev " + r.Dev
	}
	if r.Src.IsValid() {
		s += " src " + r.Src.String()
	}
	if r.Table != 0 && r.Table != TableMain {
		s += " table " + strconv.Itoa(r.Table)
	}
	if r.Metric != 0 {
		s += " metric " + strconv.Itoa(r.Metric)
	}
	return s
}

// Validate reports what the kernel would refuse or misread.
func (r Route) Validate() error {
	if !r.To.IsValid() {
		return errors.New("route: no destination")
	}
	v6 := r.To.Addr().Is6() && !r.To.Addr().Is4In6()
	for _, a := range []struct {
		name string
		addr netip.Addr
	}{{"via", r.Via}, {"src", r.Src}} {
		if a.addr.IsValid() && (a.addr.Is6() && !a.addr.Is4In6()) != v6 {
			return fmt.Errorf("route %s: %s %s is of another family", r.To, a.name, a.addr)
		}
	}
	switch r.Type {
	case 0, RouteUnicast:
		if !r.Via.IsValid() && r.Dev == "" {
			return fmt.Errorf("route %s: needs via or dev", r.To)
		}
	case RouteBlackhole, RouteUnreachable, RouteProhibit:
		if r.Via.IsValid() || r.Dev != "" {
			return fmt.Errorf("route %s: a %s route takes no via or dev", r.To, r.Type)
		}
	default:
		return fmt.Errorf("route %s: unknown type %d", r.To, r.Type)
	}
	if r.Table < 0 || r.Metric < 0 {
		return fmt.Errorf("route %s: negative table or metric", r.To)
	}
	return nil
}

// Rule is one entry of keepalived's virtual_rules / static_rules: a policy
// routing rule that looks up Table.
type Rule struct {
	From netip.Prefix // source selector; optional
	To   netip.Prefix // destination selector; optional
	// IPv6 selects the family when neither From nor To is set (keepalived:
	// "inet6"); otherwise the addresses decide.
	IPv6  bool
	Table int // lookup table; 0: main
	// Priority is the rule's preference. 0: the kernel picks one (below
	// the last rule); keepalived's config gives rules without a priority
	// 16384, 16383, … per family, which the config layer should do.
	Priority int
	IIF      string // iif / dev
	OIF      string
	FwMark   uint32
	FwMask   uint32 // 0 with FwMark set: exact match (0xffffffff)
}

func (r Rule) String() string {
	s := "from " + prefixOrAll(r.From) + " to " + prefixOrAll(r.To)
	if r.IIF != "" {
		s += " iif " + r.IIF
	}
	if r.OIF != "" {
		s += " oif " + r.OIF
	}
	if r.FwMark != 0 || r.FwMask != 0 {
		s += fmt.Sprintf(" fwmark %#x/%#x", r.FwMark, r.fwMask())
	}
	if r.Priority != 0 {
		s += " priority " + strconv.Itoa(r.Priority)
	}
	return s + " table " + strconv.Itoa(r.table())
}

func prefixOrAll(p netip.Prefix) string {
	if !p.IsValid() {
		return "all"
	}
	return p.String()
}

// v6 reports the rule's family.
func (r Rule) v6() bool {
	for _, p := range []netip.Prefix{r.From, r.To} {
		if p.IsValid() {
			return p.Addr().Is6() && !p.Addr().Is4In6()
		}
	}
	return r.IPv6
}

func (r Rule) table() int {
	if r.Table == 0 {
		return TableMain
	}
	return r.Table
}

func (r Rule) fwMask() uint32 {
	if r.FwMask == 0 {
		return 0xffffffff
	}
	return r.FwMask
}

// Validate reports what the kernel would refuse or misread.
func (r Rule) Validate() error {
	if r.From.IsValid() && r.To.IsValid() && r.From.Addr().Is4() != r.To.Addr().Is4() {
		return fmt.Errorf("rule %s: from and to are of different families", r)
	}
	if r.Table < 0 || r.Priority < 0 {
		return fmt.Errorf("rule %s: negative table or priority", r)
	}
	return nil
}
