package configs

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ParseKeepalived converts a keepalived.conf into a vipd Config. The
// warnings name, with their line, what was not converted (or converted with
// a changed meaning). The result is not validated: run Validate on it.
//
// Instances get version 2 unless vrrp_version/version says otherwise
// (keepalived's default; vipd's own default is 3), and IPv6 instances get 3
// as keepalived does.
func ParseKeepalived(r io.Reader) (*Config, []string, error) {
	toks, err := kaTokenize(r)
	if err != nil {
		return nil, nil, err
	}
	nodes, err := kaParse(toks)
	if err != nil {
		return nil, nil, err
	}
	c := &kaConv{cfg: DefaultConfig(), instDefault: DefaultInstance()}
	c.cfg.Global.Node = ""
	c.instDefault.Version = 2
	// global_defs first: it sets defaults of the instances.
	for _, n := range nodes {
		if n.Key == "global_defs" {
			c.globalDefs(n)
		}
	}
	for _, n := range nodes {
		switch n.Key {
		case "global_defs":
		case "include":
			c.warn(n, "include %s: not followed; migrate that file separately and merge", strings.Join(n.Args, " "))
		case "vrrp_script":
			c.script(n)
		case "vrrp_instance":
			c.instance(n)
		case "vrrp_sync_group":
			c.syncGroup(n)
		case "virtual_server_group":
			c.vsGroup(n)
		case "virtual_server":
			c.virtualServer(n)
		default:
			c.skip(n)
		}
	}
	// Without router_id, Node stays "": Load fills in the host name of the
	// machine that runs vipd, not of the one that ran the migration.
	return c.cfg, c.warnings, nil
}

type kaConv struct {
	cfg         *Config
	instDefault Instance
	warnings    []string
}

func (c *kaConv) warn(n *kaNode, format string, args ...any) {
	c.warnings = append(c.warnings, fmt.Sprintf("line %d: %s", n.Line, fmt.Sprintf(format, args...)))
}

func (c *kaConv) skip(n *kaNode) {
	c.warn(n, "%s: not converted (not supported by vipd)", n.Key)
}

// arg returns the i-th argument or "" (with a warning when missing).
func (c *kaConv) arg(n *kaNode, i int) string {
	if i < len(n.Args) {
		return n.Args[i]
	}
	c.warn(n, "%s: missing value", n.Key)
	return ""
}

func (c *kaConv) int(n *kaNode) int {
	s := c.arg(n, 0)
	v, err := strconv.Atoi(s)
	if err != nil && s != "" {
		c.warn(n, "%s: %q is not a number", n.Key, s)
	}
	return v
}

func (c *kaConv) dur(n *kaNode) time.Duration {
	s := c.arg(n, 0)
	d, err := ParseDuration(s)
	if err != nil {
		c.warn(n, "%s: %v", n.Key, err)
	}
	return d
}

// script joins the arguments of a command keyword (quotes already removed).
func script(n *kaNode) string { return strings.Join(n.Args, " ") }

func (c *kaConv) globalDefs(b *kaNode) {
	g := &c.cfg.Global
	for _, n := range b.Children {
		switch n.Key {
		case "router_id":
			g.Node = c.arg(n, 0)
		case "script_user":
			g.ScriptUser = c.arg(n, 0)
			if len(n.Args) > 1 {
				c.warn(n, "script_user: group %s not converted (scripts run with the user's primary group)", n.Args[1])
			}
		case "enable_script_security":
			g.EnableScriptSecurity = true
		case "lvs_flush":
			g.LVSFlush = true
		case "lvs_sync_daemon":
			c.syncDaemon(n)
		case "vrrp_version":
			c.instDefault.Version = c.int(n)
		case "vrrp_garp_master_delay":
			c.instDefault.GARP.MasterDelay = c.dur(n)
		case "vrrp_garp_master_repeat":
			c.instDefault.GARP.Count = c.int(n)
		case "vrrp_garp_master_refresh":
			c.instDefault.GARP.MasterRefresh = c.dur(n)
		case "vrrp_garp_interval", "vrrp_gna_interval":
			c.instDefault.GARP.Interval = c.dur(n)
		case "notification_email", "notification_email_from", "smtp_server", "smtp_connect_timeout", "smtp_alert", "smtp_helo":
			c.warn(n, "%s: e-mail alerts are not supported; use notify scripts", n.Key)
		case "vrrp_skip_check_adv_addr", "vrrp_strict", "vrrp_iptables", "vrrp_check_unicast_src":
			c.warn(n, "%s: not converted (vipd always checks the advertisement's source and addresses, and does not manage iptables)", n.Key)
		default:
			c.skip(n)
		}
	}
}

