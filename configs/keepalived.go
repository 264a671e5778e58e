package configs

import (
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ParseKeepalived converts a keepalived.conf read from r into a vipd
// Config (includes are relative to the working directory; @ lines are
// refused). See ParseKeepalivedWith.
func ParseKeepalived(r io.Reader) (*Config, []string, error) {
	return ParseKeepalivedWith(r, "", "", KeepalivedOptions{})
}

// ParseKeepalivedFile converts the keepalived.conf at path; includes are
// relative to its directory.
func ParseKeepalivedFile(path string, opts KeepalivedOptions) (*Config, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("keepalived: %w", err)
	}
	defer f.Close()
	return ParseKeepalivedWith(f, "", filepath.Dir(path), opts)
}

// ParseKeepalivedWith converts a keepalived.conf into a vipd Config with the
// same behaviour, or fails. name is how the main file is named in messages
// ("" : "line N"), dir where its relative includes are looked up ("" : the
// working directory).
//
// What vipd expresses differently but equivalently is converted (with a
// warning when the text changes, e.g. a truncated auth_pass); an option
// that vipd cannot honour and that changes behaviour (auth_type AH,
// use_vmac, weight reverse, …) is an error naming its line; one that does
// not change behaviour is a warning. keepalived's implicit defaults that
// differ from vipd's are written out explicitly (VRRP version 2, check
// retry and delays, tracking of the instance's own interface, …). On
// error the returned Config is nil and the error lists every refused
// line. The result is not validated: run Validate on it.
func ParseKeepalivedWith(r io.Reader, name, dir string, opts KeepalivedOptions) (*Config, []string, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("keepalived: read: %w", err)
	}
	if dir == "" {
		dir = "."
	}
	segs, warnings, err := kaRead(data, name, dir, opts)
	if err != nil {
		return nil, warnings, err
	}
	nodes, err := kaParse(segs)
	if err != nil {
		return nil, warnings, err
	}
	c := &kaConv{cfg: DefaultConfig(), instDefault: DefaultInstance(), warnings: warnings, opts: opts}
	c.cfg.Global.Node = ""
	c.instDefault.Version = 0 // decided per instance (keepalived vrrp.c vrrp_complete_instance)
	// keepalived sends a burst's gratuitous ARPs back to back
	// (global_data.c: vrrp_garp_interval 0); vipd's default spaces them.
	c.instDefault.GARP.Interval = 0
	// global_defs first: it sets defaults of the instances.
	for _, n := range nodes {
		if n.Key == "global_defs" {
			c.globalDefs(n)
		}
	}
	for _, n := range nodes {
		if n.Key == "vrrp_script" {
			c.script(n)
		}
	}
	for _, n := range nodes {
		switch n.Key {
		case "global_defs", "vrrp_script":
		case "vrrp_instance":
			c.instance(n)
		case "vrrp_sync_group":
			c.syncGroup(n)
		case "virtual_server_group":
			c.vsGroup(n)
		case "virtual_server":
			c.virtualServer(n)
		case "static_ipaddress", "static_routes", "static_rules":
			c.fail(n, "%s: not supported by vipd (it manages addresses and routes per VRRP instance only); configure them with the system's network configuration", n.Key)
		case "bfd_instance":
			c.bfdInstance(n)
		case "vrrp_track_process", "vrrp_track_file", "track_file", "garp_group", "linkbeat_interfaces", "interface_up_down_delays", "static_track_group":
			c.fail(n, "%s: not supported by vipd", n.Key)
		default:
			c.unknown(n)
		}
	}
	c.finish()
	if len(c.errs) > 0 {
		return nil, c.warnings, &MigrateError{Errs: c.errs}
	}
	// Without router_id, Node stays "": Load fills in the host name of the
	// machine that runs vipd, not of the one that ran the migration.
	return c.cfg, c.warnings, nil
}

// MigrateError lists every line of a keepalived.conf that cannot be
// converted without changing its behaviour.
type MigrateError struct {
	Errs []string
}

func (e *MigrateError) Error() string {
	return "keepalived: cannot convert without changing behaviour:\n" + strings.Join(e.Errs, "\n")
}

type kaConv struct {
	cfg         *Config
	instDefault Instance
	opts        KeepalivedOptions
	warnings    []string
	errs        []string

	globalVersion int  // vrrp_version (0: unset)
	strict        bool // vrrp_strict
	firewall      bool // vrrp_iptables/nftables configured
	alertVRRP     *bool
	alertChecker  *bool
	syncNode      *kaNode // the lvs_sync_daemon(_interface) in force
	globalNode    *kaNode // global_defs, for warnings about it as a whole
	scriptIdx     map[string]int
	dropped       map[string]string // track scripts keepalived would drop → why
	w0Scripts     map[string]string // script → its weight-0 copy
}

func (c *kaConv) warn(n *kaNode, format string, args ...any) {
	c.warnings = append(c.warnings, fmt.Sprintf("%s: %s", n.Pos, fmt.Sprintf(format, args...)))
}

func (c *kaConv) fail(n *kaNode, format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf("%s: %s", n.Pos, fmt.Sprintf(format, args...)))
}

// unknown handles a keyword vipd does not know: keepalived ignores the
// keywords it does not know either ("Unknown keyword", parser.c:3245), but
// one it knows and vipd does not may change behaviour: refuse.
func (c *kaConv) unknown(n *kaNode) {
	c.fail(n, "%s: not supported by vipd migrate (if keepalived does not know it either, remove it)", n.Key)
}

// ignore warns about a keyword that does not change what vipd does.
func (c *kaConv) ignore(n *kaNode, why string) {
	c.warn(n, "%s: not converted (%s)", n.Key, why)
}

// arg returns the i-th argument or "" (an error when missing).
func (c *kaConv) arg(n *kaNode, i int) string { //nolint:unparam // i: the argument index; all callers read the first today
	if i < len(n.Args) {
		return n.Args[i]
	}
	c.fail(n, "%s: missing value", n.Key)
	return ""
}

// intIn reads the first argument as an integer in lo..hi. keepalived
// ignores an invalid value with an error message (read_int_strvec); so does
// the conversion, as an error.
func (c *kaConv) intIn(n *kaNode, lo, hi int) (int, bool) {
	s := c.arg(n, 0)
	if s == "" {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		c.fail(n, "%s: %q is not a number in %d..%d (keepalived would ignore the line)", n.Key, s, lo, hi)
		return 0, false
	}
	return v, true
}

// dur reads the first argument as seconds (decimals allowed, keepalived
// read_decimal_unsigned_strvec) or a Go duration.
func (c *kaConv) dur(n *kaNode) (time.Duration, bool) {
	s := c.arg(n, 0)
	if s == "" {
		return 0, false
	}
	d, err := ParseDuration(s)
	if err != nil {
		c.fail(n, "%s: %v", n.Key, err)
		return 0, false
	}
	return d, true
}

// boolArg reads keepalived's optional on/off argument (check_true_false:
// true/on/yes, false/off/no); no argument means on.
func (c *kaConv) boolArg(n *kaNode) bool {
	if len(n.Args) == 0 {
		return true
	}
	switch strings.ToLower(n.Args[0]) {
	case "true", "on", "yes":
		return true
	case "false", "off", "no":
		return false
	}
	c.fail(n, "%s: %q is not true/false", n.Key, n.Args[0])
	return false
}

// command converts a script keyword. keepalived execs the words of the
// (quoted) command directly, without a shell (notify.c system_call: execve
// of script->args); vipd runs commands with /bin/sh -c, so the words are
// shell-quoted to run exactly the same argv. A third word is the user (and
// a fourth the group) the script runs as. withUser reports whether the
// keyword takes a user (notify scripts, not vrrp_script's script).
func (c *kaConv) command(n *kaNode, withUser bool) (cmd, user string, ok bool) {
	argv, u, g, err := kaScriptArgv(n)
	if err != nil {
		c.fail(n, "%s: %v", n.Key, err)
		return "", "", false
	}
	words, _ := kaSplitQuoted(n.Raw, false)
	if len(words) > 2 {
		if !withUser {
			// vrrp_vscript_script_handler / misc_path_handler take slot 1 only.
			c.fail(n, "%s: keepalived runs only %q and ignores %q; quote the whole command line", n.Key, words[1], strings.Join(words[2:], " "))
			return "", "", false
		}
		if !strings.ContainsAny(words[1], " \t") {
			c.fail(n, "%s: keepalived runs %q as user %q (the words after an unquoted command are the user and group, and the script is ignored when the user does not exist); quote the whole command line", n.Key, words[1], u)
			return "", "", false
		}
		user = u
		if g != "" {
			user += ":" + g
		}
	}
	if strings.HasPrefix(argv[0], "<") && strings.HasPrefix(strings.TrimLeft(argv[0][1:], " \t"), "/") {
		// notify.c check_script_secure: "</path" tests that a file can be
		// opened; keepalived runs it with system(), i.e. /bin/sh -c.
		return strings.Join(argv, " "), user, true
	}
	cmd = shellQuote(argv)
	if cmd != strings.Join(argv, " ") {
		c.warn(n, "%s: keepalived runs %q without a shell; written as %s so that /bin/sh runs the same words", n.Key, strings.Join(argv, " "), cmd)
	}
	return cmd, user, true
}

