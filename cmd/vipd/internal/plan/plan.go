package plan

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vipd/vipd/checks"
	"github.com/vipd/vipd/cmd/vipd/internal/alert"
	"github.com/vipd/vipd/configs"
	"github.com/vipd/vipd/lvs"
	"github.com/vipd/vipd/providers"
	aliyun "github.com/vipd/vipd/providers/aliyun/aliyunopts"
	aws "github.com/vipd/vipd/providers/aws/awsopts"
	"github.com/vipd/vipd/providers/netlink"
	tencent "github.com/vipd/vipd/providers/tencent/tencentopts"
	"github.com/vipd/vipd/vrrp"
	"github.com/vipd/vipd/vrrp/bfd"
)

// Plan is a validated configuration in runtime form.
type Plan struct {
	// Source is the configuration the plan was built from (global settings
	// are used as they are).
	Source     *configs.Config
	Global     configs.Global
	Instances  []Instance
	SyncGroups []SyncGroup
	// Scripts are the track scripts some instance uses.
	Scripts []Script
	// BFDTracks are the bfd_instances some instance tracks.
	BFDTracks []BFDTrack
	Services  []Service
	// SyncDaemon is the IPVS connection sync daemon; nil without one.
	SyncDaemon *SyncDaemon
	// LVS is what happens to the IPVS table at start and stop.
	LVS LVS
	// Alerts is where e-mail and webhook alerts go; nil: none configured.
	// Instance.Alert, SyncGroup.Alert and Real.Alert say which objects
	// send them (keepalived smtp_alert, inherited global → virtual server
	// → real server).
	Alerts *alert.Config
	// Warnings are accepted oddities the agent logs at start (e.g. a track
	// weight ignored in a sync group).
	Warnings []string
}

// Instance is one VRRP instance with everything attached to it.
type Instance struct {
	Name      string
	Interface string
	Family    int // 4 or 6
	// Router is the instance's VRRP configuration. IfIndex is 0 and, without
	// unicast_src_ip, Src is invalid: both are resolved from Interface when
	// it exists (ResolveRouter).
	Router   vrrp.Config
	VIPs     []providers.VIP
	Provider Provider
	Holder   Holder
	Notify   Notify
	Tracks   []Track
	// SyncGroup is the name of the instance's sync group, "" if none.
	SyncGroup string
	// BFD is the BFD session setting towards each unicast peer; nil: none.
	BFD *BFD
	// Routes and Rules are added after the VIPs while master and removed
	// before them (keepalived virtual_routes / virtual_rules).
	Routes []netlink.Route
	Rules  []netlink.Rule
	// Alert sends an alert on every transition (smtp_alert).
	Alert bool
}

// BFD is an instance's BFD setting.
type BFD struct {
	Interval   time.Duration // desired min TX = required min RX
	Multiplier uint8
}

// ProviderKind is what moves an instance's VIPs.
type ProviderKind int

// Provider kinds.
const (
	Netlink ProviderKind = iota // on-prem: address on the NIC + GARP/NA
	AWS
	Aliyun
	Tencent
)

var providerKinds = map[string]ProviderKind{
	"": Netlink, configs.ProviderNetlink: Netlink, configs.ProviderAWS: AWS,
	configs.ProviderAliyun: Aliyun, configs.ProviderTencent: Tencent,
}

// ParseProviderKind parses a provider.type value ("" is netlink).
func ParseProviderKind(s string) (ProviderKind, error) {
	if k, ok := providerKinds[s]; ok {
		return k, nil
	}
	return 0, fmt.Errorf("%q is not one of netlink, aws, aliyun, tencent", s)
}

func (k ProviderKind) String() string {
	switch k {
	case Netlink:
		return configs.ProviderNetlink
	case AWS:
		return configs.ProviderAWS
	case Aliyun:
		return configs.ProviderAliyun
	case Tencent:
		return configs.ProviderTencent
	}
	return fmt.Sprintf("ProviderKind(%d)", int(k))
}

// Provider is an instance's provider settings. Exactly the options of Kind
// are set (none for Netlink).
type Provider struct {
	Kind ProviderKind
	// Local configures the local part (address + GARP/NA); nil with
	// no_local_address on a cloud provider.
	Local   *netlink.Options
	AWS     *aws.Options
	Aliyun  *aliyun.Options
	Tencent *tencent.Options
	DryRun  bool
}

// Holder are the settings of the agent's VIP holder for one instance.
type Holder struct {
	Backoff       providers.Backoff
	CallTimeout   time.Duration
	DriftInterval time.Duration // 0: no drift checks
	GARPRefresh   time.Duration // 0: no periodic re-announce
	GARPDelay     time.Duration // second burst after becoming master (0: none)
	Fence         bool
	// DryRun: the providers change nothing and only log; the holder shows
	// "dry-run" and does not wait for a confirmation that cannot come.
	DryRun bool
}