func (c *kaConv) syncDaemon(n *kaNode) {
	sd := &c.cfg.Global.LVSSyncDaemon
	sd.Interface = c.arg(n, 0)
	for i := 1; i < len(n.Args); i++ {
		switch n.Args[i] {
		case "id":
			if i+1 < len(n.Args) {
				id, _ := strconv.Atoi(n.Args[i+1])
				sd.SyncID = &id
				i++
			}
		case "maxlen", "port", "ttl", "group":
			c.warn(n, "lvs_sync_daemon: %s not converted", n.Args[i])
			i++
		default:
			if sd.Instance == "" {
				sd.Instance = n.Args[i]
			}
		}
	}
}

func (c *kaConv) script(b *kaNode) {
	s := DefaultScript()
	s.Name = c.arg(b, 0)
	// keepalived's default weight is 0 and rise/fall 1 like ours.
	for _, n := range b.Children {
		switch n.Key {
		case "script":
			s.Command = script(n)
		case "interval":
			s.Interval = c.dur(n)
		case "timeout":
			s.Timeout = c.dur(n)
		case "weight":
			s.Weight = c.int(n)
			if len(n.Args) > 1 && n.Args[1] == "reverse" {
				c.warn(n, "weight reverse: not converted")
			}
		case "rise":
			s.Rise = c.int(n)
		case "fall":
			s.Fall = c.int(n)
		case "user":
			s.User = c.arg(n, 0)
		default:
			c.skip(n)
		}
	}
	c.cfg.Scripts = append(c.cfg.Scripts, s)
}