// notifyCmd converts a notify script keyword; vipd runs notify scripts as
// its own user, so a user given here is refused.
func (c *kaConv) notifyCmd(n *kaNode) string {
	cmd, user, ok := c.command(n, true)
	if !ok {
		return ""
	}
	if user != "" {
		c.fail(n, "%s: runs as %s in keepalived; vipd runs notify scripts as its own user", n.Key, user)
	}
	return cmd
}

func (c *kaConv) globalDefs(b *kaNode) {
	c.globalNode = b
	g := &c.cfg.Global
	for _, n := range b.Children {
		switch n.Key {
		case "router_id":
			g.Node = c.arg(n, 0)
		case "script_user":
			g.ScriptUser = c.arg(n, 0)
			if len(n.Args) > 1 {
				g.ScriptUser += ":" + n.Args[1]
			}
		case "enable_script_security":
			g.EnableScriptSecurity = true
		case "lvs_flush":
			g.LVSFlush = true
		case "lvs_flush_on_stop", "lvs_flush_onstop":
			if len(n.Args) > 0 && n.Args[0] == "VS" {
				// Only keepalived's own services, without their real
				// servers one by one: what vipd does at stop anyway.
				c.warn(n, "%s VS: vipd removes its own services at stop (the same result)", n.Key)
			} else {
				g.LVSFlushOnStop = true
			}
		case "lvs_sync_daemon":
			c.syncDaemon(n)
		case "vrrp_version":
			if v, ok := c.intIn(n, 2, 3); ok {
				c.globalVersion = v
			}
		case "vrrp_garp_master_delay":
			if d, ok := c.dur(n); ok {
				c.instDefault.GARP.MasterDelay = d
			}
		case "vrrp_garp_master_repeat":
			if v, ok := c.intIn(n, 0, 100); ok {
				c.instDefault.GARP.Count = v
			}
		case "vrrp_garp_master_refresh":
			if d, ok := c.dur(n); ok {
				c.instDefault.GARP.MasterRefresh = d
			}
		case "vrrp_garp_master_refresh_repeat":
			c.warn(n, "%s: vipd re-announces with a burst of garp.count at each refresh", n.Key)
		case "vrrp_garp_interval", "vrrp_gna_interval":
			if d, ok := c.dur(n); ok {
				c.instDefault.GARP.Interval = d
			}
		case "vrrp_garp_lower_prio_delay", "vrrp_garp_lower_prio_repeat":
			c.ignore(n, "vipd re-announces when it hears another master")
		case "notification_email":
			for _, m := range n.Children {
				g.SMTP.To = append(g.SMTP.To, m.Key)
				g.SMTP.To = append(g.SMTP.To, m.Args...)
			}
		case "notification_email_from":
			g.SMTP.From = c.arg(n, 0)
		case "smtp_server":
			g.SMTP.Server = c.arg(n, 0)
			if len(n.Args) > 1 {
				if p, err := strconv.Atoi(n.Args[1]); err == nil && p > 0 && p < 65536 {
					g.SMTP.Port = p
				} else {
					c.fail(n, "smtp_server: port %q is not a number in 1..65535", n.Args[1])
				}
			}
			if ap, err := netip.ParseAddrPort(g.SMTP.Server); err == nil {
				g.SMTP.Server, g.SMTP.Port = ap.Addr().String(), int(ap.Port())
			}
		case "smtp_helo_name":
			g.SMTP.HELO = c.arg(n, 0)
		case "smtp_connect_timeout":
			if d, ok := c.dur(n); ok {
				g.SMTP.Timeout = d
			}
		case "smtp_alert":
			g.SMTPAlert = c.boolArg(n)
		case "smtp_alert_vrrp":
			v := c.boolArg(n)
			c.alertVRRP = &v
		case "smtp_alert_checker":
			v := c.boolArg(n)
			c.alertChecker = &v
		case "no_email_faults":
			c.fail(n, "%s: vipd alerts on every state change, FAULT included", n.Key)
		case "vrrp_strict":
			c.strict = c.boolArg(n)
		case "vrrp_iptables", "nftables", "vrrp_ipsets":
			c.firewall = true
			c.warn(n, "%s: vipd does not manage firewall rules (needed only without accept mode, which the conversion refuses)", n.Key)
		case "vrrp_skip_check_adv_addr":
			c.ignore(n, "vipd checks every advert's address list, which is the same for peers with the same VIPs")
		case "vrrp_check_unicast_src":
			c.ignore(n, "vipd accepts unicast adverts from its unicast_peers only")
		case "vrrp_mcast_group4", "vrrp_mcast_group6":
			c.fail(n, "%s: vipd uses the standard VRRP groups 224.0.0.18 / ff02::12", n.Key)
		case "vrrp_down_timer_adverts":
			if v, _ := c.intIn(n, 1, 100); v != 3 {
				c.fail(n, "%s: vipd uses the RFC's 3 adverts for the master down timer", n.Key)
			}
		case "vrrp_lower_prio_no_advert", "vrrp_higher_prio_send_advert", "vrrp_owner_ignore_adverts", "vrrp_notify_priority_changes", "notify_fifo", "vrrp_notify_fifo", "lvs_notify_fifo", "vrrp_startup_delay", "dynamic_interfaces", "max_auto_priority", "lvs_timeouts", "vmac_prefix", "vmac_addr_prefix", "default_interface":
			c.fail(n, "%s: not supported by vipd", n.Key)
		case "vrrp_priority", "checker_priority", "bfd_priority", "vrrp_no_swap", "checker_no_swap", "bfd_no_swap", "vrrp_rt_priority", "checker_rt_priority", "bfd_rt_priority",
			"vrrp_cpu_affinity", "checker_cpu_affinity", "bfd_cpu_affinity", "vrrp_rlimit_rttime", "checker_rlimit_rttime", "vrrp_rlimit_rtime", "checker_rlimit_rtime",
			"enable_traps", "enable_snmp_vrrp", "enable_snmp_keepalived", "enable_snmp_rfc", "enable_snmp_rfcv2", "enable_snmp_rfcv3", "enable_snmp_checker", "snmp_socket",
			"enable_dbus", "dbus_service_name", "process_names", "process_name", "vrrp_process_name", "checker_process_name", "lvs_process_name", "bfd_process_name",
			"checker_log_all_failures", "log_unknown_vrids", "vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_monitor_rcv_bufs", "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_monitor_rcv_bufs",
			"vrrp_rx_bufs_policy", "vrrp_rx_bufs_multiplier", "umask", "random_seed", "use_symlink_paths", "set_supplementary_groups", "startup_script_timeout", "shutdown_script_timeout",
			"v3_checksum_as_v2", "disable_local_igmp", "vrrp_min_garp", "vrrp_garp_extra_if", "vrrp_vmac_garp_intvl", "nftables_priority", "nftables_ifindex", "nftables_counters",
			"config_save_dir", "tmp_config_directory", "data_use_instance", "json_version", "state_dump_file", "stats_dump_file", "json_dump_file", "reload_check_config",
			"include_check", "rs_init_notifies", "no_checker_emails", "vrrp_delay_after_boot", "fifo_write_vrrp_states_on_reload", "reload_time_file", "reload_repeat", "reload_file",
			"snmp_vs_stats_update_interval", "snmp_rs_stats_update_interval", "iproute_usr_dir", "iproute_etc_dir", "dbus_no_interface_name":
			c.ignore(n, "a keepalived process, logging or tuning setting")
		default:
			c.unknown(n)
		}
	}
}

// syncDaemon is lvs_sync_daemon IFACE [inst] VI_NAME [id N]
// (global_parser.c lvs_syncd_handler): the first line wins.
func (c *kaConv) syncDaemon(n *kaNode) {
	if c.syncNode != nil {
		c.warn(n, "lvs_sync_daemon: already given at %s; ignored, as keepalived does", c.syncNode.Pos)
		return
	}
	c.syncNode = n
	sd := &c.cfg.Global.LVSSyncDaemon
	sd.Interface = c.arg(n, 0)
	for i := 1; i < len(n.Args); i++ {
		switch a := n.Args[i]; {
		case a == "inst" && i+1 < len(n.Args):
			sd.Instance = n.Args[i+1]
			i++
		case a == "id" && i+1 < len(n.Args):
			id, err := strconv.Atoi(n.Args[i+1])
			if err != nil || id < 0 || id > 255 {
				c.fail(n, "lvs_sync_daemon: id %q is not 0..255", n.Args[i+1])
			} else {
				sd.SyncID = &id
			}
			i++
		case a == "maxlen" || a == "port" || a == "ttl" || a == "group":
			c.fail(n, "lvs_sync_daemon: %s is not supported by vipd (the kernel's defaults are used)", a)
			i++
		case i == 1:
			sd.Instance = a
		case i == 2:
			id, err := strconv.Atoi(a)
			if err != nil || id < 0 || id > 255 {
				c.fail(n, "lvs_sync_daemon: sync id %q is not 0..255", a)
			} else {
				sd.SyncID = &id
			}
		default:
			c.fail(n, "lvs_sync_daemon: unknown option %q", a)
		}
	}
}