// Notify are the notify commands of an instance or sync group (keepalived
// notify, notify_master, notify_backup, notify_fault, notify_stop).
type Notify struct {
	Generic                     string // called with: INSTANCE|GROUP <name> <STATE> <priority>
	Master, Backup, Fault, Stop string
}

// Command returns the state-specific command for a transition to s and
// keepalived's name of the state: vrrp.Initialize, entered only when a
// router stops, is "STOP".
func (n Notify) Command(s vrrp.State) (cmd, state string) {
	switch s {
	case vrrp.Master:
		return n.Master, "MASTER"
	case vrrp.Backup:
		return n.Backup, "BACKUP"
	case vrrp.Fault:
		return n.Fault, "FAULT"
	case vrrp.Initialize:
		return n.Stop, "STOP"
	}
	return "", s.String()
}

// Empty reports whether no command is configured.
func (n Notify) Empty() bool { return n == Notify{} }

// TrackKind is what a track watches.
type TrackKind int

// Track kinds.
const (
	TrackScript TrackKind = iota
	TrackInterface
	TrackBFD
)

func (k TrackKind) String() string {
	switch k {
	case TrackInterface:
		return "interface"
	case TrackBFD:
		return "bfd"
	}
	return "script"
}

// BFDTrack is a BFD session instances track (keepalived bfd_instance).
type BFDTrack struct {
	Name    string
	Session bfd.Config
}

// Track is one track_script or track_interface of an instance, with the
// weight that applies (keepalived: 0 in a sync group).
type Track struct {
	Kind   TrackKind
	Name   string // script or interface name
	Weight int
}

// Key names the track in the router and in `vipd status`.
func (t Track) Key() string { return t.Kind.String() + " " + t.Name }

// Script is a track script: its command and schedule. The checker is built
// when the agent starts it (the script file is the host's).
type Script struct {
	Name   string
	Exec   checks.ExecConfig
	Params checks.Params
}

// SyncGroup is a vrrp_sync_group.
type SyncGroup struct {
	Name      string
	Instances []string
	Notify    Notify
	Alert     bool // smtp_alert
}

// SyncDaemon is the IPVS connection sync daemon (keepalived lvs_sync_daemon).
type SyncDaemon struct {
	Interface string
	Instance  string // the VRRP instance whose state decides master/backup
	SyncID    uint8
}

// LVS is what happens to the IPVS table at start and stop.
type LVS struct {
	// FlushAtStart empties the whole table before the first reconcile
	// (keepalived lvs_flush).
	FlushAtStart bool
	OnStop       LVSStop
}

// LVSStop is what happens to the IPVS table when vipd stops.
type LVSStop int

// Stop actions.
const (
	// RemoveOwned removes the services vipd programmed, and nothing else:
	// keepalived's behaviour on stop, and the default.
	RemoveOwned LVSStop = iota
	// Keep leaves the table as it is (lvs_keep_on_stop; keepalived -I), so
	// connections survive an upgrade of vipd.
	Keep
	// FlushAll empties the whole table (keepalived lvs_flush_onstop).
	FlushAll
)

// Service is one configured virtual server.
type Service struct {
	// Name is the virtual server as configured: "TCP 192.0.2.1:80",
	// "fwmark 3" or "group web".
	Name string
	// State is the service with every real server healthy; the agent
	// applies the checks' results to a copy.
	State lvs.ServiceState
	// Group holds the members of a virtual_server_group service; State is
	// then the template expanded over them (lvs.ExpandGroup).
	Group []lvs.GroupMember
	// Reals parallels State.Reals: the checks of each real server.
	Reals []Real
}

// Real is a real server's checks and what runs when its health changes.
type Real struct {
	Address netip.AddrPort
	Checks  []Check
	// NotifyUp and NotifyDown run when the real server's health changes
	// (keepalived notify_up / notify_down).
	NotifyUp, NotifyDown string
	Alert                bool // smtp_alert
}

// Check is one health check of a real server.
type Check struct {
	// ID is stable across reloads while the check's service, real server,
	// type and position stay the same.
	ID string
	// Spec is the configured check (compared by reload).
	Spec configs.Check
	// Checker is nil for exec (misc) checks: their script is the host's,
	// so Exec is set instead and the checker is built at start.
	Checker checks.Checker
	Exec    *checks.ExecConfig
	Params  checks.Params
}

