package configs

import (
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ValidationErrors is every problem found in a configuration, one per
// entry, each starting with the key path ("instances[0].vrid: …").
type ValidationErrors struct {
	Errs []error
}

func (e *ValidationErrors) Error() string {
	lines := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the individual errors (errors.Is/As look at each).
func (e *ValidationErrors) Unwrap() []error { return e.Errs }

type validator struct {
	sys  System
	errs []error
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// Known values. Enumerations that a runtime package owns (VRRP version,
// LVS scheduler, protocol, forwarding, provider modes, check options) are
// validated by that package when the plan is built (cmd/vipd/internal/plan),
// so that `vipd check` and `vipd run` apply the same rules.
var (
	logFormats  = []string{"text", "json"}
	logLevels   = []string{"debug", "info", "warn", "error"}
	checkTypes  = []string{CheckTCP, CheckHTTP, CheckHTTPS, CheckMisc, CheckDNS, CheckUDP, CheckPing, CheckSMTP}
	routeTypes  = []string{RouteUnicast, RouteBlackhole, RouteUnreachable, RouteProhibit}
	routeScopes = []string{"", "global", "site", "link", "host", "nowhere"}
)

// Validate checks the whole configuration against itself and the host (sys:
// interfaces and their addresses) and returns a *ValidationErrors listing
// every problem, or nil.
func (c *Config) Validate(sys System) error {
	v := &validator{sys: sys}
	if len(c.Instances) == 0 && len(c.VirtualServers) == 0 {
		v.add("instances", "none configured (and no virtual_servers): nothing to do")
	}
	v.global(c)
	scripts := v.scripts(c.Scripts)
	instFamily := v.instances(c, scripts)
	v.syncGroups(c)
	v.bfdInstances(c.BFDInstances)
	v.virtualServers(c, instFamily)
	if len(v.errs) == 0 {
		return nil
	}
	return &ValidationErrors{Errs: v.errs}
}

func (v *validator) global(c *Config) {
	g := c.Global
	if !slices.Contains(logFormats, g.LogFormat) {
		v.add("global.log_format", "%q is not one of %s", g.LogFormat, strings.Join(logFormats, ", "))
	}
	if !slices.Contains(logLevels, g.LogLevel) {
		v.add("global.log_level", "%q is not one of %s", g.LogLevel, strings.Join(logLevels, ", "))
	}
	if g.StatusSocket != "" && !filepath.IsAbs(g.StatusSocket) {
		v.add("global.status_socket", "%q is not an absolute path", g.StatusSocket)
	}
	if g.MetricsListen != "" {
		if _, port, err := net.SplitHostPort(g.MetricsListen); err != nil || port == "" {
			v.add("global.metrics_listen", "%q is not host:port", g.MetricsListen)
		}
	}
	sd := g.LVSSyncDaemon
	if sd.Interface != "" {
		v.iface("global.lvs_sync_daemon.interface", sd.Interface)
	}
	if sd.Instance != "" && !slices.ContainsFunc(c.Instances, func(i Instance) bool { return i.Name == sd.Instance }) {
		v.add("global.lvs_sync_daemon.instance", "unknown instance %q", sd.Instance)
	}
	if sd.SyncID != nil && (*sd.SyncID < 0 || *sd.SyncID > 255) {
		v.add("global.lvs_sync_daemon.sync_id", "%d is out of range 0..255", *sd.SyncID)
	}
	v.alerts(c)
}

// alerts checks global.smtp and global.webhook, and that alerts switched on
// anywhere have somewhere to go.
func (v *validator) alerts(c *Config) {
	g := c.Global
	if g.SMTP.Server != "" {
		if strings.ContainsAny(g.SMTP.Server, " /") || strings.Contains(g.SMTP.Server, "://") {
			v.add("global.smtp.server", "%q is not a host name or address", g.SMTP.Server)
		}
		if len(g.SMTP.To) == 0 {
			v.add("global.smtp.to", "is required with smtp.server (the recipients)")
		}
	}
	if g.SMTP.Port < 1 || g.SMTP.Port > 65535 {
		v.add("global.smtp.port", "%d is out of range 1..65535", g.SMTP.Port)
	}
	if g.SMTP.Timeout <= 0 {
		v.add("global.smtp.timeout", "must be positive, got %s", g.SMTP.Timeout)
	}
	for i, to := range g.SMTP.To {
		// A bare local part ("ops") is a recipient of the relay's domain.
		if _, err := mail.ParseAddress(to); err != nil && (to == "" || strings.ContainsAny(to, " \t<>@,;\"")) {
			v.add(fmt.Sprintf("global.smtp.to[%d]", i), "%q is not an e-mail address", to)
		}
	}
	if g.SMTP.From != "" {
		if _, err := mail.ParseAddress(g.SMTP.From); err != nil {
			v.add("global.smtp.from", "%q is not an e-mail address", g.SMTP.From)
		}
	}
	if g.Webhook.URL != "" {
		u, err := url.Parse(g.Webhook.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add("global.webhook.url", "%q is not an http:// or https:// URL", g.Webhook.URL)
		}
	}
	if g.Webhook.Timeout <= 0 {
		v.add("global.webhook.timeout", "must be positive, got %s", g.Webhook.Timeout)
	}
	if g.SMTP.Server != "" || g.Webhook.URL != "" {
		return
	}
	on := func(p *bool) bool { return p != nil && *p }
	where := ""
	if g.SMTPAlert {
		where = "global.smtp_alert"
	}
	for i, in := range c.Instances {
		if where == "" && on(in.SMTPAlert) {
			where = fmt.Sprintf("instances[%d].smtp_alert", i)
		}
	}
	for i, sg := range c.SyncGroups {
		if where == "" && on(sg.SMTPAlert) {
			where = fmt.Sprintf("sync_groups[%d].smtp_alert", i)
		}
	}
	for i, vs := range c.VirtualServers {
		if where == "" && on(vs.SMTPAlert) {
			where = fmt.Sprintf("virtual_servers[%d].smtp_alert", i)
		}
		for j, rs := range vs.RealServers {
			if where == "" && on(rs.SMTPAlert) {
				where = fmt.Sprintf("virtual_servers[%d].real_servers[%d].smtp_alert", i, j)
			}
		}
	}
	if where != "" {
		v.add(where, "alerts are on but neither global.smtp.server nor global.webhook.url is set")
	}
}

// iface checks that an interface exists and returns its addresses.
func (v *validator) iface(path, name string) ([]netip.Addr, bool) {
	if v.sys == nil {
		return nil, false
	}
	addrs, err := v.sys.InterfaceAddrs(name)
	if err != nil {
		v.add(path, "interface %s does not exist", name)
		return nil, false
	}
	return addrs, true
}

func (v *validator) scripts(ss []Script) map[string]bool {
	names := map[string]bool{}
	for i, s := range ss {
		p := fmt.Sprintf("scripts[%d]", i)
		if s.Name == "" {
			v.add(p+".name", "is required")
		} else if names[s.Name] {
			v.add(p+".name", "script %q is defined twice", s.Name)
		}
		names[s.Name] = true
		if strings.TrimSpace(s.Command) == "" {
			v.add(p+".command", "is required")
		}
		if s.Interval <= 0 {
			v.add(p+".interval", "must be positive, got %s", s.Interval)
		}
		if s.Timeout < 0 {
			v.add(p+".timeout", "must not be negative")
		}
		if s.Weight < -253 || s.Weight > 253 {
			v.add(p+".weight", "%d is out of range -253..253", s.Weight)
		}
		if s.Rise < 1 {
			v.add(p+".rise", "must be at least 1, got %d", s.Rise)
		}
		if s.Fall < 1 {
			v.add(p+".fall", "must be at least 1, got %d", s.Fall)
		}
	}
	return names
}

// family is 4, 6 or 0 (unknown).
func family(a netip.Addr) int {
	switch {
	case !a.IsValid():
		return 0
	case a.Unmap().Is4():
		return 4
	default:
		return 6
	}
}

func famName(f int) string {
	if f == 6 {
		return "IPv6"
	}
	return "IPv4"
}

// Family is the address family of the instance, 4 or 6: of its VIPs, else
// of its unicast_src_ip or peers, else 4. Validate ensures they agree.
func (in Instance) Family() int { return instanceFamily(in) }

func instanceFamily(in Instance) int {
	for _, p := range in.VIPs {
		if f := family(p.Addr()); f != 0 {
			return f
		}
	}
	if f := family(in.UnicastSrcIP); f != 0 {
		return f
	}
	for _, a := range in.UnicastPeers {
		if f := family(a); f != 0 {
			return f
		}
	}
	return 4
}

func (v *validator) instances(c *Config, scripts map[string]bool) map[string]int {
	type vridKey struct {
		iface string
		fam   int
		vrid  int
	}
	usedVRID := map[vridKey]int{}
	names := map[string]int{}
	fams := map[string]int{}
	for i, in := range c.Instances {
		p := fmt.Sprintf("instances[%d]", i)
		fam := instanceFamily(in)
		if in.Name == "" {
			v.add(p+".name", "is required")
		} else if j, dup := names[in.Name]; dup {
			v.add(p+".name", "%q is already the name of instances[%d]", in.Name, j)
		} else {
			names[in.Name] = i
			fams[in.Name] = fam
		}
		var addrs []netip.Addr
		ifaceOK := false
		if in.Interface == "" {
			v.add(p+".interface", "is required")
		} else {
			addrs, ifaceOK = v.iface(p+".interface", in.Interface)
		}
		if in.Interface != "" {
			k := vridKey{in.Interface, fam, in.VRID}
			if j, dup := usedVRID[k]; dup {
				v.add(p, "vrid %d already used on %s by instances[%d] (same family)", in.VRID, in.Interface, j)
			} else {
				usedVRID[k] = i
			}
		}
		if len(in.VIPs) == 0 && len(in.ExcludedVIPs) == 0 {
			v.add(p+".vips", "an instance needs at least one VIP (in vips or excluded_vips)")
		}
		seen := map[netip.Addr]bool{}
		for j, vip := range in.VIPs {
			vp := fmt.Sprintf("%s.vips[%d]", p, j)
			if !vip.IsValid() {
				v.add(vp, "is not an IP address")
				continue
			}
			if f := family(vip.Addr()); f != fam {
				v.add(vp, "%s is %s, the instance is %s (one family per instance; put other families in excluded_vips)", vip.Prefix, famName(f), famName(fam))
			}
			if seen[vip.Addr()] {
				v.add(vp, "%s is listed twice", vip.Addr())
			}
			seen[vip.Addr()] = true
			if vip.Dev != "" && vip.Dev != in.Interface {
				v.iface(vp, vip.Dev)
			}
		}
		for j, vip := range in.ExcludedVIPs {
			vp := fmt.Sprintf("%s.excluded_vips[%d]", p, j)
			if !vip.IsValid() {
				v.add(vp, "is not an IP address")
				continue
			}
			if seen[vip.Addr()] {
				v.add(vp, "%s is listed twice (vips and excluded_vips count together)", vip.Addr())
			}
			seen[vip.Addr()] = true
			if vip.Dev != "" && vip.Dev != in.Interface {
				v.iface(vp, vip.Dev)
			}
		}
		if in.Provider.Type != ProviderNetlink && in.Provider.Type != "" {
			for j, vip := range append(slices.Clone(in.VIPs), in.ExcludedVIPs...) {
				if vip.Dev != "" && vip.Dev != in.Interface {
					v.add(fmt.Sprintf("%s.vips[%d]", p, j), "dev %s: provider %s moves VIPs of the instance's interface only", vip.Dev, in.Provider.Type)
					break
				}
			}
		}
		v.routes(p, in)
		if in.UnicastSrcIP.IsValid() {
			sp := p + ".unicast_src_ip"
			if family(in.UnicastSrcIP) != fam {
				v.add(sp, "%s is not %s like the instance", in.UnicastSrcIP, famName(fam))
			} else if ifaceOK && !slices.Contains(addrs, in.UnicastSrcIP) {
				v.add(sp, "%s is not on interface %s", in.UnicastSrcIP, in.Interface)
			}
		}
		peers := map[netip.Addr]bool{}
		for j, a := range in.UnicastPeers {
			pp := fmt.Sprintf("%s.unicast_peers[%d]", p, j)
			switch {
			case !a.IsValid():
				v.add(pp, "is not an IP address")
			case family(a) != fam:
				v.add(pp, "%s is not %s like the instance", a, famName(fam))
			case a == in.UnicastSrcIP:
				v.add(pp, "%s is the instance's own unicast_src_ip", a)
			case peers[a]:
				v.add(pp, "%s is listed twice", a)
			case seen[a]:
				v.add(pp, "%s is also a VIP of the instance", a)
			}
			peers[a] = true
		}
		if in.Provider.Type != ProviderNetlink && in.Provider.Type != "" && len(in.UnicastPeers) == 0 {
			v.add(p+".unicast_peers", "required with provider %s (cloud networks do not carry VRRP multicast)", in.Provider.Type)
		}
		g := in.GARP
		if g.Count < 0 || g.Count > 100 {
			v.add(p+".garp.count", "%d is out of range 0..100", g.Count)
		}
		if g.Interval < 0 || g.MasterRefresh < 0 || g.MasterDelay < 0 {
			v.add(p+".garp", "durations must not be negative")
		}
		for j, t := range in.TrackInterfaces {
			tp := fmt.Sprintf("%s.track_interfaces[%d]", p, j)
			if t.Name == "" {
				v.add(tp+".name", "is required")
			} else {
				v.iface(tp+".name", t.Name)
			}
			if t.Weight < -254 || t.Weight > 254 {
				v.add(tp+".weight", "%d is out of range -254..254", t.Weight)
			}
		}
		for j, t := range in.TrackBFD {
			tp := fmt.Sprintf("%s.track_bfd[%d]", p, j)
			if !slices.ContainsFunc(c.BFDInstances, func(b BFDInstance) bool { return b.Name == t.Name }) {
				v.add(tp+".name", "unknown bfd instance %q (define it under bfd_instances)", t.Name)
			}
			if t.Weight < -253 || t.Weight > 253 {
				v.add(tp+".weight", "%d is out of range -253..253", t.Weight)
			}
		}
		for j, t := range in.TrackScripts {
			tp := fmt.Sprintf("%s.track_scripts[%d]", p, j)
			if !scripts[t.Name] {
				v.add(tp+".name", "unknown script %q (define it under scripts)", t.Name)
			}
			if t.Weight < -253 || t.Weight > 253 {
				v.add(tp+".weight", "%d is out of range -253..253", t.Weight)
			}
		}
		v.provider(p+".provider", in.Provider)
		if b := in.BFD; b.Interval != 0 {
			if b.Interval < 10*time.Millisecond || b.Interval > 60*time.Second {
				v.add(p+".bfd.interval", "%s is out of range 10ms..60s", b.Interval)
			}
			if b.Multiplier < 1 || b.Multiplier > 255 {
				v.add(p+".bfd.multiplier", "%d is out of range 1..255", b.Multiplier)
			}
			if len(in.UnicastPeers) == 0 {
				v.add(p+".bfd", "needs unicast_peers (one single-hop session per peer)")
			}
		}
	}
	return fams
}

func (v *validator) routes(p string, in Instance) {
	for j, r := range in.Routes {
		rp := fmt.Sprintf("%s.routes[%d]", p, j)
		if !r.To.IsValid() {
			v.add(rp+".to", "is required (a prefix, e.g. 198.51.100.0/24 or 0.0.0.0/0)")
			continue
		}
		rf := r.Family()
		if r.Via.IsValid() && family(r.Via) != rf {
			v.add(rp+".via", "%s is not %s like %s", r.Via, famName(rf), r.To)
		}
		if r.Src.IsValid() && family(r.Src) != rf {
			v.add(rp+".src", "%s is not %s like %s", r.Src, famName(rf), r.To)
		}
		if r.Table < 0 || int64(r.Table) > 1<<32-1 {
			v.add(rp+".table", "%d is out of range 0..4294967295", r.Table)
		}
		if r.Metric < 0 || int64(r.Metric) > 1<<32-1 {
			v.add(rp+".metric", "%d is out of range 0..4294967295", r.Metric)
		}
		if !slices.Contains(routeScopes, r.Scope) {
			v.add(rp+".scope", "%q is not one of global, site, link, host, nowhere", r.Scope)
		}
		if !slices.Contains(routeTypes, r.Type) {
			v.add(rp+".type", "%q is not one of %s", r.Type, strings.Join(routeTypes, ", "))
		} else if r.Type != RouteUnicast && (r.Via.IsValid() || r.Dev != "") {
			v.add(rp+".type", "a %s route takes no via or dev", r.Type)
		}
		if r.OnLink && !r.Via.IsValid() {
			v.add(rp+".onlink", "needs via")
		}
		if r.Dev != "" && r.Dev != in.Interface {
			v.iface(rp+".dev", r.Dev)
		}
	}
	for j, r := range in.Rules {
		rp := fmt.Sprintf("%s.rules[%d]", p, j)
		if r.From.IsValid() && r.To.IsValid() && family(r.From.Addr()) != family(r.To.Addr()) {
			v.add(rp, "from %s and to %s are of different families", r.From, r.To)
		}
		if r.Table < 1 || int64(r.Table) > 1<<32-1 {
			v.add(rp+".table", "%d is out of range 1..4294967295", r.Table)
		}
		if r.Priority < 0 || int64(r.Priority) > 1<<32-1 {
			v.add(rp+".priority", "%d is out of range 0..4294967295", r.Priority)
		}
		if r.FWMask != 0 && r.FWMark == 0 {
			v.add(rp+".fwmask", "needs fwmark")
		}
	}
}

// provider checks the settings the agent's holder uses; the type, the mode
// and what each mode needs are checked by the provider packages (plan.Build).
func (v *validator) provider(p string, pr Provider) {
	if pr.CallTimeout <= 0 {
		v.add(p+".call_timeout", "must be positive, got %s", pr.CallTimeout)
	}
	if pr.DriftCheckInterval < 0 {
		v.add(p+".drift_check_interval", "must not be negative")
	}
	if pr.Backoff.Initial <= 0 {
		v.add(p+".backoff.initial", "must be positive, got %s", pr.Backoff.Initial)
	} else if pr.Backoff.Max < pr.Backoff.Initial {
		v.add(p+".backoff.max", "%s is less than backoff.initial %s", pr.Backoff.Max, pr.Backoff.Initial)
	}
}

func (v *validator) syncGroups(c *Config) {
	insts := map[string]bool{}
	for _, in := range c.Instances {
		insts[in.Name] = true
	}
	names := map[string]bool{}
	member := map[string]string{}
	for i, g := range c.SyncGroups {
		p := fmt.Sprintf("sync_groups[%d]", i)
		if g.Name == "" {
			v.add(p+".name", "is required")
		} else if names[g.Name] {
			v.add(p+".name", "sync group %q is defined twice", g.Name)
		}
		names[g.Name] = true
		if len(g.Instances) == 0 {
			v.add(p+".instances", "is empty")
		}
		for j, n := range g.Instances {
			mp := fmt.Sprintf("%s.instances[%d]", p, j)
			switch {
			case !insts[n]:
				v.add(mp, "unknown instance %q", n)
			case member[n] != "":
				v.add(mp, "instance %q is already in sync group %q", n, member[n])
			default:
				member[n] = g.Name
			}
		}
	}
}

// ParseGroupMember parses a virtual_server_group member: "IP:PORT",
// "[v6]:PORT", a keepalived range "192.0.2.10-20:80" (last octet / last
// group), or "fwmark N". It returns the first address of a range and the
// range's last address.
func ParseGroupMember(s string) (first, last netip.AddrPort, fwmark uint32, err error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "fwmark "); ok {
		n, err := strconv.ParseUint(strings.TrimSpace(rest), 10, 32)
		if err != nil || n == 0 {
			return first, last, 0, fmt.Errorf("%q: fwmark must be 1..4294967295", s)
		}
		return first, last, uint32(n), nil
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, ap, 0, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return first, last, 0, fmt.Errorf("%q is not IP:PORT, IP-N:PORT or fwmark N", s)
	}
	i := strings.LastIndexByte(host, '-')
	if i < 0 {
		return first, last, 0, fmt.Errorf("%q is not IP:PORT, IP-N:PORT or fwmark N", s)
	}
	a, err1 := netip.ParseAddr(host[:i])
	pn, err2 := strconv.ParseUint(port, 10, 16)
	if err1 != nil || err2 != nil {
		return first, last, 0, fmt.Errorf("%q is not IP:PORT, IP-N:PORT or fwmark N", s)
	}
	b := a.AsSlice()
	base := 10
	if a.Is6() {
		base = 16
	}
	end, err := strconv.ParseUint(host[i+1:], base, 16)
	if err != nil || (a.Is4() && end > 255) {
		return first, last, 0, fmt.Errorf("%q: bad range end %q", s, host[i+1:])
	}
	if a.Is4() {
		if uint64(b[3]) > end {
			return first, last, 0, fmt.Errorf("%q: range end below its start", s)
		}
		b[3] = byte(end)
	} else {
		if uint64(b[14])<<8|uint64(b[15]) > end {
			return first, last, 0, fmt.Errorf("%q: range end below its start", s)
		}
		b[14], b[15] = byte(end>>8), byte(end)
	}
	l, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(a, uint16(pn)), netip.AddrPortFrom(l, uint16(pn)), 0, nil
}

// ParseGranularity parses a persistence granularity: a netmask
// (255.255.255.0) or a prefix length (/24 or 24). It returns the length.
func ParseGranularity(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	t := strings.TrimPrefix(s, "/")
	if n, err := strconv.Atoi(t); err == nil {
		if n < 0 || n > 128 {
			return 0, fmt.Errorf("%q: prefix length out of range 0..128", s)
		}
		return n, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, fmt.Errorf("%q is not a netmask or /prefix-length", s)
	}
	ones, bits := net.IPMask(a.AsSlice()).Size()
	if bits == 0 {
		return 0, fmt.Errorf("%q is not a contiguous netmask", s)
	}
	return ones, nil
}

func (v *validator) virtualServers(c *Config, instFamily map[string]int) {
	groups := map[string]int{} // name → family (0: fwmark only / mixed)
	for i, g := range c.VirtualServerGroups {
		p := fmt.Sprintf("virtual_server_groups[%d]", i)
		if g.Name == "" {
			v.add(p+".name", "is required")
		} else if _, dup := groups[g.Name]; dup {
			v.add(p+".name", "group %q is defined twice", g.Name)
		}
		if len(g.Members) == 0 {
			v.add(p+".members", "is empty")
		}
		fam := 0
		for j, m := range g.Members {
			first, _, _, err := ParseGroupMember(m)
			if err != nil {
				v.add(fmt.Sprintf("%s.members[%d]", p, j), "%v", err)
				continue
			}
			if f := family(first.Addr()); f != 0 {
				if fam != 0 && f != fam {
					v.add(fmt.Sprintf("%s.members[%d]", p, j), "%s mixes families in the group", m)
				}
				fam = f
			}
		}
		groups[g.Name] = fam
	}
	seen := map[string]int{}
	for i, vs := range c.VirtualServers {
		p := fmt.Sprintf("virtual_servers[%d]", i)
		set := 0
		var key string
		fam := 0
		if vs.Address.IsValid() {
			set++
			key = vs.Protocol + " " + vs.Address.String()
			fam = family(vs.Address.Addr())
			if vs.Address.Port() == 0 && vs.PersistenceTimeout == 0 {
				v.add(p+".address", "port 0 (all ports) needs persistence_timeout")
			}
		}
		if vs.FWMark != 0 {
			set++
			key = fmt.Sprintf("fwmark %d", vs.FWMark)
		}
		if vs.Group != "" {
			set++
			key = "group " + vs.Group
			gf, ok := groups[vs.Group]
			if !ok {
				v.add(p+".group", "unknown virtual_server_group %q", vs.Group)
			}
			fam = gf
		}
		if set != 1 {
			v.add(p, "set exactly one of address, fwmark, group")
		}
		if j, dup := seen[key]; dup && key != "" {
			v.add(p, "duplicate virtual server %s (also virtual_servers[%d])", key, j)
		} else if key != "" {
			seen[key] = i
		}
		if vs.DelayLoop <= 0 {
			v.add(p+".delay_loop", "must be positive, got %s", vs.DelayLoop)
		}
		if vs.Quorum < 1 {
			v.add(p+".quorum", "must be at least 1, got %d", vs.Quorum)
		}
		if vs.Hysteresis < 0 || (vs.Quorum >= 1 && vs.Hysteresis >= vs.Quorum) {
			v.add(p+".hysteresis", "%d is out of range 0..quorum-1", vs.Hysteresis)
		}
		if vs.SorryServer.IsValid() && fam != 0 && family(vs.SorryServer.Addr()) != fam && vs.Forwarding != "TUN" {
			v.add(p+".sorry_server", "%s is not %s like the virtual server", vs.SorryServer, famName(fam))
		}
		if vs.VRRPInstance != "" {
			if _, ok := instFamily[vs.VRRPInstance]; !ok {
				v.add(p+".vrrp_instance", "unknown instance %q", vs.VRRPInstance)
			}
		}
		reals := map[netip.AddrPort]int{}
		for j, rs := range vs.RealServers {
			rp := fmt.Sprintf("%s.real_servers[%d]", p, j)
			if !rs.Address.IsValid() {
				v.add(rp+".address", "is required (IP:PORT)")
			} else {
				if k, dup := reals[rs.Address]; dup {
					v.add(rp+".address", "%s is also real_servers[%d]", rs.Address, k)
				}
				reals[rs.Address] = j
			}
			fwd := vs.Forwarding
			if rs.Forwarding != "" {
				fwd = rs.Forwarding
			}
			if rf := family(rs.Address.Addr()); rf != 0 && fam != 0 && rf != fam && fwd != "TUN" {
				v.add(rp+".address", "%s is %s but the virtual server is %s (only TUN forwards across families)", rs.Address, famName(rf), famName(fam))
			}
			for k, ch := range rs.Checks {
				v.check(fmt.Sprintf("%s.checks[%d]", rp, k), ch)
			}
		}
	}
}

func (v *validator) check(p string, ch Check) {
	if !slices.Contains(checkTypes, ch.Type) {
		v.add(p+".type", "unknown check type %q (one of %s)", ch.Type, strings.Join(checkTypes, ", "))
		return
	}
	if ch.ConnectPort < 0 || ch.ConnectPort > 65535 {
		v.add(p+".connect_port", "%d is out of range 0..65535", ch.ConnectPort)
	}
	if ch.Type != CheckMisc && ch.ConnectTimeout <= 0 {
		v.add(p+".connect_timeout", "must be positive, got %s", ch.ConnectTimeout)
	}
	if ch.DelayLoop < 0 || ch.DelayBeforeRetry < 0 {
		v.add(p, "durations must not be negative")
	}
	if ch.Retry < 0 {
		v.add(p+".retry", "must not be negative")
	}
	if ch.Rise < 1 || ch.Fall < 1 {
		v.add(p, "rise and fall must be at least 1")
	}
}

func (v *validator) bfdInstances(bs []BFDInstance) {
	names := map[string]bool{}
	for i, b := range bs {
		p := fmt.Sprintf("bfd_instances[%d]", i)
		if b.Name == "" {
			v.add(p+".name", "is required")
		} else if names[b.Name] {
			v.add(p+".name", "bfd instance %q is defined twice", b.Name)
		}
		names[b.Name] = true
		if !b.Neighbor.IsValid() {
			v.add(p+".neighbor_ip", "is required")
		} else if b.Source.IsValid() && family(b.Source) != family(b.Neighbor) {
			v.add(p+".source_ip", "%s is not in the family of neighbor_ip %s", b.Source, b.Neighbor)
		}
		for key, d := range map[string]time.Duration{"min_rx": b.MinRx, "min_tx": b.MinTx} {
			if d < time.Millisecond || d > 60*time.Second {
				v.add(p+"."+key, "%s is out of range 1ms..60s", d)
			}
		}
		if b.Multiplier < 1 || b.Multiplier > 255 {
			v.add(p+".multiplier", "%d is out of range 1..255", b.Multiplier)
		}
		if b.Weight < -253 || b.Weight > 253 {
			v.add(p+".weight", "%d is out of range -253..253", b.Weight)
		}
	}
}