func (c *kaConv) script(b *kaNode) {
	s := DefaultScript()
	s.Name = c.arg(b, 0)
	if c.scriptIdx == nil {
		c.scriptIdx = map[string]int{}
	}
	var argv []string
	for _, n := range b.Children {
		switch n.Key {
		case "script":
			s.Command, _, _ = c.command(n, false)
			argv, _, _, _ = kaScriptArgv(n)
		case "interval":
			if d, ok := c.dur(n); ok {
				s.Interval = d
			}
		case "timeout":
			if d, ok := c.dur(n); ok {
				s.Timeout = d
			}
		case "weight":
			if v, ok := c.intIn(n, -254, 254); ok {
				s.Weight = v
			}
			if len(n.Args) > 1 && n.Args[1] == "reverse" {
				c.fail(n, "weight reverse: not supported by vipd")
			}
		case "rise":
			if v, ok := c.intIn(n, 1, math.MaxInt32); ok {
				s.Rise = v
			}
		case "fall":
			if v, ok := c.intIn(n, 1, math.MaxInt32); ok {
				s.Fall = v
			}
		case "user":
			s.User = c.arg(n, 0)
			if len(n.Args) > 1 {
				s.User += ":" + n.Args[1]
			}
		case "init_fail":
			c.fail(n, "init_fail: vipd starts every script as succeeding, as keepalived does without init_fail")
		default:
			c.unknown(n)
		}
	}
	if s.Command == "" {
		c.warn(b, "vrrp_script %s: no script; keepalived ignores it", s.Name)
		return
	}
	if c.opts.ScriptCheck != nil && len(argv) > 0 {
		user := s.User
		if user == "" {
			user = c.cfg.Global.ScriptUser
		}
		if err := c.opts.ScriptCheck(argv, user, c.cfg.Global.EnableScriptSecurity); err != nil {
			// notify.c check_notify_script_secure: keepalived disables a
			// missing or insecure script, and vrrp.c drops it from the
			// instances that track it.
			if c.dropped == nil {
				c.dropped = map[string]string{}
			}
			c.dropped[s.Name] = err.Error()
			c.warn(b, "vrrp_script %s: %v: keepalived would not track it; dropped from tracking (vipd would count it as failed)", s.Name, err)
			return
		}
	}
	c.scriptIdx[s.Name] = len(c.cfg.Scripts)
	c.cfg.Scripts = append(c.cfg.Scripts, s)
}

// kaInst collects what decides an instance's effective settings after all
// its keywords are read (vrrp.c vrrp_complete_instance).
type kaInst struct {
	prioSet, stateSet, versionSet bool
	accept                        *bool
	strict                        bool
	authType                      string
	authNode                      *kaNode
	advertNode                    *kaNode
	trackPrimary                  bool
	family                        int
	unicastNode                   *kaNode
}

func (c *kaConv) instance(b *kaNode) {
	in := c.instDefault
	in.Name = c.arg(b, 0)
	k := kaInst{strict: c.strict, trackPrimary: true}
	var vipNodes, evipNodes []*kaNode
	setFamily := func(a netip.Addr) {
		if k.family == 0 && a.IsValid() {
			k.family = family(a)
		}
	}
	for _, n := range b.Children {
		switch n.Key {
		case "state":
			switch s := c.arg(n, 0); s {
			case "MASTER", "BACKUP":
				in.State, k.stateSet = s, true
			case "EQUAL":
				c.fail(n, "state EQUAL: not supported by vipd")
			default:
				c.fail(n, "state %q is not MASTER or BACKUP", s)
			}
		case "interface":
			in.Interface = c.arg(n, 0)
		case "virtual_router_id":
			if v, ok := c.intIn(n, 1, 255); ok {
				in.VRID = v
			}
		case "priority":
			if v, ok := c.intIn(n, 1, 255); ok {
				in.Priority, k.prioSet = v, true
			}
		case "advert_int":
			if d, ok := c.dur(n); ok {
				in.AdvertInterval, k.advertNode = d, n
			}
		case "version":
			if v, ok := c.intIn(n, 2, 3); ok {
				in.Version, k.versionSet = v, true
			}
		case "nopreempt":
			in.Preempt = false
		case "preempt":
			in.Preempt = true
		case "preempt_delay":
			if d, ok := c.dur(n); ok {
				in.PreemptDelay = d
			}
		case "accept":
			t := true
			k.accept = &t
		case "no_accept":
			f := false
			k.accept = &f
		case "strict_mode":
			k.strict = c.boolArg(n)
		case "unicast_src_ip", "mcast_src_ip":
			if a, err := netip.ParseAddr(c.arg(n, 0)); err == nil {
				in.UnicastSrcIP = a
				setFamily(a)
			} else {
				c.fail(n, "%s: %q is not an IP address", n.Key, c.arg(n, 0))
			}
		case "unicast_peer":
			k.unicastNode = n
			for _, p := range n.Children {
				a, err := netip.ParseAddr(p.Key)
				if err != nil {
					c.fail(p, "unicast_peer: %q is not an IP address", p.Key)
					continue
				}
				if len(p.Args) > 0 {
					c.warn(p, "unicast_peer %s: %s not converted (vipd requires TTL 255 of every advert)", p.Key, strings.Join(p.Args, " "))
				}
				setFamily(a)
				in.UnicastPeers = append(in.UnicastPeers, a)
			}
		case "authentication":
			for _, a := range n.Children {
				switch a.Key {
				case "auth_type":
					k.authType, k.authNode = strings.ToUpper(c.arg(a, 0)), a
				case "auth_pass":
					// vrrp_auth_pass_handler keeps at most 8 characters.
					p := c.arg(a, 0)
					if len(p) > 8 {
						c.warn(a, "auth_pass: keepalived uses the first 8 characters %q of %q", p[:8], p)
						p = p[:8]
					}
					in.AuthPass = p
				default:
					c.unknown(a)
				}
			}
		case "auth_hmac":
			c.fail(n, "auth_hmac: not supported by vipd")
		case "virtual_ipaddress":
			vipNodes = append(vipNodes, n.Children...)
			for _, v := range n.Children {
				if p, err := ParseVIP(v.Key); err == nil {
					setFamily(p.Addr())
				}
			}
		case "virtual_ipaddress_excluded":
			evipNodes = append(evipNodes, n.Children...)
		case "virtual_routes":
			c.routes(n, &in)
		case "virtual_rules":
			c.rules(n, &in)
		case "track_interface":
			for _, t := range n.Children {
				w, ok := c.trackWeight(t)
				if ok {
					in.TrackInterfaces = append(in.TrackInterfaces, TrackInterface{Name: t.Key, Weight: w})
				}
			}
		case "track_script":
			for _, t := range n.Children {
				c.trackScript(t, &in)
			}
		case "dont_track_primary":
			k.trackPrimary = false
		case "notify":
			in.Notify = c.notifyCmd(n)
		case "notify_master":
			in.NotifyMaster = c.notifyCmd(n)
		case "notify_backup":
			in.NotifyBackup = c.notifyCmd(n)
		case "notify_fault":
			in.NotifyFault = c.notifyCmd(n)
		case "notify_stop":
			in.NotifyStop = c.notifyCmd(n)
		case "smtp_alert":
			v := c.boolArg(n)
			in.SMTPAlert = &v
		case "garp_master_delay":
			if d, ok := c.dur(n); ok {
				in.GARP.MasterDelay = d
			}
		case "garp_master_repeat":
			if v, ok := c.intIn(n, 0, 100); ok {
				in.GARP.Count = v
			}
		case "garp_master_refresh":
			if d, ok := c.dur(n); ok {
				in.GARP.MasterRefresh = d
			}
		case "garp_master_refresh_repeat":
			c.warn(n, "%s: vipd re-announces with a burst of garp.count at each refresh", n.Key)
		case "garp_interval", "gna_interval":
			if d, ok := c.dur(n); ok {
				in.GARP.Interval = d
			}
		case "garp_lower_prio_delay", "garp_lower_prio_repeat":
			c.ignore(n, "vipd re-announces when it hears another master")
		case "lvs_sync_daemon_interface":
			// vrrp_lvs_syncd_handler: the first one given wins.
			if c.syncNode != nil {
				c.warn(n, "lvs_sync_daemon_interface: already given at %s; ignored, as keepalived does", c.syncNode.Pos)
				break
			}
			c.syncNode = n
			c.cfg.Global.LVSSyncDaemon.Interface = c.arg(n, 0)
			c.cfg.Global.LVSSyncDaemon.Instance = in.Name
		case "native_ipv6":
			// The VIPs give the family.
		case "skip_check_adv_addr":
			c.ignore(n, "vipd checks every advert's address list, which is the same for peers with the same VIPs")
		case "check_unicast_src":
			c.ignore(n, "vipd accepts unicast adverts from its unicast_peers only")
		case "unicast_fault_no_peer", "promote_secondaries", "debug", "kernel_rx_buf_size", "linkbeat_use_polling":
			c.ignore(n, "no effect on vipd's behaviour")
		case "down_timer_adverts":
			if v, _ := c.intIn(n, 1, 100); v != 3 {
				c.fail(n, "%s: vipd uses the RFC's 3 adverts for the master down timer", n.Key)
			}
		case "use_vmac", "use_vmac_addr", "vmac_xmit_base", "use_ipvlan":
			c.fail(n, "%s: vipd does not create VRRP virtual MAC interfaces (the VIPs would move with the host's MAC)", n.Key)
		case "track_bfd":
			for _, t := range n.Children {
				w, ok := c.trackWeight(t)
				if !ok {
					continue
				}
				if len(t.Args) > 0 && w == 0 {
					// keepalived: an explicit weight 0 is FAULT; vipd's 0 means
					// the bfd_instance's weight.
					for _, b := range c.cfg.BFDInstances {
						if b.Name == t.Key && b.Weight != 0 {
							c.fail(t, "track_bfd %s weight 0: set weight 0 on bfd_instance %s instead (vipd's 0 means its weight)", t.Key, t.Key)
						}
					}
				}
				in.TrackBFD = append(in.TrackBFD, TrackBFD{Name: t.Key, Weight: w})
			}
		case "track_file", "track_process", "track_src_ip":
			c.fail(n, "%s: not supported by vipd (the instance would stop tracking it)", n.Key)
		case "mcast_dst_ip":
			c.fail(n, "%s: vipd uses the standard VRRP groups 224.0.0.18 / ff02::12", n.Key)
		case "unicast_ttl":
			c.fail(n, "%s: vipd sends and requires TTL 255", n.Key)
		case "no_virtual_ipaddress":
			// keepalived allows an instance without VIPs.
		default:
			c.unknown(n)
		}
	}
	c.vips(&in, &k, vipNodes, evipNodes)
	c.complete(b, &in, &k)
	c.cfg.Instances = append(c.cfg.Instances, in)
}