// Build validates cfg (configs.Validate without host checks, then every
// runtime package's own rules) and converts it. The error, a
// *configs.ValidationErrors, lists every problem.
func Build(cfg *configs.Config) (*Plan, error) {
	b := &builder{}
	if err := cfg.Validate(nil); err != nil {
		b.addErr(err)
	}
	p := b.build(cfg)
	if len(b.errs) > 0 {
		return nil, &configs.ValidationErrors{Errs: b.errs}
	}
	return p, nil
}

// Load reads the configuration at path and the environment (configs.Load),
// validates it against sys (nil: no host checks) and builds the plan. Every
// problem, from decoding a value to a runtime package's rule, is in the one
// *configs.ValidationErrors returned. cfg is nil only when the file could not
// be read or parsed at all.
func Load(path string, env []string, sys configs.System) (*Plan, *configs.Config, error) {
	b := &builder{}
	cfg, err := configs.Load(path, env)
	if cfg == nil {
		return nil, nil, err
	}
	b.addErr(err)
	decoded := len(b.errs)
	b.addErr(cfg.Validate(sys))
	p := b.build(cfg)
	if len(b.errs) > 0 {
		return nil, cfg, &configs.ValidationErrors{Errs: dropConsequences(b.errs, decoded)}
	}
	return p, cfg, nil
}

// dropConsequences removes, from the problems after the first n (the decode
// errors), those about a key whose value could not be decoded: a VIP list
// whose only entry did not parse is not also "empty".
func dropConsequences(errs []error, n int) []error {
	var bad []string
	for _, e := range errs[:n] {
		k, _, _ := strings.Cut(e.Error(), ": ")
		if i := strings.LastIndexByte(k, '['); i > 0 && strings.HasSuffix(k, "]") {
			k = k[:i]
		}
		bad = append(bad, k)
	}
	out := errs[:n:n]
	for _, e := range errs[n:] {
		k, _, _ := strings.Cut(e.Error(), ": ")
		if !slices.ContainsFunc(bad, func(b string) bool {
			return k == b || strings.HasPrefix(k, b+"[") || strings.HasPrefix(k, b+".")
		}) {
			out = append(out, e)
		}
	}
	return out
}

type builder struct {
	errs []error
}

// addErr adds err's problems (each entry of a *ValidationErrors or joined
// error separately).
func (b *builder) addErr(err error) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			b.addErr(e)
		}
		return
	}
	b.errs = append(b.errs, err)
}

// addAt adds err's problems under the key path at: "at.key: msg" when the
// problem starts with a key (the runtime packages' convention), else
// "at: msg".
func (b *builder) addAt(at string, err error) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			b.addAt(at, e)
		}
		return
	}
	msg := err.Error()
	if k, rest, ok := strings.Cut(msg, ": "); ok && isKey(k) {
		b.errs = append(b.errs, fmt.Errorf("%s.%s: %s", at, k, rest))
		return
	}
	b.errs = append(b.errs, fmt.Errorf("%s: %w", at, err))
}