func (c *kaConv) instance(b *kaNode) {
	in := c.instDefault
	in.Name = c.arg(b, 0)
	versionSet := false
	var vipNodes []*kaNode
	for _, n := range b.Children {
		switch n.Key {
		case "state":
			in.State = strings.ToUpper(c.arg(n, 0))
		case "interface":
			in.Interface = c.arg(n, 0)
		case "virtual_router_id":
			in.VRID = c.int(n)
		case "priority":
			in.Priority = c.int(n)
		case "advert_int":
			in.AdvertInterval = c.dur(n)
		case "version":
			in.Version = c.int(n)
			versionSet = true
		case "nopreempt":
			in.Preempt = false
		case "preempt":
			in.Preempt = true
		case "preempt_delay":
			in.PreemptDelay = c.dur(n)
		case "accept":
			in.Accept = true
		case "no_accept":
			in.Accept = false
		case "unicast_src_ip", "mcast_src_ip":
			if a, err := netip.ParseAddr(c.arg(n, 0)); err == nil {
				in.UnicastSrcIP = a
			} else {
				c.warn(n, "%s: %q is not an IP address", n.Key, c.arg(n, 0))
			}
		case "unicast_peer":
			for _, p := range n.Children {
				a, err := netip.ParseAddr(p.Key)
				if err != nil {
					c.warn(p, "unicast_peer: %q is not an IP address", p.Key)
					continue
				}
				if len(p.Args) > 0 {
					c.warn(p, "unicast_peer %s: %s not converted", p.Key, strings.Join(p.Args, " "))
				}
				in.UnicastPeers = append(in.UnicastPeers, a)
			}
		case "authentication":
			for _, a := range n.Children {
				switch a.Key {
				case "auth_type":
					if t := strings.ToUpper(c.arg(a, 0)); t != "PASS" {
						c.warn(a, "auth_type %s: not supported (only PASS)", t)
					}
				case "auth_pass":
					in.AuthPass = c.arg(a, 0)
				default:
					c.skip(a)
				}
			}
		case "virtual_ipaddress":
			vipNodes = append(vipNodes, n.Children...)
		case "virtual_ipaddress_excluded":
			c.warn(n, "virtual_ipaddress_excluded: converted to vips (vipd sends every VIP in adverts)")
			vipNodes = append(vipNodes, n.Children...)
		case "track_interface":
			for _, t := range n.Children {
				ti := TrackInterface{Name: t.Key}
				ti.Weight = c.weightArg(t)
				in.TrackInterfaces = append(in.TrackInterfaces, ti)
			}
		case "track_script":
			for _, t := range n.Children {
				ts := TrackScript{Name: t.Key}
				ts.Weight = c.weightArg(t)
				in.TrackScripts = append(in.TrackScripts, ts)
			}
		case "notify":
			in.Notify = script(n)
		case "notify_master":
			in.NotifyMaster = script(n)
		case "notify_backup":
			in.NotifyBackup = script(n)
		case "notify_fault":
			in.NotifyFault = script(n)
		case "notify_stop":
			in.NotifyStop = script(n)
		case "garp_master_delay":
			in.GARP.MasterDelay = c.dur(n)
		case "garp_master_repeat":
			in.GARP.Count = c.int(n)
		case "garp_master_refresh":
			in.GARP.MasterRefresh = c.dur(n)
		case "garp_interval", "gna_interval":
			in.GARP.Interval = c.dur(n)
		case "lvs_sync_daemon_interface":
			c.cfg.Global.LVSSyncDaemon.Interface = c.arg(n, 0)
			c.cfg.Global.LVSSyncDaemon.Instance = in.Name
		case "native_ipv6":
			// The VIPs give the family.
		case "smtp_alert":
			c.warn(n, "smtp_alert: e-mail alerts are not supported; use notify scripts")
		default:
			c.skip(n)
		}
	}
	for _, v := range vipNodes {
		p, err := ParseVIP(v.Key)
		if err != nil {
			c.warn(v, "virtual_ipaddress: %v", err)
			continue
		}
		otherDev := false
		for i := 0; i < len(v.Args); i++ {
			switch v.Args[i] {
			case "dev":
				if i+1 < len(v.Args) && v.Args[i+1] != in.Interface {
					c.warn(v, "virtual_ipaddress %s dev %s: not converted: vipd puts every VIP on the instance's interface %s; make a separate instance on %s", v.Key, v.Args[i+1], in.Interface, v.Args[i+1])
					otherDev = true
				}
				i++
			case "label", "brd", "broadcast", "scope":
				c.warn(v, "virtual_ipaddress %s: %s %s not converted", v.Key, v.Args[i], strings.Join(v.Args[i+1:min(i+2, len(v.Args))], ""))
				i++
			default:
				c.warn(v, "virtual_ipaddress %s: %s not converted", v.Key, v.Args[i])
			}
		}
		if !otherDev {
			in.VIPs = append(in.VIPs, VIP{Prefix: p})
		}
	}
	if instanceFamily(in) == 6 && in.Version == 2 {
		in.Version = 3 // keepalived uses v3 for IPv6 whatever vrrp_version says
	}
	if in.Version == 2 && in.AdvertInterval%time.Second != 0 {
		if versionSet {
			c.warn(b, "vrrp_instance %s: advert_int %s with version 2; using version 3", in.Name, in.AdvertInterval)
		}
		in.Version = 3
	}
	if in.Version == 3 && in.AuthPass != "" {
		c.warn(b, "vrrp_instance %s: authentication dropped (VRRP v3 has none)", in.Name)
		in.AuthPass = ""
	}
	c.cfg.Instances = append(c.cfg.Instances, in)
}