// vips converts virtual_ipaddress and virtual_ipaddress_excluded entries:
// "ADDR[/LEN] [dev IFACE] [brd X] [scope S] [label L] …"
// (vrrp_ipaddress.c alloc_ipaddress). A VIP of another family than the
// instance is ignored by keepalived (vrrp_data.c alloc_vrrp_vip), as are
// duplicates.
func (c *kaConv) vips(in *Instance, k *kaInst, vipNodes, evipNodes []*kaNode) {
	seen := map[netip.Addr]bool{}
	conv := func(v *kaNode, excluded bool) (VIP, bool) {
		p, err := ParseVIP(v.Key)
		if err != nil {
			c.fail(v, "virtual_ipaddress: %v", err)
			return VIP{}, false
		}
		vip := VIP{Prefix: p}
		for i := 0; i < len(v.Args); i++ {
			a := v.Args[i]
			val := ""
			if i+1 < len(v.Args) {
				val = v.Args[i+1]
			}
			switch a {
			case "dev":
				if val != in.Interface {
					vip.Dev = val
				}
				i++
			case "label":
				c.warn(v, "%s: label %s not converted (the address is the same without it)", v.Key, val)
				i++
			case "brd", "broadcast":
				c.warn(v, "%s: %s %s not converted (vipd lets the kernel derive the broadcast address)", v.Key, a, val)
				i++
			case "scope":
				if val == "link" && p.Addr().Is6() && p.Addr().IsLinkLocalUnicast() {
					// The kernel gives fe80::/10 addresses scope link anyway.
					c.warn(v, "%s: scope link not converted (the kernel gives link-local addresses scope link)", v.Key)
				} else if val != "global" && val != "universe" && val != "0" {
					c.fail(v, "%s: scope %s: vipd adds VIPs with scope global", v.Key, val)
				}
				i++
			case "no_track", "preferred_lft", "home", "nodad":
				if a == "preferred_lft" {
					i++
				}
				c.warn(v, "%s: %s not converted", v.Key, a)
			default:
				c.fail(v, "%s: %s: not supported by vipd", v.Key, a)
			}
		}
		if seen[p.Addr()] {
			c.warn(v, "%s: listed twice; keepalived ignores the second", v.Key)
			return VIP{}, false
		}
		seen[p.Addr()] = true
		if !excluded && family(p.Addr()) != k.family {
			c.warn(v, "%s: not of the instance's family; keepalived ignores it (use virtual_ipaddress_excluded for a dual-stack instance)", v.Key)
			return VIP{}, false
		}
		return vip, true
	}
	for _, v := range vipNodes {
		if vip, ok := conv(v, false); ok {
			in.VIPs = append(in.VIPs, vip)
		}
	}
	for _, v := range evipNodes {
		if vip, ok := conv(v, true); ok {
			in.ExcludedVIPs = append(in.ExcludedVIPs, vip)
		}
	}
	// vrrp_complete_instance: VIPs that do not fit in an advert (255, or
	// the MTU: 89 IPv6 addresses at 1500 bytes) become excluded VIPs.
	max := 255
	if k.family == 6 {
		max = (1500 - 14 - 40 - 8) / 16
	}
	if len(in.VIPs) > max {
		c.warn(vipNodes[0], "%d VIPs: keepalived advertises the first %d (assuming MTU 1500) and holds the rest as excluded VIPs; so does the conversion", len(in.VIPs), max)
		in.ExcludedVIPs = append(slices.Clone(in.VIPs[max:]), in.ExcludedVIPs...)
		in.VIPs = in.VIPs[:max]
	}
}

// complete applies keepalived's vrrp_complete_instance (vrrp.c) to the
// instance: priority and state derived from each other, version per
// family, strict mode, authentication, advert interval rounding,
// preemption rules and the accept mode.
func (c *kaConv) complete(b *kaNode, in *Instance, k *kaInst) {
	if k.family == 0 {
		k.family = 4
	}
	// Priority and state (vrrp.c: "If no priority has been set, derive it
	// from the initial state" and the reverse).
	if !k.prioSet {
		in.Priority = 100
		if k.stateSet && in.State == "MASTER" {
			in.Priority = 255
			c.warn(b, "vrrp_instance %s: state MASTER without priority: keepalived uses priority 255 (address owner)", in.Name)
		}
	}
	if !k.stateSet && in.Priority == 255 {
		in.State = "MASTER"
	}
	if k.strict && (in.State == "MASTER") != (in.Priority == 255) {
		in.State = map[bool]string{true: "MASTER", false: "BACKUP"}[in.Priority == 255]
		c.warn(b, "vrrp_instance %s: strict mode: state must match being the address owner; keepalived uses %s", in.Name, in.State)
	}
	// Version: explicit > IPv6 → 3 > vrrp_version > 2.
	switch {
	case k.family == 6 && k.versionSet && in.Version == 2:
		if k.strict {
			in.Version = 3
		} else {
			c.fail(b, "vrrp_instance %s: version 2 with IPv6: keepalived sends non-standard VRRPv2 over IPv6, vipd cannot", in.Name)
		}
	case k.versionSet:
	case k.family == 6:
		in.Version = 3
	case c.globalVersion != 0:
		in.Version = c.globalVersion
	default:
		in.Version = 2 // keepalived's default (vipd's is 3)
	}
	// Authentication (vrrp.c, _WITH_VRRP_AUTH_).
	switch {
	case k.authNode == nil && in.AuthPass != "":
		c.warn(b, "vrrp_instance %s: auth_pass without auth_type: keepalived sends no authentication", in.Name)
		in.AuthPass = ""
	case k.authNode == nil:
	case k.strict:
		c.warn(k.authNode, "strict mode: keepalived ignores authentication; so does the conversion")
		in.AuthPass = ""
	case in.Version == 3:
		c.warn(k.authNode, "VRRP version 3 has no authentication: keepalived ignores it; so does the conversion")
		in.AuthPass = ""
	case in.AuthPass == "":
		c.warn(k.authNode, "authentication without auth_pass: keepalived ignores it")
	case k.authType == "AH":
		c.fail(k.authNode, "auth_type AH: vipd does not implement IPsec AH authentication (converting it to PASS would send the secret in clear)")
	case k.authType != "PASS":
		c.fail(k.authNode, "auth_type %q is not PASS or AH", k.authType)
	}
	// Advert interval: v2 in whole seconds rounded to the nearest (1..255),
	// v3 in centiseconds (10ms..40.95s) (vrrp.c, "adver_int").
	if k.advertNode != nil {
		d := in.AdvertInterval
		var r time.Duration
		if in.Version == 2 {
			r = max(time.Second, min(255*time.Second, (d+time.Second/2).Truncate(time.Second)))
		} else {
			r = max(10*time.Millisecond, min(4095*10*time.Millisecond, (d+5*time.Millisecond).Truncate(10*time.Millisecond)))
		}
		if r != d {
			c.warn(k.advertNode, "advert_int %s: keepalived uses %s with VRRP version %d", d, r, in.Version)
			in.AdvertInterval = r
		}
	}
	// Unicast in strict mode makes keepalived refuse the instance.
	if k.strict && len(in.UnicastPeers) > 0 {
		c.fail(k.unicastNode, "unicast_peer: keepalived refuses unicast peers in strict mode (the instance does not run)")
	}
	// Preemption.
	if in.Priority == 255 && !in.Preempt {
		c.warn(b, "vrrp_instance %s: nopreempt with priority 255: keepalived clears it", in.Name)
		in.Preempt = true
	}
	if in.State == "MASTER" {
		if !in.Preempt {
			c.warn(b, "vrrp_instance %s: nopreempt does not work with state MASTER: keepalived clears it", in.Name)
			in.Preempt = true
		}
		if in.PreemptDelay != 0 {
			c.warn(b, "vrrp_instance %s: preempt_delay does not work with state MASTER: keepalived clears it", in.Name)
			in.PreemptDelay = 0
		}
	}
	if in.PreemptDelay != 0 && (k.strict || !in.Preempt) {
		c.warn(b, "vrrp_instance %s: preempt_delay is incompatible with %s: keepalived resets it", in.Name, map[bool]string{true: "strict mode", false: "nopreempt"}[k.strict])
		in.PreemptDelay = 0
	}
	// Accept mode: default on, off in strict mode unless the address
	// owner, never with v2 in strict mode. Off, keepalived adds firewall
	// rules that drop traffic to the VIPs; vipd manages no firewall.
	accept := in.Priority == 255 || !k.strict
	if k.accept != nil {
		accept = *k.accept
	}
	if accept && in.Priority != 255 && k.strict && in.Version == 2 {
		accept = false
	}
	in.Accept = accept
	if !accept && in.Priority != 255 {
		why := "no_accept"
		if k.accept == nil || *k.accept {
			why = "strict mode (vrrp_strict)"
		}
		c.fail(b, "vrrp_instance %s: %s: keepalived drops traffic to the VIPs with firewall rules while master; vipd does not manage a firewall. Remove vrrp_strict/no_accept (or add accept) if the VIPs must answer, or add the rules yourself", in.Name, why)
	}
	// keepalived tracks the instance's own interface (FAULT when it goes
	// down) unless dont_track_primary.
	if k.trackPrimary && in.Interface != "" && !slices.ContainsFunc(in.TrackInterfaces, func(t TrackInterface) bool { return t.Name == in.Interface }) {
		in.TrackInterfaces = append([]TrackInterface{{Name: in.Interface}}, in.TrackInterfaces...)
	}
	if in.SMTPAlert == nil && c.alertVRRP != nil {
		v := *c.alertVRRP
		in.SMTPAlert = &v
	}
}