// isKey reports whether s looks like a config key: lower case, digits and
// _, optionally followed by an index ("real_servers[192.0.2.1:80]").
func isKey(s string) bool {
	if i := strings.IndexByte(s, '['); i > 0 && strings.HasSuffix(s, "]") {
		s = s[:i]
	}
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

func (b *builder) build(cfg *configs.Config) *Plan {
	p := &Plan{Source: cfg, Global: cfg.Global}
	grouped := map[string]string{}
	for _, sg := range cfg.SyncGroups {
		for _, name := range sg.Instances {
			grouped[name] = sg.Name
		}
		p.SyncGroups = append(p.SyncGroups, SyncGroup{Name: sg.Name, Instances: sg.Instances,
			Notify: Notify{Master: sg.NotifyMaster, Backup: sg.NotifyBackup, Fault: sg.NotifyFault},
			Alert:  alertOn(cfg.Global.SMTPAlert, sg.SMTPAlert)})
	}
	usedScripts := map[string]bool{}
	// keepalived numbers rules without a priority 16384, 16383, … per
	// family, in configuration order (vrrp_iprule.c).
	rulePrio := map[int]int{4: 16384, 6: 16384}
	for i, c := range cfg.Instances {
		in := b.instance(fmt.Sprintf("instances[%d]", i), c, cfg.Scripts, cfg.BFDInstances, grouped[c.Name], &p.Warnings, rulePrio, cfg.Global.SMTPAlert)
		for _, t := range in.Tracks {
			if t.Kind == TrackScript || t.Kind == TrackBFD {
				usedScripts[t.Key()] = true
			}
		}
		p.Instances = append(p.Instances, in)
	}
	for i, bi := range cfg.BFDInstances {
		if !usedScripts[Track{Kind: TrackBFD, Name: bi.Name}.Key()] {
			continue
		}
		bc := bfd.Config{Local: bi.Source, Peer: bi.Neighbor, DesiredMinTx: bi.MinTx, RequiredMinRx: bi.MinRx,
			DetectMult: uint8(min(max(bi.Multiplier, 0), 255))}
		if bi.Neighbor.IsValid() {
			b.addAt(fmt.Sprintf("bfd_instances[%d]", i), bc.Validate())
		}
		p.BFDTracks = append(p.BFDTracks, BFDTrack{Name: bi.Name, Session: bc})
	}
	for _, s := range cfg.Scripts {
		if !usedScripts[Track{Kind: TrackScript, Name: s.Name}.Key()] {
			continue
		}
		user := s.User
		if user == "" {
			user = cfg.Global.ScriptUser
		}
		p.Scripts = append(p.Scripts, Script{Name: s.Name,
			Exec:   checks.ExecConfig{Command: s.Command, Timeout: s.Timeout, User: user, Security: cfg.Global.EnableScriptSecurity},
			Params: checks.Params{Interval: s.Interval, Timeout: s.Timeout, Rise: s.Rise, Fall: s.Fall, InitialUp: true}})
	}
	p.Services = b.services(cfg)
	p.Alerts = alerts(cfg.Global)
	if p.Alerts != nil {
		// The agent's own check (alert.New sends nothing before Run).
		if _, err := alert.New(*p.Alerts, slog.New(slog.DiscardHandler)); err != nil {
			b.addAt("global", err)
		}
	}
	p.LVS = LVS{FlushAtStart: cfg.Global.LVSFlush}
	switch {
	case cfg.Global.LVSFlushOnStop:
		p.LVS.OnStop = FlushAll
	case cfg.Global.LVSKeepOnStop:
		p.LVS.OnStop = Keep
	}
	if sd := cfg.Global.LVSSyncDaemon; sd.Interface != "" {
		p.SyncDaemon = &SyncDaemon{Interface: sd.Interface, Instance: sd.Instance, SyncID: uint8(cfg.LVSSyncID())}
	}
	return p
}

// instance converts one instance; problems go to b.
func (b *builder) instance(at string, c configs.Instance, scripts []configs.Script, bfdInstances []configs.BFDInstance, group string, warnings *[]string, rulePrio map[int]int, globalAlert bool) Instance {
	in := Instance{Name: c.Name, Interface: c.Interface, Family: c.Family(), SyncGroup: group}
	rc := vrrp.Config{
		Name: c.Name, Preempt: c.Preempt, PreemptDelay: c.PreemptDelay, AdvertInterval: c.AdvertInterval,
		AcceptMode: c.Accept, Src: c.UnicastSrcIP, AuthPass: c.AuthPass,
	}
	rc.VRID = b.byteIn(at+".vrid", c.VRID, 1, 255)
	rc.Priority = b.byteIn(at+".priority", c.Priority, 1, 255)
	rc.Version = b.byteIn(at+".version", c.Version, 2, 3)
	switch c.State {
	case "MASTER":
		rc.InitialMaster = true
	case "BACKUP", "":
	default:
		b.errs = append(b.errs, fmt.Errorf("%s.state: %q is not BACKUP or MASTER", at, c.State))
	}
	// Addresses of another family are configs.Validate's errors; leave them
	// out here so that each problem is reported once.
	for _, a := range c.UnicastPeers {
		if a.IsValid() && vrrp.Family(a) == in.Family {
			rc.Peers = append(rc.Peers, a)
		}
	}
	for _, v := range c.VIPs {
		if v.IsValid() && vrrp.Family(v.Addr()) == in.Family {
			rc.VIPs = append(rc.VIPs, v.Addr())
			in.VIPs = append(in.VIPs, providers.VIP{Prefix: v.Prefix, Interface: v.Interface(c.Interface)})
		}
	}
	// Excluded VIPs are held like the others but not carried in adverts
	// (keepalived virtual_ipaddress_excluded): any family, any interface.
	for _, v := range c.ExcludedVIPs {
		if v.IsValid() {
			in.VIPs = append(in.VIPs, providers.VIP{Prefix: v.Prefix, Interface: v.Interface(c.Interface)})
		}
	}
	in.Routes, in.Rules = b.routes(at, c, rulePrio)
	in.Alert = alertOn(globalAlert, c.SMTPAlert)
	in.Router = rc
	if c.BFD.Interval > 0 && c.BFD.Multiplier >= 1 && c.BFD.Multiplier <= 255 {
		in.BFD = &BFD{Interval: c.BFD.Interval, Multiplier: uint8(c.BFD.Multiplier)}
	}
	if rc.VRID != 0 && rc.Priority != 0 && rc.Version != 0 {
		check := rc
		if !check.Src.IsValid() || vrrp.Family(check.Src) != in.Family {
			// Resolved from the interface at start: stand in an address of
			// the family that is no peer.
			check.Src = netip.IPv4Unspecified()
			if in.Family == 6 {
				check.Src = netip.IPv6Unspecified()
			}
		}
		if len(check.VIPs) == 0 && len(c.VIPs) > 0 {
			check.VIPs = []netip.Addr{check.Src} // family errors are reported by configs
		}
		b.addAt(at, check.Validate())
	}
	in.Provider = b.provider(at+".provider", c)
	pr := c.Provider
	in.Holder = Holder{
		Backoff:     providers.Backoff{Initial: pr.Backoff.Initial, Max: pr.Backoff.Max},
		CallTimeout: pr.CallTimeout, DriftInterval: pr.DriftCheckInterval,
		GARPRefresh: c.GARP.MasterRefresh, GARPDelay: c.GARP.MasterDelay, Fence: pr.Fence, DryRun: pr.DryRun,
	}
	in.Notify = Notify{Generic: c.Notify, Master: c.NotifyMaster, Backup: c.NotifyBackup, Fault: c.NotifyFault, Stop: c.NotifyStop}
	// As keepalived (without sync_group_tracking_weight): a track of an
	// instance in a sync group has no weight, its failure is a FAULT, so
	// that the whole group moves instead of one member's priority.
	weight := func(name string, w int) int {
		if w != 0 && group != "" {
			*warnings = append(*warnings, fmt.Sprintf("%s: track %s weight %d ignored in sync group %s: a failure puts the group in FAULT", at, name, w, group))
			return 0
		}
		return w
	}
	for _, ts := range c.TrackScripts {
		w := ts.Weight
		if w == 0 {
			for _, s := range scripts {
				if s.Name == ts.Name {
					w = s.Weight
				}
			}
		}
		in.Tracks = append(in.Tracks, Track{Kind: TrackScript, Name: ts.Name, Weight: weight(ts.Name, w)})
	}
	for _, ti := range c.TrackInterfaces {
		in.Tracks = append(in.Tracks, Track{Kind: TrackInterface, Name: ti.Name, Weight: weight(ti.Name, ti.Weight)})
	}
	for _, tb := range c.TrackBFD {
		w := tb.Weight
		if w == 0 {
			for _, bi := range bfdInstances {
				if bi.Name == tb.Name {
					w = bi.Weight
				}
			}
		}
		in.Tracks = append(in.Tracks, Track{Kind: TrackBFD, Name: tb.Name, Weight: weight(tb.Name, w)})
	}
	return in
}

// byteIn converts v in [lo, hi] to a byte; out of range is a problem at key.
func (b *builder) byteIn(key string, v, lo, hi int) uint8 {
	if v < lo || v > hi {
		if lo == 2 && hi == 3 {
			b.errs = append(b.errs, fmt.Errorf("%s: %d is not 2 or 3", key, v))
		} else {
			b.errs = append(b.errs, fmt.Errorf("%s: %d is out of range %d..%d", key, v, lo, hi))
		}
		return 0
	}
	return uint8(v)
}

// provider converts an instance's provider settings and validates them with
// the provider package's own rules.
func (b *builder) provider(at string, c configs.Instance) Provider {
	pr := c.Provider
	kind, err := ParseProviderKind(pr.Type)
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("%s.type: %w", at, err))
		return Provider{}
	}
	out := Provider{Kind: kind, DryRun: pr.DryRun}
	var verr error
	switch kind {
	case Netlink:
		if pr.Mode != "" {
			b.errs = append(b.errs, fmt.Errorf("%s.mode: netlink takes no mode, got %q", at, pr.Mode))
		}
	case AWS:
		out.AWS = &aws.Options{
			Mode: aws.Mode(pr.Mode), Region: pr.Region, InstanceID: pr.InstanceID, ENIID: pr.ENIID,
			Interface: c.Interface, RouteTableIDs: pr.RouteTableIDs, AllocationID: pr.AllocationID,
			PrivateIP: pr.PrivateIP, AssumeRoleARN: pr.AssumeRoleARN, STSEndpoint: pr.STSEndpoint,
			Endpoint: pr.Endpoint, MetadataEndpoint: pr.MetadataEndpoint,
			DryRun: pr.DryRun, NoLocalAddress: pr.NoLocalAddress,
		}
		verr = out.AWS.Validate()
	case Aliyun:
		out.Aliyun = &aliyun.Options{
			Mode: pr.Mode, Region: pr.Region, InstanceID: pr.InstanceID, ENIID: pr.ENIID, HaVipID: pr.HaVipID,
			RouteTableIDs: pr.RouteTableIDs, PeerENIID: pr.PeerENIID, ManageAssociation: pr.ManageAssociation,
			Endpoint: pr.Endpoint, ECSEndpoint: pr.ECSEndpoint, MetadataEndpoint: pr.MetadataEndpoint,
			DryRun: pr.DryRun, NoLocalAddress: pr.NoLocalAddress,
		}
		verr = out.Aliyun.Validate()
	case Tencent:
		out.Tencent = &tencent.Options{
			Mode: pr.Mode, Region: pr.Region, InstanceID: pr.InstanceID, ENIID: pr.ENIID, HaVipID: pr.HaVipID,
			RouteTableIDs: pr.RouteTableIDs, SubnetID: pr.SubnetID, ManageAssociation: pr.ManageAssociation,
			Endpoint: pr.Endpoint, MetadataEndpoint: pr.MetadataEndpoint, DryRun: pr.DryRun, NoLocalAddress: pr.NoLocalAddress,
		}
		verr = out.Tencent.Validate()
	}
	if verr != nil {
		// The providers' messages start with "aws: ", "aliyun: ", …
		_, msg, _ := strings.Cut(verr.Error(), ": ")
		b.errs = append(b.errs, fmt.Errorf("%s: %s", at, msg))
	}
	if kind == Netlink || !pr.NoLocalAddress {
		out.Local = &netlink.Options{GARPCount: c.GARP.Count, GARPInterval: c.GARP.Interval, DryRun: pr.DryRun}
	}
	return out
}