// weightArg reads "NAME weight N" (track_interface, track_script).
func (c *kaConv) weightArg(n *kaNode) int {
	for i := 0; i+1 < len(n.Args); i++ {
		if n.Args[i] == "weight" {
			w, err := strconv.Atoi(n.Args[i+1])
			if err != nil {
				c.warn(n, "%s: weight %q is not a number", n.Key, n.Args[i+1])
			}
			if len(n.Args) > i+2 && n.Args[i+2] == "reverse" {
				c.warn(n, "%s: weight reverse not converted", n.Key)
			}
			return w
		}
	}
	if len(n.Args) > 0 {
		c.warn(n, "%s: %s not converted", n.Key, strings.Join(n.Args, " "))
	}
	return 0
}

func (c *kaConv) syncGroup(b *kaNode) {
	g := SyncGroup{Name: c.arg(b, 0)}
	for _, n := range b.Children {
		switch n.Key {
		case "group":
			for _, m := range n.Children {
				g.Instances = append(g.Instances, m.Key)
				g.Instances = append(g.Instances, m.Args...)
			}
		case "notify_master":
			g.NotifyMaster = script(n)
		case "notify_backup":
			g.NotifyBackup = script(n)
		case "notify_fault":
			g.NotifyFault = script(n)
		default:
			c.skip(n)
		}
	}
	c.cfg.SyncGroups = append(c.cfg.SyncGroups, g)
}

// hostPort joins a keepalived "IP PORT" pair as IP:PORT ([v6]:PORT).
func hostPort(ip, port string) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:" + port
	}
	return ip + ":" + port
}

func (c *kaConv) addrPort(n *kaNode, args []string) (netip.AddrPort, bool) {
	if len(args) < 2 {
		c.warn(n, "%s: want IP PORT", n.Key)
		return netip.AddrPort{}, false
	}
	ap, err := netip.ParseAddrPort(hostPort(args[0], args[1]))
	if err != nil {
		c.warn(n, "%s: %s %s is not IP PORT", n.Key, args[0], args[1])
		return netip.AddrPort{}, false
	}
	return ap, true
}

func (c *kaConv) vsGroup(b *kaNode) {
	g := VirtualServerGroup{Name: c.arg(b, 0)}
	for _, n := range b.Children {
		var m string
		switch {
		case n.Key == "fwmark":
			m = "fwmark " + c.arg(n, 0)
		case len(n.Args) >= 1:
			m = hostPort(n.Key, n.Args[0])
		default:
			c.warn(n, "virtual_server_group %s: %s: want IP PORT or fwmark N", g.Name, n.Key)
			continue
		}
		if _, _, _, err := ParseGroupMember(m); err != nil {
			c.warn(n, "virtual_server_group %s: %v", g.Name, err)
			continue
		}
		g.Members = append(g.Members, m)
	}
	c.cfg.VirtualServerGroups = append(c.cfg.VirtualServerGroups, g)
}