// trackWeight reads "NAME [weight N [reverse]]" (track_interface).
func (c *kaConv) trackWeight(n *kaNode) (int, bool) {
	if len(n.Args) == 0 {
		return 0, true
	}
	if n.Args[0] != "weight" || len(n.Args) < 2 {
		c.fail(n, "%s: %s: want weight N", n.Key, strings.Join(n.Args, " "))
		return 0, false
	}
	w, err := strconv.Atoi(n.Args[1])
	if err != nil || w < -254 || w > 254 {
		c.fail(n, "%s: weight %q is not a number in -254..254", n.Key, n.Args[1])
		return 0, false
	}
	if len(n.Args) > 2 {
		if n.Args[2] == "reverse" {
			c.fail(n, "%s: weight reverse: not supported by vipd", n.Key)
		} else {
			c.fail(n, "%s: %s: unknown option", n.Key, n.Args[2])
		}
		return 0, false
	}
	return w, true
}

// trackScript converts a track_script entry. An explicit "weight 0" means
// FAULT on failure in keepalived, where vipd's track weight 0 means "the
// script's weight": a script whose weight is not 0 is tracked through a
// copy with weight 0.
func (c *kaConv) trackScript(t *kaNode, in *Instance) {
	if why, ok := c.dropped[t.Key]; ok {
		c.warn(t, "track_script %s: dropped (%s), as keepalived does", t.Key, why)
		return
	}
	idx, ok := c.scriptIdx[t.Key]
	if !ok {
		c.warn(t, "track_script %s: no such vrrp_script; keepalived ignores the entry", t.Key)
		return
	}
	if len(t.Args) == 0 {
		in.TrackScripts = append(in.TrackScripts, TrackScript{Name: t.Key})
		return
	}
	w, ok := c.trackWeight(t)
	if !ok {
		return
	}
	if w != 0 || c.cfg.Scripts[idx].Weight == 0 {
		in.TrackScripts = append(in.TrackScripts, TrackScript{Name: t.Key, Weight: w})
		return
	}
	if c.w0Scripts == nil {
		c.w0Scripts = map[string]string{}
	}
	name, ok := c.w0Scripts[t.Key]
	if !ok {
		name = t.Key + "_weight0"
		s := c.cfg.Scripts[idx]
		s.Name, s.Weight = name, 0
		c.scriptIdx[name] = len(c.cfg.Scripts)
		c.cfg.Scripts = append(c.cfg.Scripts, s)
		c.w0Scripts[t.Key] = name
		c.warn(t, "track_script %s weight 0: FAULT on failure in keepalived; vipd's weight 0 means the script's weight (%d), so %s tracks a copy %s with weight 0", t.Key, s.Weight, in.Name, name)
	}
	in.TrackScripts = append(in.TrackScripts, TrackScript{Name: name})
}

// routeTable reads a table id or one of the standard names (rt_tables).
func routeTable(s string) (int, error) {
	switch s {
	case "main":
		return 254, nil
	case "local":
		return 255, nil
	case "default":
		return 253, nil
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("table %q: only numbers and main/local/default are converted (rt_tables names are the host's)", s)
	}
	return int(v), nil
}

// routes converts virtual_routes entries (vrrp_iproute.c alloc_route):
// "[src ADDR] [to] [TYPE] DEST [via|gw ADDR] [dev|oif IF] [table N]
// [metric|priority|preference N] [scope S] …".
func (c *kaConv) routes(b *kaNode, in *Instance) {
	for _, n := range b.Children {
		words := append([]string{n.Key}, n.Args...)
		r := DefaultRoute()
		fam := 0
		scopeSet := false
		ok := true
		for i := 0; i < len(words) && ok; i++ {
			w := words[i]
			next := func() string {
				if i+1 >= len(words) {
					c.fail(n, "virtual_routes: %s: missing value", w)
					ok = false
					return ""
				}
				i++
				return words[i]
			}
			switch w {
			case "inet":
				fam = 4
			case "inet6":
				fam = 6
			case "src":
				a, err := netip.ParseAddr(next())
				if err != nil && ok {
					c.fail(n, "virtual_routes: src %q is not an address", words[i])
					ok = false
				}
				r.Src = a
			case "via", "gw":
				v := next()
				if v == "inet" || v == "inet6" {
					v = next()
				}
				a, err := netip.ParseAddr(v)
				if err != nil && ok {
					c.fail(n, "virtual_routes: via %q is not an address", v)
					ok = false
				}
				r.Via = a
			case "dev", "oif":
				r.Dev = next()
			case "table":
				t, err := routeTable(next())
				if err != nil && ok {
					c.fail(n, "virtual_routes: %v", err)
					ok = false
				}
				r.Table = t
			case "metric", "priority", "preference":
				v, err := strconv.ParseUint(next(), 10, 32)
				if err != nil && ok {
					c.fail(n, "virtual_routes: metric %q is not a number", words[i])
					ok = false
				}
				r.Metric = int(v)
			case "scope":
				s := next()
				switch s {
				case "global", "universe":
					r.Scope = "global"
				case "site", "link", "host", "nowhere":
					r.Scope = s
				default:
					c.fail(n, "virtual_routes: scope %q is not converted", s)
					ok = false
				}
				scopeSet = true
			case "onlink":
				r.OnLink = true
			case "no_track", "add", "prepend", "append":
				c.warn(n, "virtual_routes: %s not converted (vipd adds the route while master and removes it otherwise)", w)
			case "to":
			case "blackhole", "unreachable", "prohibit", "unicast":
				r.Type = w
			case "protocol", "tos", "dsfield", "encap", "expires", "mtu", "hoplimit", "advmss", "rtt", "rttvar", "reordering",
				"window", "cwnd", "ssthresh", "realms", "rto_min", "initcwnd", "initrwnd", "features", "quickack", "congctl", "pref",
				"ttl-propagate", "fastopen_no_cookie", "nexthop", "or", "as", "from", "track_group", "vrf", "local", "broadcast", "anycast", "multicast", "throw", "nat":
				// "onlink" is converted above.
				c.fail(n, "virtual_routes: %s: not supported by vipd", w)
				ok = false
			default:
				p, err := ParseVIP(w)
				if w == "default" {
					p = netip.MustParsePrefix("0.0.0.0/0")
					if fam == 6 {
						p = netip.MustParsePrefix("::/0")
					}
					err = nil
				}
				if err != nil {
					c.fail(n, "virtual_routes: unknown route keyword %q", w)
					ok = false
					break
				}
				r.To = p.Masked()
				if p != p.Masked() {
					c.warn(n, "virtual_routes: destination %s has host bits; the route is %s", p, p.Masked())
				}
			}
		}
		if !ok {
			continue
		}
		if !r.To.IsValid() {
			c.fail(n, "virtual_routes: a route needs a destination")
			continue
		}
		if r.Type != RouteUnicast && r.Dev != "" {
			c.warn(n, "virtual_routes: dev of a %s route not converted (it has no output interface)", r.Type)
			r.Dev = ""
		}
		// keepalived's routes default to scope universe (alloc_route); the
		// kernel's default for a route without gateway is link.
		if !scopeSet && !r.Via.IsValid() && r.Type == RouteUnicast {
			r.Scope = "global"
		}
		in.Routes = append(in.Routes, r)
	}
}