// services converts the virtual servers; each is validated by lvs.
func (b *builder) services(cfg *configs.Config) []Service {
	groups := map[string][]string{}
	for _, g := range cfg.VirtualServerGroups {
		groups[g.Name] = g.Members
	}
	var out []Service
	for i, vs := range cfg.VirtualServers {
		at := fmt.Sprintf("virtual_servers[%d]", i)
		st, err := serviceState(vs)
		if err != nil {
			b.addAt(at, err)
			continue
		}
		svc := Service{Name: serviceName(vs), State: st}
		if vs.Group != "" {
			svc.Group = groupMembers(groups[vs.Group])
		}
		if (vs.Address.IsValid() || vs.FWMark != 0) && vs.Group == "" {
			if err := st.Validate(); err != nil {
				b.addAt(at, err)
			}
		} else if vs.Group != "" {
			for _, x := range lvs.ExpandGroup(st, svc.Group) {
				if err := x.Validate(); err != nil {
					b.addAt(at, fmt.Errorf("%v: %w", x.Key(), err))
					break
				}
			}
		}
		vsAlert := alertOn(cfg.Global.SMTPAlert, vs.SMTPAlert)
		for j, rs := range vs.RealServers {
			r := Real{Address: rs.Address, NotifyUp: rs.NotifyUp, NotifyDown: rs.NotifyDown, Alert: alertOn(vsAlert, rs.SMTPAlert)}
			for k, c := range rs.Checks {
				ck := b.check(fmt.Sprintf("%s.real_servers[%d].checks[%d]", at, j, k), c, rs.Address, vs, cfg.Global)
				ck.ID = fmt.Sprintf("%s/%s/%s%d", svc.Name, rs.Address, c.Type, k)
				r.Checks = append(r.Checks, ck)
			}
			svc.Reals = append(svc.Reals, r)
		}
		out = append(out, svc)
	}
	return out
}

