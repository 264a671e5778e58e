package configs

import (
	"fmt"
	"net/netip"
	"strings"
)

// VIP is one virtual address: a prefix (the address keeps its host bits)
// and the interface it goes on. Written as one scalar, "ADDR[/LEN] [dev
// IFACE]": "192.0.2.100/24", "192.0.2.101 dev lo", "2001:db8::1" (a bare
// address gets /32 or /128).
type VIP struct {
	Prefix netip.Prefix
	// Dev is the interface; "" means the instance's interface.
	Dev string
}

// Addr returns the address of the VIP.
func (v VIP) Addr() netip.Addr { return v.Prefix.Addr() }

// IsValid reports whether the VIP has an address.
func (v VIP) IsValid() bool { return v.Prefix.IsValid() }

// Interface returns the interface the VIP goes on: Dev, or def (the
// instance's interface) when Dev is empty.
func (v VIP) Interface(def string) string {
	if v.Dev != "" {
		return v.Dev
	}
	return def
}

// String returns the scalar form.
func (v VIP) String() string {
	if !v.Prefix.IsValid() {
		return ""
	}
	if v.Dev == "" {
		return v.Prefix.String()
	}
	return v.Prefix.String() + " dev " + v.Dev
}

// MarshalText implements encoding.TextMarshaler (the scalar form).
func (v VIP) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (the scalar form).
func (v *VIP) UnmarshalText(b []byte) error {
	p, err := ParseVIPEntry(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// ParseVIPEntry parses "ADDR[/LEN] [dev IFACE]". An empty string gives the
// zero VIP.
func ParseVIPEntry(s string) (VIP, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return VIP{}, nil
	}
	p, err := ParseVIP(f[0])
	if err != nil {
		return VIP{}, err
	}
	v := VIP{Prefix: p}
	switch {
	case len(f) == 1:
	case len(f) == 3 && f[1] == "dev" && f[2] != "":
		v.Dev = f[2]
	default:
		return VIP{}, fmt.Errorf("%q is not ADDR[/LEN] [dev IFACE]", s)
	}
	return v, nil
}

// MustVIP parses a VIP entry and panics on error (tests, literals).
func MustVIP(s string) VIP {
	v, err := ParseVIPEntry(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Route types.
const (
	RouteUnicast     = "unicast"
	RouteBlackhole   = "blackhole"
	RouteUnreachable = "unreachable"
	RouteProhibit    = "prohibit"
)

// Route is a route added while the instance is master (keepalived
// virtual_routes).
type Route struct {
	// To is the destination (required); a bare address is /32 or /128,
	// 0.0.0.0/0 or ::/0 the default route.
	To netip.Prefix `yaml:"to"`
	// Via is the gateway (none: a link route on Dev).
	Via netip.Addr `yaml:"via"`
	// Dev is the output interface; "" with no Via means the instance's
	// interface, "" with Via lets the kernel resolve it.
	Dev string `yaml:"dev"`
	// Src is the preferred source address.
	Src netip.Addr `yaml:"src"`
	// Table is the routing table id; 0 means main (254).
	Table int `yaml:"table"`
	// Metric is the route priority (0: the kernel's default).
	Metric int `yaml:"metric"`
	// Scope is global, site, link, host or nowhere; "" lets the kernel
	// choose (link for a route without gateway, global otherwise).
	Scope string `yaml:"scope"`
	// Type is unicast (default), blackhole, unreachable or prohibit.
	Type string `yaml:"type"`
	// OnLink makes the kernel take Via as directly reachable on Dev even
	// outside Dev's subnets (ip route … onlink).
	OnLink bool `yaml:"onlink"`
}

// Family returns 4 or 6, the family of To.
func (r Route) Family() int { return family(r.To.Addr()) }

// Rule is a policy routing rule added while the instance is master
// (keepalived virtual_rules). Its family is that of From/To, else the
// instance's (Rule.Family).
type Rule struct {
	// From and To select by source and destination (zero: any).
	From netip.Prefix `yaml:"from"`
	To   netip.Prefix `yaml:"to"`
	// Table is the routing table to look up (required, 1..2^32-1).
	Table int `yaml:"table"`
	// Priority orders the rules (0: the kernel picks one).
	Priority int `yaml:"priority"`
	// IIF and OIF select by input and output interface.
	IIF string `yaml:"iif"`
	OIF string `yaml:"oif"`
	// FWMark selects by firewall mark, under FWMask when non-zero.
	FWMark uint32 `yaml:"fwmark"`
	FWMask uint32 `yaml:"fwmask"`
}

// Family returns 4 or 6: the family of From or To, else def (the
// instance's family).
func (r Rule) Family(def int) int {
	if f := family(r.From.Addr()); f != 0 {
		return f
	}
	if f := family(r.To.Addr()); f != 0 {
		return f
	}
	return def
}