// rules converts virtual_rules entries (vrrp_iprule.c alloc_rule):
// "[inet|inet6] [from P] [to P] [table|lookup N] [priority|preference|order N]
// [fwmark N[/MASK]] [iif|dev IF] [oif IF]".
func (c *kaConv) rules(b *kaNode, in *Instance) {
	for _, n := range b.Children {
		words := append([]string{n.Key}, n.Args...)
		var r Rule
		ok := true
		for i := 0; i < len(words) && ok; i++ {
			w := words[i]
			next := func() string {
				if i+1 >= len(words) {
					c.fail(n, "virtual_rules: %s: missing value", w)
					ok = false
					return ""
				}
				i++
				return words[i]
			}
			prefix := func() netip.Prefix {
				s := next()
				if s == "all" {
					return netip.Prefix{}
				}
				p, err := ParseVIP(s)
				if err != nil && ok {
					c.fail(n, "virtual_rules: %s %q is not an address or prefix", w, s)
					ok = false
				}
				return p.Masked()
			}
			switch w {
			case "inet", "inet6":
			case "from":
				r.From = prefix()
			case "to":
				r.To = prefix()
			case "table", "lookup":
				t, err := routeTable(next())
				if err != nil && ok {
					c.fail(n, "virtual_rules: %v", err)
					ok = false
				}
				r.Table = t
			case "priority", "preference", "order", "pref", "prio":
				v, err := strconv.ParseUint(next(), 10, 32)
				if err != nil && ok {
					c.fail(n, "virtual_rules: priority %q is not a number", words[i])
					ok = false
				}
				r.Priority = int(v)
			case "fwmark":
				mark, mask, _ := strings.Cut(next(), "/")
				m, err := strconv.ParseUint(mark, 0, 32)
				if err != nil && ok {
					c.fail(n, "virtual_rules: fwmark %q is not a number", words[i])
					ok = false
				}
				r.FWMark = uint32(m)
				if mask != "" {
					mk, err := strconv.ParseUint(mask, 0, 32)
					if err != nil && ok {
						c.fail(n, "virtual_rules: fwmark mask %q is not a number", mask)
						ok = false
					}
					r.FWMask = uint32(mk)
				}
			case "iif", "dev":
				r.IIF = next()
			case "oif":
				r.OIF = next()
			case "no_track":
				c.warn(n, "virtual_rules: no_track not converted")
			default:
				c.fail(n, "virtual_rules: %s: not supported by vipd (rules with a table action, from/to/fwmark/iif/oif/priority only)", w)
				ok = false
			}
		}
		if !ok {
			continue
		}
		if r.Table == 0 {
			c.fail(n, "virtual_rules: only rules with a table action are converted")
			continue
		}
		in.Rules = append(in.Rules, r)
	}
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
			g.NotifyMaster = c.notifyCmd(n)
		case "notify_backup":
			g.NotifyBackup = c.notifyCmd(n)
		case "notify_fault":
			g.NotifyFault = c.notifyCmd(n)
		case "notify", "notify_stop":
			c.fail(n, "%s: vipd's sync groups run notify_master/backup/fault only", n.Key)
		case "smtp_alert":
			v := c.boolArg(n)
			g.SMTPAlert = &v
		case "global_tracking", "sync_group_tracking_weight":
			c.ignore(n, "vipd's sync groups apply each member's tracking to the whole group")
		case "track_interface", "track_script", "track_file", "track_process", "track_bfd":
			c.fail(n, "%s in a sync group: not supported by vipd (track in the instances)", n.Key)
		default:
			if len(n.Args) == 0 && !n.Block {
				// Members outside "group { }": keepalived does not know the
				// keyword and ignores it.
				c.warn(n, "vrrp_sync_group %s: %s outside group { }: keepalived ignores it", g.Name, n.Key)
				continue
			}
			c.unknown(n)
		}
	}
	if len(g.Instances) == 0 {
		c.warn(b, "vrrp_sync_group %s has no members: keepalived removes it; so does the conversion", g.Name)
		return
	}
	if g.SMTPAlert == nil && c.alertVRRP != nil {
		v := *c.alertVRRP
		g.SMTPAlert = &v
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

// addrPort reads "IP [PORT]"; a missing port is 0 (keepalived alloc_rs and
// alloc_ssvr allow it).
func (c *kaConv) addrPort(n *kaNode, args []string) (netip.AddrPort, bool) {
	if len(args) < 1 {
		c.fail(n, "%s: want IP [PORT]", n.Key)
		return netip.AddrPort{}, false
	}
	port := "0"
	if len(args) > 1 {
		port = args[1]
	}
	ap, err := netip.ParseAddrPort(hostPort(args[0], port))
	if err != nil {
		c.fail(n, "%s: %s %s is not IP PORT", n.Key, args[0], port)
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
			c.fail(n, "virtual_server_group %s: %s: want IP PORT or fwmark N", g.Name, n.Key)
			continue
		}
		if _, _, _, err := ParseGroupMember(m); err != nil {
			c.fail(n, "virtual_server_group %s: %v", g.Name, err)
			continue
		}
		g.Members = append(g.Members, m)
	}
	c.cfg.VirtualServerGroups = append(c.cfg.VirtualServerGroups, g)
}

// kaCheckDefaults are the checker settings inherited from the virtual
// server and the real server (check_data.c: checker > real server >
// virtual server > the checker type's default).
type kaCheckDefaults struct {
	connectTimeout   *time.Duration
	retry            *int
	delayBeforeRetry *time.Duration
	delayLoop        *time.Duration
	virtualHost      string
}

func (c *kaConv) checkDefault(n *kaNode, d *kaCheckDefaults) bool {
	switch n.Key {
	case "connect_timeout":
		if v, ok := c.dur(n); ok {
			d.connectTimeout = &v
		}
	case "retry", "nb_get_retry":
		if v, ok := c.intIn(n, 0, math.MaxInt32); ok {
			d.retry = &v
		}
	case "delay_before_retry":
		if v, ok := c.dur(n); ok {
			d.delayBeforeRetry = &v
		}
	case "delay_loop":
		if v, ok := c.dur(n); ok {
			d.delayLoop = &v
		}
	case "virtualhost":
		d.virtualHost = c.arg(n, 0)
	default:
		return false
	}
	return true
}