func (c *kaConv) virtualServer(b *kaNode) {
	vs := DefaultVirtualServer()
	switch {
	case len(b.Args) >= 2 && b.Args[0] == "fwmark":
		n, err := strconv.ParseUint(b.Args[1], 10, 32)
		if err != nil {
			c.warn(b, "virtual_server fwmark %s: not a number", b.Args[1])
		}
		vs.FWMark = uint32(n)
	case len(b.Args) >= 2 && b.Args[0] == "group":
		vs.Group = b.Args[1]
	default:
		ap, ok := c.addrPort(b, b.Args)
		if !ok {
			return
		}
		vs.Address = ap
	}
	// keepalived 2.x lets virtual_server and real_server give defaults
	// for their checkers (in any order relative to the real servers).
	base := DefaultCheck()
	for _, n := range b.Children {
		c.checkDefault(n, &base)
	}
	for _, n := range b.Children {
		switch n.Key {
		case "connect_timeout", "retry", "nb_get_retry", "delay_before_retry", "virtualhost":
			// Applied to the checks through base.
		case "delay_loop":
			vs.DelayLoop = c.dur(n)
		case "lb_algo", "lvs_sched":
			vs.Scheduler = c.arg(n, 0)
		case "lb_kind", "lvs_method":
			vs.Forwarding = strings.ToUpper(c.arg(n, 0))
		case "sh-port", "sh-fallback", "mh-port", "mh-fallback", "flag-1", "flag-2", "flag-3":
			vs.SchedulerFlags = append(vs.SchedulerFlags, n.Key)
		case "persistence_timeout":
			if len(n.Args) == 0 {
				vs.PersistenceTimeout = 360 * time.Second // keepalived's default when given bare
			} else {
				vs.PersistenceTimeout = c.dur(n)
			}
		case "persistence_granularity":
			vs.PersistenceGranularity = c.arg(n, 0)
		case "protocol":
			vs.Protocol = strings.ToUpper(c.arg(n, 0))
		case "sorry_server":
			if ap, ok := c.addrPort(n, n.Args); ok {
				vs.SorryServer = ap
			}
		case "quorum":
			vs.Quorum = c.int(n)
		case "hysteresis":
			vs.Hysteresis = c.int(n)
		case "quorum_up":
			vs.QuorumUp = script(n)
		case "quorum_down":
			vs.QuorumDown = script(n)
		case "inhibit_on_failure":
			vs.InhibitOnFailure = true
		case "ip_family":
			// The addresses give the family.
		case "real_server":
			if rs, ok := c.realServer(n, base); ok {
				vs.RealServers = append(vs.RealServers, rs)
			}
		default:
			c.skip(n)
		}
	}
	c.cfg.VirtualServers = append(c.cfg.VirtualServers, vs)
}

func (c *kaConv) realServer(b *kaNode, base Check) (RealServer, bool) {
	rs := DefaultRealServer()
	ap, ok := c.addrPort(b, b.Args)
	if !ok {
		return rs, false
	}
	rs.Address = ap
	for _, n := range b.Children {
		c.checkDefault(n, &base)
		if n.Key == "delay_loop" {
			base.DelayLoop = c.dur(n)
		}
	}
	for _, n := range b.Children {
		switch n.Key {
		case "connect_timeout", "retry", "nb_get_retry", "delay_before_retry", "virtualhost", "delay_loop":
			// Applied to the checks through base.
		case "weight":
			rs.Weight = c.int(n)
		case "inhibit_on_failure":
			t := true
			rs.InhibitOnFailure = &t
		case "uthreshold":
			rs.UpperThreshold = c.int(n)
		case "lthreshold":
			rs.LowerThreshold = c.int(n)
		case "lb_kind", "lvs_method":
			rs.Forwarding = strings.ToUpper(c.arg(n, 0))
		case "TCP_CHECK":
			rs.Checks = append(rs.Checks, c.check(n, CheckTCP, base))
		case "HTTP_GET", "SSL_GET":
			typ := CheckHTTP
			if n.Key == "SSL_GET" {
				typ = CheckHTTPS
			}
			hc := c.check(n, typ, base)
			var urls []*kaNode
			for _, u := range n.Children {
				if u.Key == "url" {
					urls = append(urls, u)
				}
			}
			if len(urls) == 0 {
				rs.Checks = append(rs.Checks, hc)
			}
			for _, u := range urls {
				ch := hc
				ch.StatusCodes = nil
				for _, f := range u.Children {
					switch f.Key {
					case "path":
						ch.Path = c.arg(f, 0)
					case "digest":
						ch.Digest = strings.ToLower(c.arg(f, 0))
					case "status_code":
						ch.StatusCodes = append(ch.StatusCodes, c.statusCodes(f)...)
					case "virtualhost":
						ch.VirtualHost = c.arg(f, 0)
					default:
						c.skip(f)
					}
				}
				rs.Checks = append(rs.Checks, ch)
			}
		case "MISC_CHECK":
			rs.Checks = append(rs.Checks, c.check(n, CheckMisc, base))
		case "DNS_CHECK":
			rs.Checks = append(rs.Checks, c.check(n, CheckDNS, base))
		case "UDP_CHECK":
			rs.Checks = append(rs.Checks, c.check(n, CheckUDP, base))
		case "notify_up", "notify_down":
			c.warn(n, "%s: not converted (real server notify scripts are not supported)", n.Key)
		default:
			c.skip(n)
		}
	}
	return rs, true
}