func serviceName(vs configs.VirtualServer) string {
	switch {
	case vs.Group != "":
		return "group " + vs.Group
	case vs.FWMark != 0:
		return fmt.Sprintf("fwmark %d", vs.FWMark)
	}
	return vs.Protocol + " " + vs.Address.String()
}

// check builds one health check; problems go to b under at.
func (b *builder) check(at string, c configs.Check, rs netip.AddrPort, vs configs.VirtualServer, g configs.Global) Check {
	interval := c.DelayLoop
	if interval == 0 {
		interval = vs.DelayLoop
	}
	out := Check{Spec: c, Params: checks.Params{Interval: interval, Timeout: c.ConnectTimeout, Retry: c.Retry,
		DelayBeforeRetry: c.DelayBeforeRetry, Rise: c.Rise, Fall: c.Fall, InitialUp: true}}
	ip, port := rs.Addr(), rs.Port()
	if c.ConnectIP.IsValid() {
		ip = c.ConnectIP
	}
	if c.ConnectPort != 0 {
		port = uint16(c.ConnectPort)
	}
	target := netip.AddrPortFrom(ip, port)
	var err error
	switch c.Type {
	case configs.CheckTCP:
		out.Checker = checks.NewTCPChecker(target)
	case configs.CheckHTTP, configs.CheckHTTPS:
		out.Checker, err = checks.NewHTTPChecker(checks.HTTPConfig{Target: target, TLS: c.Type == configs.CheckHTTPS, Path: c.Path,
			StatusCodes: c.StatusCodes, Digest: c.Digest, VirtualHost: c.VirtualHost, TLSVerify: c.TLSVerify,
			Timeout: c.ConnectTimeout})
	case configs.CheckMisc:
		user := c.User
		if user == "" {
			user = g.ScriptUser
		}
		out.Exec = &checks.ExecConfig{Command: c.Command, Timeout: c.ConnectTimeout,
			Dynamic: c.Dynamic, User: user, Security: g.EnableScriptSecurity}
		if strings.TrimSpace(c.Command) == "" {
			err = errors.New("command: is required for a misc check")
		}
	case configs.CheckDNS:
		if c.ConnectPort == 0 {
			target = netip.AddrPortFrom(ip, 53)
		}
		out.Checker, err = checks.NewDNSChecker(checks.DNSConfig{Server: target, Name: c.QueryName, Type: c.QueryType, Timeout: c.ConnectTimeout})
	case configs.CheckUDP:
		out.Checker, err = checks.NewUDPChecker(checks.UDPConfig{Target: target, Send: []byte(c.Send), Expect: []byte(c.Expect),
			RequireReply: c.Expect != "", Timeout: c.ConnectTimeout})
	case configs.CheckPing:
		pc := checks.NewPingChecker(ip)
		pc.Timeout = c.ConnectTimeout
		out.Checker = pc
	case configs.CheckSMTP:
		if c.ConnectPort == 0 && port == 0 {
			target = netip.AddrPortFrom(ip, 25)
		}
		sc := checks.NewSMTPChecker(target)
		sc.Timeout = c.ConnectTimeout
		if c.HeloName != "" {
			sc.Helo = c.HeloName
		}
		out.Checker = sc
	default:
		return out // an unknown type is configs.Validate's error
	}
	if err != nil {
		// The checkers' messages start with "http check: ", "dns check: ", …
		msg := err.Error()
		if _, rest, ok := strings.Cut(msg, " check: "); ok {
			msg = rest
		}
		b.addAt(at, errors.New(msg))
	}
	return out
}