func (c *kaConv) virtualServer(b *kaNode) {
	vs := DefaultVirtualServer()
	switch {
	case len(b.Args) >= 2 && b.Args[0] == "fwmark":
		n, err := strconv.ParseUint(b.Args[1], 10, 32)
		if err != nil || n == 0 {
			c.fail(b, "virtual_server fwmark %s: not a number 1..4294967295", b.Args[1])
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
	var base kaCheckDefaults
	vsWeight := 1
	for _, n := range b.Children {
		if n.Key == "delay_loop" {
			continue
		}
		c.checkDefault(n, &base)
	}
	var sorry *kaNode
	for _, n := range b.Children {
		switch n.Key {
		case "connect_timeout", "retry", "nb_get_retry", "delay_before_retry", "virtualhost":
			// Applied to the checks through base.
		case "delay_loop":
			if d, ok := c.dur(n); ok {
				vs.DelayLoop = d
			}
		case "lb_algo", "lvs_sched":
			vs.Scheduler = c.arg(n, 0)
		case "lb_kind", "lvs_method":
			vs.Forwarding = strings.ToUpper(c.arg(n, 0))
			if vs.Forwarding == "TUN" && len(n.Args) > 1 {
				c.fail(n, "%s TUN %s: tunnel options are not supported by vipd", n.Key, strings.Join(n.Args[1:], " "))
			}
		case "sh-port", "sh-fallback", "mh-port", "mh-fallback", "flag-1", "flag-2", "flag-3":
			vs.SchedulerFlags = append(vs.SchedulerFlags, n.Key)
		case "ops":
			c.fail(n, "ops: one-packet scheduling is not supported by vipd")
		case "hashed":
			c.ignore(n, "a flag of old kernels")
		case "persistence_timeout":
			if len(n.Args) == 0 {
				vs.PersistenceTimeout = 360 * time.Second // keepalived's default when given bare
			} else if d, ok := c.dur(n); ok {
				vs.PersistenceTimeout = d
			}
		case "persistence_granularity":
			vs.PersistenceGranularity = c.arg(n, 0)
		case "persistence_engine":
			c.fail(n, "persistence_engine: not supported by vipd")
		case "protocol":
			vs.Protocol = strings.ToUpper(c.arg(n, 0))
		case "sorry_server":
			sorry = n
			if ap, ok := c.addrPort(n, n.Args); ok {
				vs.SorryServer = ap
			}
		case "sorry_server_inhibit", "sorry_server_lvs_method":
			c.fail(n, "%s: not supported by vipd", n.Key)
		case "quorum":
			if v, ok := c.intIn(n, 1, math.MaxInt32); ok {
				vs.Quorum = v
			}
		case "hysteresis":
			if v, ok := c.intIn(n, 0, math.MaxInt32); ok {
				vs.Hysteresis = v
			}
		case "quorum_up":
			vs.QuorumUp = c.notifyCmd(n)
		case "quorum_down":
			vs.QuorumDown = c.notifyCmd(n)
		case "inhibit_on_failure":
			vs.InhibitOnFailure = c.boolArg(n)
		case "weight":
			if v, ok := c.intIn(n, 0, 65535); ok {
				vsWeight = v
			}
		case "smtp_alert":
			v := c.boolArg(n)
			vs.SMTPAlert = &v
		case "ip_family":
			// The addresses give the family.
		case "ha_suspend":
			c.fail(n, "ha_suspend: use vrrp_instance on the virtual server to program it only while an instance is master")
		case "alpha":
			c.fail(n, "alpha: vipd starts checks as up, as keepalived does without alpha")
		case "omega", "warmup", "snmp_name":
			c.ignore(n, "no effect on which real servers are used")
		case "real_server":
			if rs, ok := c.realServer(n, base, vs, vsWeight); ok {
				vs.RealServers = append(vs.RealServers, rs)
			}
		default:
			c.unknown(n)
		}
	}
	// check_data.c: a fwmark service's sorry server has no port; any other
	// uses the service's port, whatever was written.
	if sorry != nil && vs.SorryServer.IsValid() {
		switch {
		case vs.FWMark != 0 && vs.SorryServer.Port() != 0:
			c.warn(sorry, "sorry_server: keepalived clears the port of a fwmark service's sorry server")
			vs.SorryServer = netip.AddrPortFrom(vs.SorryServer.Addr(), 0)
		case vs.Address.IsValid() && vs.SorryServer.Port() != vs.Address.Port():
			if vs.SorryServer.Port() != 0 {
				c.warn(sorry, "sorry_server: port %d differs from the service's; keepalived uses %d", vs.SorryServer.Port(), vs.Address.Port())
			}
			vs.SorryServer = netip.AddrPortFrom(vs.SorryServer.Addr(), vs.Address.Port())
		}
	}
	// check_data.c: a real server without smtp_alert takes the global
	// smtp_alert_checker / smtp_alert, not its virtual server's (which
	// covers quorum changes); vipd's real servers inherit the virtual
	// server's, so the global value is written where they differ.
	rsAlert := c.cfg.Global.SMTPAlert
	if c.alertChecker != nil {
		rsAlert = *c.alertChecker
	}
	if vs.SMTPAlert == nil && c.alertChecker != nil {
		v := *c.alertChecker
		vs.SMTPAlert = &v
	}
	if vs.SMTPAlert != nil && *vs.SMTPAlert != rsAlert {
		for i := range vs.RealServers {
			if vs.RealServers[i].SMTPAlert == nil {
				v := rsAlert
				vs.RealServers[i].SMTPAlert = &v
			}
		}
	}
	c.cfg.VirtualServers = append(c.cfg.VirtualServers, vs)
}

func (c *kaConv) realServer(b *kaNode, base kaCheckDefaults, vs VirtualServer, vsWeight int) (RealServer, bool) {
	rs := DefaultRealServer()
	rs.Weight = vsWeight
	ap, ok := c.addrPort(b, b.Args)
	if !ok {
		return rs, false
	}
	rs.Address = ap
	for _, n := range b.Children {
		c.checkDefault(n, &base)
	}
	for _, n := range b.Children {
		switch n.Key {
		case "connect_timeout", "retry", "nb_get_retry", "delay_before_retry", "virtualhost", "delay_loop":
			// Applied to the checks through base.
		case "weight":
			if v, ok := c.intIn(n, 0, 65535); ok {
				rs.Weight = v
			}
		case "inhibit_on_failure":
			t := c.boolArg(n)
			rs.InhibitOnFailure = &t
		case "uthreshold":
			if v, ok := c.intIn(n, 0, math.MaxInt32); ok {
				rs.UpperThreshold = v
			}
		case "lthreshold":
			if v, ok := c.intIn(n, 0, math.MaxInt32); ok {
				rs.LowerThreshold = v
			}
		case "lb_kind", "lvs_method":
			rs.Forwarding = strings.ToUpper(c.arg(n, 0))
		case "notify_up":
			rs.NotifyUp = c.notifyCmd(n)
		case "notify_down":
			rs.NotifyDown = c.notifyCmd(n)
		case "smtp_alert":
			v := c.boolArg(n)
			rs.SMTPAlert = &v
		case "TCP_CHECK":
			c.addCheck(&rs, n, CheckTCP, base, vs)
		case "HTTP_GET", "SSL_GET":
			typ := CheckHTTP
			if n.Key == "SSL_GET" {
				typ = CheckHTTPS
			}
			c.addCheck(&rs, n, typ, base, vs)
		case "MISC_CHECK":
			c.addCheck(&rs, n, CheckMisc, base, vs)
		case "DNS_CHECK":
			c.addCheck(&rs, n, CheckDNS, base, vs)
		case "UDP_CHECK":
			c.addCheck(&rs, n, CheckUDP, base, vs)
		case "PING_CHECK":
			c.addCheck(&rs, n, CheckPing, base, vs)
		case "SMTP_CHECK":
			c.addCheck(&rs, n, CheckSMTP, base, vs)
		case "BFD_CHECK", "FILE_CHECK":
			c.fail(n, "%s: not supported by vipd (the real server would lose its check)", n.Key)
		case "alpha":
			c.fail(n, "alpha: vipd starts checks as up, as keepalived does without alpha")
		case "warmup", "snmp_name":
			c.ignore(n, "no effect on which real servers are used")
		default:
			c.unknown(n)
		}
	}
	return rs, true
}

// addCheck converts one checker block (one check per url for HTTP_GET and
// SSL_GET), writing keepalived's defaults explicitly.
func (c *kaConv) addCheck(rs *RealServer, b *kaNode, typ string, base kaCheckDefaults, vs VirtualServer) {
	ch := DefaultCheck()
	ch.Type = typ
	d := base
	var urls, hosts []*kaNode
	var miscTimeout *time.Duration
	ownCo := false // connect_ip/port/timeout given in the checker itself
	for _, n := range b.Children {
		switch n.Key {
		case "connect_ip", "connect_port", "connect_timeout":
			ownCo = true
		}
		if c.checkDefault(n, &d) {
			continue
		}
		switch n.Key {
		case "url":
			urls = append(urls, n)
		case "host":
			if typ != CheckSMTP {
				c.fail(n, "%s host: not supported by vipd", b.Key)
				continue
			}
			hosts = append(hosts, n)
		case "connect_ip":
			if a, err := netip.ParseAddr(c.arg(n, 0)); err == nil {
				ch.ConnectIP = a
			} else {
				c.fail(n, "connect_ip: %q is not an IP address", c.arg(n, 0))
			}
		case "connect_port":
			if v, ok := c.intIn(n, 1, 65535); ok {
				ch.ConnectPort = v
			}
		case "misc_timeout":
			if v, ok := c.dur(n); ok {
				miscTimeout = &v
			}
		case "misc_path":
			ch.Command, _, _ = c.command(n, false)
		case "misc_dynamic":
			ch.Dynamic = true
		case "user":
			ch.User = c.arg(n, 0)
			if len(n.Args) > 1 {
				ch.User += ":" + n.Args[1]
			}
		case "type":
			ch.QueryType = strings.ToUpper(c.arg(n, 0))
		case "name":
			ch.QueryName = c.arg(n, 0)
		case "helo_name":
			ch.HeloName = c.arg(n, 0)
		case "payload":
			ch.Send = c.hexText(n)
		case "require_reply":
			ch.Expect = c.hexText(n)
		case "enable_sni", "tls_compliant", "fast_recovery", "log_all_failures", "warmup":
			c.ignore(n, "no effect on the check's result")
		case "http_protocol", "sni_name", "bindto", "bind_port", "bind_if", "fwmark", "min_reply_length", "max_reply_length", "alpha":
			c.fail(n, "%s %s: not supported by vipd", b.Key, n.Key)
		default:
			c.unknown(n)
		}
	}
	// Defaults of the checker types (check_api.c queue_checker: retry 1,
	// delay_before_retry 1s; check_misc.c: retry 0; check_http.c:
	// delay_before_retry 3s; check_dns.c: retry 3, delay_before_retry =
	// delay_loop; check_data.c: then delay_loop).
	delayLoop := vs.DelayLoop
	if d.delayLoop != nil {
		delayLoop = *d.delayLoop
		ch.DelayLoop = delayLoop
	}
	retry, dbr := 1, time.Second
	switch typ {
	case CheckMisc:
		retry = 0
	case CheckHTTP, CheckHTTPS:
		dbr = 3 * time.Second
	case CheckDNS:
		retry, dbr = 3, delayLoop
		if ch.QueryType == "" {
			ch.QueryType = "SOA" // DNS_DEFAULT_TYPE
		}
	case CheckSMTP:
		if ch.HeloName == "" {
			ch.HeloName = "smtpchecker.keepalived.org" // SMTP_DEFAULT_HELO
		}
	}
	if d.retry != nil {
		retry = *d.retry
	}
	if d.delayBeforeRetry != nil {
		dbr = *d.delayBeforeRetry
	}
	ch.Retry, ch.DelayBeforeRetry = retry, dbr
	ch.ConnectTimeout = 5 * time.Second // virtual server connect_timeout default
	if d.connectTimeout != nil {
		ch.ConnectTimeout = *d.connectTimeout
	}
	if typ == CheckMisc {
		// check_misc.c: misc_timeout, else the virtual server's delay_loop.
		ch.ConnectTimeout = vs.DelayLoop
		if miscTimeout != nil {
			ch.ConnectTimeout = *miscTimeout
		}
		if ch.Command == "" {
			c.fail(b, "MISC_CHECK without misc_path: keepalived drops the checker")
			return
		}
	}
	if typ == CheckHTTP || typ == CheckHTTPS {
		ch.VirtualHost = d.virtualHost
	}
	if (typ == CheckTCP || typ == CheckHTTP || typ == CheckHTTPS || typ == CheckSMTP || typ == CheckUDP) && ch.ConnectPort == 0 && rs.Address.Port() == 0 {
		c.fail(b, "%s without connect_port on a real server without port: keepalived drops the checker (\"no port\")", b.Key)
		return
	}
	if typ == CheckSMTP && len(hosts) > 0 {
		// check_smtp.c smtp_check_end_handler: each (deprecated) host block
		// is a checker of its own; the checker itself runs too when it has
		// connection settings, else the first host takes its place.
		var out []Check
		if ownCo {
			out = append(out, ch)
		}
		for _, h := range hosts {
			hc := ch
			hc.ConnectIP, hc.ConnectPort = netip.Addr{}, 0
			// A host without connect_timeout takes the real server's or
			// virtual server's, not the checker's.
			hc.ConnectTimeout = 5 * time.Second
			if base.connectTimeout != nil {
				hc.ConnectTimeout = *base.connectTimeout
			}
			for _, f := range h.Children {
				switch f.Key {
				case "connect_ip":
					if a, err := netip.ParseAddr(c.arg(f, 0)); err == nil {
						hc.ConnectIP = a
					} else {
						c.fail(f, "connect_ip: %q is not an IP address", c.arg(f, 0))
					}
				case "connect_port":
					if v, ok := c.intIn(f, 1, 65535); ok {
						hc.ConnectPort = v
					}
				case "connect_timeout":
					if v, ok := c.dur(f); ok {
						hc.ConnectTimeout = v
					}
				default:
					c.fail(f, "SMTP_CHECK host %s: not supported by vipd", f.Key)
				}
			}
			out = append(out, hc)
		}
		c.warn(b, "SMTP_CHECK: %d host blocks become %d smtp checks, as keepalived runs them", len(hosts), len(out))
		rs.Checks = append(rs.Checks, out...)
		return
	}
	if typ != CheckHTTP && typ != CheckHTTPS {
		rs.Checks = append(rs.Checks, ch)
		return
	}
	if len(urls) == 0 {
		c.fail(b, "%s without url: keepalived drops the checker", b.Key)
		return
	}
	for _, u := range urls {
		uc := ch
		for _, f := range u.Children {
			switch f.Key {
			case "path":
				uc.Path = c.arg(f, 0)
			case "digest":
				uc.Digest = strings.ToLower(c.arg(f, 0))
			case "status_code":
				uc.StatusCodes = append(uc.StatusCodes, c.statusCodes(f)...)
			case "virtualhost":
				uc.VirtualHost = c.arg(f, 0)
			case "regex", "regex_no_match", "regex_options", "regex_min_offset", "regex_max_offset", "regex_stack":
				c.fail(f, "url %s: not supported by vipd", f.Key)
			default:
				c.unknown(f)
			}
		}
		rs.Checks = append(rs.Checks, uc)
	}
}

// hexText reads UDP_CHECK's hex payload as text (vipd's udp check sends
// and expects text).
func (c *kaConv) hexText(n *kaNode) string {
	s := strings.Join(n.Args, "")
	b := make([]byte, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		v, err := strconv.ParseUint(s[i:i+2], 16, 8)
		if err != nil {
			c.fail(n, "%s: %q is not hex", n.Key, s)
			return ""
		}
		b = append(b, byte(v))
	}
	if len(s)%2 != 0 || hasControl(string(b)) || !isUTF8(b) {
		c.fail(n, "%s: binary payloads are not supported by vipd's udp check (text only)", n.Key)
		return ""
	}
	return string(b)
}

func isUTF8(b []byte) bool { return strings.ToValidUTF8(string(b), "\uFFFD") == string(b) }

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
			c.fail(n, "status_code %q is not a status or range in 100..599", a)
			continue
		}
		for code := l; code <= h; code++ {
			out = append(out, code)
		}
	}
	return out
}