// statusCodes reads "status_code 200", "status_code 200-204 301".
func (c *kaConv) statusCodes(n *kaNode) []int {
	var out []int
	for _, a := range n.Args {
		lo, hi, isRange := strings.Cut(a, "-")
		l, err1 := strconv.Atoi(lo)
		h := l
		var err2 error
		if isRange {
			h, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || l < 100 || h > 599 || h < l {
			c.warn(n, "status_code %q not converted", a)
			continue
		}
		for code := l; code <= h; code++ {
			out = append(out, code)
		}
	}
	return out
}

// checkDefault applies a virtual_server/real_server level checker default
// to base (other keywords are ignored).
func (c *kaConv) checkDefault(n *kaNode, base *Check) {
	switch n.Key {
	case "connect_timeout":
		base.ConnectTimeout = c.dur(n)
	case "retry", "nb_get_retry":
		base.Retry = c.int(n)
	case "delay_before_retry":
		base.DelayBeforeRetry = c.dur(n)
	case "virtualhost":
		base.VirtualHost = c.arg(n, 0)
	}
}

// check converts one checker block, starting from the inherited defaults.
func (c *kaConv) check(b *kaNode, typ string, base Check) Check {
	ch := base
	ch.Type = typ
	if typ != CheckHTTP && typ != CheckHTTPS {
		ch.VirtualHost = ""
	}
	for _, n := range b.Children {
		switch n.Key {
		case "url":
			// handled by the caller (one check per url).
		case "connect_ip":
			if a, err := netip.ParseAddr(c.arg(n, 0)); err == nil {
				ch.ConnectIP = a
			} else {
				c.warn(n, "connect_ip: %q is not an IP address", c.arg(n, 0))
			}
		case "connect_port":
			ch.ConnectPort = c.int(n)
		case "connect_timeout", "misc_timeout":
			ch.ConnectTimeout = c.dur(n)
		case "delay_loop":
			ch.DelayLoop = c.dur(n)
		case "retry", "nb_get_retry":
			ch.Retry = c.int(n)
		case "delay_before_retry":
			ch.DelayBeforeRetry = c.dur(n)
		case "virtualhost":
			ch.VirtualHost = c.arg(n, 0)
		case "misc_path":
			ch.Command = script(n)
		case "misc_dynamic":
			ch.Dynamic = true
		case "user":
			ch.User = c.arg(n, 0)
		case "type":
			ch.QueryType = strings.ToUpper(c.arg(n, 0))
		case "name":
			ch.QueryName = c.arg(n, 0)
		case "payload", "require_reply":
			c.warn(n, "%s %s: %s not converted (vipd's udp check takes text send/expect)", b.Key, n.Key, strings.Join(n.Args, " "))
		case "bindto", "bind_port", "bind_if", "fwmark", "warmup", "alpha", "omega", "log_all_failures":
			c.warn(n, "%s %s: not converted", b.Key, n.Key)
		case "enable_sni", "tls_compliant", "http_protocol":
			c.warn(n, "%s %s: not converted", b.Key, n.Key)
		default:
			c.skip(n)
		}
	}
	if ch.ConnectTimeout == 0 && typ != CheckMisc {
		ch.ConnectTimeout = DefaultCheck().ConnectTimeout
	}
	return ch
}