// serviceState converts one configured virtual server (health not applied).
func serviceState(vs configs.VirtualServer) (lvs.ServiceState, error) {
	var st lvs.ServiceState
	var errs []error
	bad := func(key string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
	}
	var err error
	st.Address, st.FWMark = vs.Address, vs.FWMark
	st.Protocol, err = lvs.ParseProtocol(vs.Protocol)
	bad("protocol", err)
	st.Scheduler = vs.Scheduler
	if !lvs.ValidScheduler(vs.Scheduler) {
		bad("scheduler", fmt.Errorf("unknown %q (want one of %s)", vs.Scheduler, strings.Join(lvs.Schedulers(), " ")))
	}
	st.SchedFlags, err = lvs.ParseSchedFlags(vs.Scheduler, vs.SchedulerFlags)
	bad("scheduler_flags", err)
	st.Forwarding, err = lvs.ParseForwarding(vs.Forwarding)
	bad("forwarding", err)
	st.Persistence = vs.PersistenceTimeout
	st.Netmask, err = configs.ParseGranularity(vs.PersistenceGranularity)
	bad("persistence_granularity", err)
	if vs.FWMark != 0 {
		st.Family = lvs.IPv4
		if len(vs.RealServers) > 0 && vs.RealServers[0].Address.Addr().Is6() {
			st.Family = lvs.IPv6
		}
	}
	st.Sorry, st.Quorum, st.Hysteresis = vs.SorryServer, vs.Quorum, vs.Hysteresis
	st.Instance, st.QuorumUp, st.QuorumDown = vs.VRRPInstance, vs.QuorumUp, vs.QuorumDown
	for j, rs := range vs.RealServers {
		if rs.Weight < 0 || rs.Weight > 65535 {
			bad(fmt.Sprintf("real_servers[%d].weight", j), fmt.Errorf("%d is out of range 0..65535", rs.Weight))
		}
		if rs.UpperThreshold < 0 || rs.LowerThreshold < 0 {
			bad(fmt.Sprintf("real_servers[%d]", j), errors.New("thresholds must not be negative"))
		}
		r := lvs.RealState{Real: lvs.Real{Address: rs.Address, Weight: rs.Weight,
			UpperThreshold: uint32(max(rs.UpperThreshold, 0)), LowerThreshold: uint32(max(rs.LowerThreshold, 0))}, Healthy: true}
		if rs.Forwarding != "" {
			r.Forwarding, err = lvs.ParseForwarding(rs.Forwarding)
			bad(fmt.Sprintf("real_servers[%d].forwarding", j), err)
		}
		r.InhibitOnFailure = vs.InhibitOnFailure
		if rs.InhibitOnFailure != nil {
			r.InhibitOnFailure = *rs.InhibitOnFailure
		}
		st.Reals = append(st.Reals, r)
	}
	return st, errors.Join(errs...)
}