// finish checks what needs the whole file: lvs_sync_daemon's instance.
func (c *kaConv) finish() {
	sd := &c.cfg.Global.LVSSyncDaemon
	if sd.Instance != "" && !slices.ContainsFunc(c.cfg.Instances, func(i Instance) bool { return i.Name == sd.Instance }) {
		// vrrp.c: "Unable to find vrrp instance … clearing lvs_syncd config".
		c.warn(c.syncNode, "lvs_sync_daemon: no instance %q; keepalived clears the sync daemon; so does the conversion", sd.Instance)
		*sd = LVSSyncDaemon{}
	}
	g := &c.cfg.Global
	gn := c.globalNode
	if g.SMTP.Server == "" && len(g.SMTP.To) > 0 {
		c.warn(gn, "global_defs: notification_email without smtp_server: keepalived sends no e-mail; so does the conversion")
		g.SMTP = DefaultGlobal().SMTP
	}
	if g.SMTP.Server != "" && len(g.SMTP.To) == 0 {
		c.warn(gn, "global_defs: smtp_server without notification_email: keepalived sends no e-mail; so does the conversion")
		g.SMTP = DefaultGlobal().SMTP
	}
	if g.SMTP.Server == "" && g.SMTP.From != "" {
		g.SMTP.From = "" // notification_email_from alone sends nothing
	}
	if g.SMTP.Server == "" {
		// Alerts without a destination: keepalived sends nothing.
		g.SMTPAlert = false
		off := func(p **bool) {
			if *p != nil && **p {
				*p = nil
			}
		}
		for i := range c.cfg.Instances {
			off(&c.cfg.Instances[i].SMTPAlert)
		}
		for i := range c.cfg.SyncGroups {
			off(&c.cfg.SyncGroups[i].SMTPAlert)
		}
		for i := range c.cfg.VirtualServers {
			off(&c.cfg.VirtualServers[i].SMTPAlert)
			for j := range c.cfg.VirtualServers[i].RealServers {
				off(&c.cfg.VirtualServers[i].RealServers[j].SMTPAlert)
			}
		}
	}
	if g.SMTP.Server != "" && g.SMTP.From == "" {
		c.warn(gn, "global_defs: no notification_email_from: keepalived sends from keepalived@<host name>, vipd from vipd@<node>")
	}
}

// bfdInstance converts a bfd_instance (keepalived/bfd/bfd_parser.c):
// intervals are in milliseconds; keepalived's defaults are min_rx/min_tx
// 10ms and multiplier 5 (DefaultBFDInstance).
func (c *kaConv) bfdInstance(n *kaNode) {
	b := DefaultBFDInstance()
	b.Name = c.arg(n, 0)
	ms := func(x *kaNode) (time.Duration, bool) {
		v, ok := c.intIn(x, 1, 60000)
		return time.Duration(v) * time.Millisecond, ok
	}
	for _, x := range n.Children {
		switch x.Key {
		case "neighbor_ip", "source_ip":
			a, err := netip.ParseAddr(c.arg(x, 0))
			if err != nil {
				c.fail(x, "%s: %q is not an IP address", x.Key, c.arg(x, 0))
				continue
			}
			if x.Key == "neighbor_ip" {
				b.Neighbor = a
			} else {
				b.Source = a
			}
		case "min_rx":
			if d, ok := ms(x); ok {
				b.MinRx = d
			}
		case "min_tx":
			if d, ok := ms(x); ok {
				b.MinTx = d
			}
		case "multiplier":
			if v, ok := c.intIn(x, 1, 255); ok {
				b.Multiplier = v
			}
		case "weight":
			if v, ok := c.intIn(x, -253, 253); ok {
				b.Weight = v
			}
		case "idle_tx":
			c.ignore(x, "vipd's sessions send every min_tx while not Up, RFC 5880's slow rate is 1s")
		case "ttl", "hoplimit":
			if v, ok := c.intIn(x, 1, 255); ok && v != 255 {
				c.fail(x, "%s %d: vipd sends and requires 255 (RFC 5881 single hop)", x.Key, v)
			}
		case "max_hops":
			if v, ok := c.intIn(x, 0, 255); ok && v != 0 {
				c.fail(x, "%s: vipd runs single-hop BFD only", x.Key)
			}
		case "vrrp":
			c.ignore(x, "vipd's instances use a bfd_instance through track_bfd, or bfd: {interval} for their own peers")
		default:
			c.fail(x, "bfd_instance %s: %s: not supported by vipd", b.Name, x.Key)
		}
	}
	c.cfg.BFDInstances = append(c.cfg.BFDInstances, b)
}