// groupMembers expands virtual_server_group members, ranges included.
// Members that do not parse are configs.Validate's errors.
func groupMembers(members []string) []lvs.GroupMember {
	var out []lvs.GroupMember
	for _, m := range members {
		first, last, fwm, err := configs.ParseGroupMember(m)
		if err != nil {
			continue
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

var routeScopes = map[string]netlink.Scope{
	"global": netlink.ScopeUniverse, "universe": netlink.ScopeUniverse, "site": netlink.ScopeSite,
	"link": netlink.ScopeLink, "host": netlink.ScopeHost, "nowhere": netlink.ScopeNowhere,
}

var routeTypes = map[string]netlink.RouteType{
	"": netlink.RouteUnicast, configs.RouteUnicast: netlink.RouteUnicast, configs.RouteBlackhole: netlink.RouteBlackhole,
	configs.RouteUnreachable: netlink.RouteUnreachable, configs.RouteProhibit: netlink.RouteProhibit,
}

// routes converts an instance's virtual_routes and virtual_rules.
func (b *builder) routes(at string, c configs.Instance, rulePrio map[int]int) ([]netlink.Route, []netlink.Rule) {
	var routes []netlink.Route
	for i, r := range c.Routes {
		rp := fmt.Sprintf("%s.routes[%d]", at, i)
		typ, ok := routeTypes[r.Type]
		if !ok {
			b.errs = append(b.errs, fmt.Errorf("%s.type: %q is not unicast, blackhole, unreachable or prohibit", rp, r.Type))
			continue
		}
		nr := netlink.Route{To: r.To, Via: r.Via, Dev: r.Dev, Src: r.Src, Table: r.Table, Metric: r.Metric, Type: typ, OnLink: r.OnLink}
		switch sc, ok := routeScopes[r.Scope]; {
		case r.Scope == "":
			// As ip route: a unicast route without gateway is a link route.
			if typ == netlink.RouteUnicast && !r.Via.IsValid() {
				nr.Scope = netlink.ScopeLink
			}
		case ok:
			nr.Scope = sc
		default:
			b.errs = append(b.errs, fmt.Errorf("%s.scope: %q is not global, site, link, host or nowhere", rp, r.Scope))
			continue
		}
		if nr.Dev == "" && !nr.Via.IsValid() && typ == netlink.RouteUnicast {
			nr.Dev = c.Interface
		}
		routes = append(routes, nr)
	}
	var rules []netlink.Rule
	for _, r := range c.Rules {
		fam := r.Family(c.Family())
		nr := netlink.Rule{From: r.From, To: r.To, IPv6: fam == 6, Table: r.Table, Priority: r.Priority,
			IIF: r.IIF, OIF: r.OIF, FwMark: r.FWMark, FwMask: r.FWMask}
		if nr.Priority == 0 {
			nr.Priority = rulePrio[fam]
			rulePrio[fam]--
		}
		rules = append(rules, nr)
	}
	return routes, rules
}

// alertOn is an object's smtp_alert: its own setting, else its parent's.
func alertOn(parent bool, own *bool) bool {
	if own != nil {
		return *own
	}
	return parent
}

// alerts is where alerts go (nil: nowhere configured).
func alerts(g configs.Global) *alert.Config {
	c := &alert.Config{RouterID: g.Node}
	if s := g.SMTP; s.Server != "" {
		from := s.From
		if from == "" {
			from = "vipd@" + g.Node
		}
		helo := s.HELO
		if helo == "" {
			helo = g.Node
		}
		c.SMTP = &alert.SMTPConfig{Server: s.Server, Port: s.Port, From: from, To: s.To, Helo: helo, Timeout: s.Timeout, StartTLS: s.StartTLS}
	}
	if w := g.Webhook; w.URL != "" {
		c.Webhook = &alert.WebhookConfig{URL: w.URL, Headers: w.Headers, Timeout: w.Timeout}
	}
	if c.SMTP == nil && c.Webhook == nil {
		return nil
	}
	return c
}
