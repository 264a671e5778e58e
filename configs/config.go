package configs

import (
	"net/netip"
	"time"
)

// Config is the whole vipd configuration. Field tags name the YAML keys (the
// same names, upper-cased and joined by "_", form the VIPD_* environment
// variables; see Load).
type Config struct {
	Global              Global               `yaml:"global"`
	Scripts             []Script             `yaml:"scripts"`
	BFDInstances        []BFDInstance        `yaml:"bfd_instances"`
	Instances           []Instance           `yaml:"instances"`
	SyncGroups          []SyncGroup          `yaml:"sync_groups"`
	VirtualServerGroups []VirtualServerGroup `yaml:"virtual_server_groups"`
	VirtualServers      []VirtualServer      `yaml:"virtual_servers"`
}

// Global holds node-wide settings (keepalived global_defs).
type Global struct {
	// Node names this node in logs and status (keepalived router_id).
	// Default: the host name.
	Node string `yaml:"node"`
	// LogFormat is text or json.
	LogFormat string `yaml:"log_format"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// StatusSocket is the unix socket `vipd status` reads.
	StatusSocket string `yaml:"status_socket"`
	// StatusSocketGroup (a group name or numeric id) may also use the
	// status socket (mode 0660); "" (default): root only (mode 0600).
	StatusSocketGroup string `yaml:"status_socket_group"`
	// MetricsListen is the Prometheus listen address, e.g. 127.0.0.1:9240;
	// empty disables metrics.
	MetricsListen string `yaml:"metrics_listen"`
	// ScriptUser runs scripts as this user unless they name their own.
	ScriptUser string `yaml:"script_user"`
	// EnableScriptSecurity refuses scripts writable by non-root users.
	EnableScriptSecurity bool `yaml:"enable_script_security"`
	// LVSFlush flushes the whole IPVS table (every service, also those
	// vipd did not create) at start, before vipd programs its own
	// (keepalived lvs_flush).
	LVSFlush bool `yaml:"lvs_flush"`
	// LVSFlushOnStop flushes the whole IPVS table at stop (keepalived
	// lvs_flush_on_stop), instead of removing vipd's services one by one.
	LVSFlushOnStop bool `yaml:"lvs_flush_on_stop"`
	// LVSKeepOnStop leaves vipd's own IPVS services in place at stop (like
	// keepalived -I, --dont-release-ipvs). Default false: vipd removes the
	// services it created when it stops. LVSFlushOnStop wins over it.
	LVSKeepOnStop bool `yaml:"lvs_keep_on_stop"`
	// LVSSyncDaemon starts the kernel IPVS connection sync daemon.
	LVSSyncDaemon LVSSyncDaemon `yaml:"lvs_sync_daemon"`
	// SMTPAlert turns alerts on for every instance, sync group, virtual
	// server and real server that does not set its own smtp_alert
	// (keepalived smtp_alert). Alerts go to SMTP when SMTP.Server is set and
	// to Webhook when Webhook.URL is set; at least one must be.
	SMTPAlert bool `yaml:"smtp_alert"`
	// SMTP is the mail server of e-mail alerts (keepalived smtp_server,
	// notification_email, notification_email_from, smtp_helo_name,
	// smtp_connect_timeout). Server "" disables e-mail.
	SMTP SMTP `yaml:"smtp"`
	// Webhook posts every alert as JSON to a URL. URL "" disables it.
	Webhook Webhook `yaml:"webhook"`
}

// SMTP configures e-mail alerts.
type SMTP struct {
	// Server is a host name or address; "" disables e-mail alerts.
	Server string `yaml:"server"`
	// Port defaults to 25.
	Port int `yaml:"port"`
	// From is the sender; "" means vipd@<global.node>.
	From string `yaml:"from"`
	// To are the recipients (keepalived notification_email).
	To []string `yaml:"to"`
	// HELO is the name given in EHLO/HELO; "" means global.node.
	HELO string `yaml:"helo"`
	// Timeout bounds the connection and each command (keepalived
	// smtp_connect_timeout, default 30s).
	Timeout time.Duration `yaml:"timeout"`
	// StartTLS upgrades the connection with STARTTLS (and fails when the
	// server does not offer it).
	StartTLS bool `yaml:"starttls"`
}

// Webhook configures JSON alerts posted over HTTP(S).
type Webhook struct {
	// URL is http:// or https://; "" disables webhook alerts.
	URL string `yaml:"url"`
	// Timeout bounds one POST (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// Headers are added to each request (e.g. Authorization). Header names
	// are case-insensitive (the loader lower-cases them). Environment form:
	// VIPD_GLOBAL_WEBHOOK_HEADERS="Name=Value,Name2=Value2".
	Headers map[string]string `yaml:"headers"`
}

// LVSSyncDaemon is keepalived's lvs_sync_daemon IFACE [VI_NAME] [id N].
// An empty Interface disables it.
type LVSSyncDaemon struct {
	Interface string `yaml:"interface"`
	// Instance is the VRRP instance whose state decides master/backup sync.
	Instance string `yaml:"instance"`
	// SyncID is the IPVS sync id, 0..255. nil (the default) means what
	// keepalived does without "id": the VRID of Instance, or 0 without an
	// instance (keepalived vrrp.c, "If no syncid configured, use vrid").
	// Config.LVSSyncID resolves it.
	SyncID *int `yaml:"sync_id"`
}

// LVSSyncID returns the IPVS sync id of the sync daemon: SyncID when set,
// else the VRID of the daemon's instance, else 0.
func (c *Config) LVSSyncID() int {
	sd := c.Global.LVSSyncDaemon
	if sd.SyncID != nil {
		return *sd.SyncID
	}
	for _, in := range c.Instances {
		if in.Name == sd.Instance && sd.Instance != "" {
			return in.VRID
		}
	}
	return 0
}

// Script is a tracking script (keepalived vrrp_script), referenced by name
// from Instance.TrackScripts.
type Script struct {
	Name     string        `yaml:"name"`
	Command  string        `yaml:"command"`
	Interval time.Duration `yaml:"interval"`
	// Timeout defaults to Interval when zero.
	Timeout time.Duration `yaml:"timeout"`
	// Weight 0: failure puts the instances tracking it in FAULT; ±N adjusts
	// their priority (negative: while failing, positive: while succeeding).
	Weight int    `yaml:"weight"`
	Rise   int    `yaml:"rise"`
	Fall   int    `yaml:"fall"`
	User   string `yaml:"user"`
}

// Instance is one VRRP instance (keepalived vrrp_instance).
type Instance struct {
	Name      string `yaml:"name"`
	Interface string `yaml:"interface"`
	// VRID is the virtual router id, 1..255.
	VRID int `yaml:"vrid"`
	// Version is the VRRP version, 2 or 3. vipd defaults to 3 (RFC 5798);
	// keepalived defaults to 2, so the migration sets 2 explicitly unless
	// vrrp_version says otherwise.
	Version int `yaml:"version"`
	// Priority is 1..255 (255 only for the address owner); default 100.
	Priority int `yaml:"priority"`
	// State is the initial state hint: BACKUP or MASTER.
	State string `yaml:"state"`
	// AdvertInterval: v3 a multiple of 10ms in 10ms..40.95s, v2 whole
	// seconds 1..255. Default 1s.
	AdvertInterval time.Duration `yaml:"advert_interval"`
	// Preempt lets a higher priority backup take over (keepalived
	// nopreempt → false). Default true.
	Preempt      bool          `yaml:"preempt"`
	PreemptDelay time.Duration `yaml:"preempt_delay"`
	// Accept makes the master accept packets for the VIPs it does not own.
	Accept bool `yaml:"accept"`
	// UnicastSrcIP is the source of adverts; zero: the first address of
	// Interface in the VIPs' family.
	UnicastSrcIP netip.Addr `yaml:"unicast_src_ip"`
	// UnicastPeers are the other routers; empty: multicast (224.0.0.18 /
	// ff02::12).
	UnicastPeers []netip.Addr `yaml:"unicast_peers"`
	// AuthPass is the v2 simple password (auth_type PASS), ≤ 8 characters.
	AuthPass string `yaml:"auth_pass"`
	// VIPs are the virtual addresses sent in adverts, all of the instance's
	// family: "ADDR[/LEN] [dev IFACE]" (keepalived virtual_ipaddress). A
	// bare address gets /32 (IPv4) or /128 (IPv6); without dev the VIP goes
	// on Interface.
	VIPs []VIP `yaml:"vips"`
	// ExcludedVIPs are held with the VIPs but not sent in adverts, of any
	// family (keepalived virtual_ipaddress_excluded): this is how a
	// dual-stack instance is written. An instance needs at least one VIP in
	// VIPs or ExcludedVIPs.
	ExcludedVIPs []VIP `yaml:"excluded_vips"`
	// Routes are added while master and removed otherwise (keepalived
	// virtual_routes).
	Routes []Route `yaml:"routes"`
	// Rules are policy routing rules added while master and removed
	// otherwise (keepalived virtual_rules).
	Rules []Rule `yaml:"rules"`
	// SMTPAlert overrides global.smtp_alert for this instance's state
	// changes (nil: the global setting).
	SMTPAlert       *bool            `yaml:"smtp_alert"`
	GARP            GARP             `yaml:"garp"`
	TrackInterfaces []TrackInterface `yaml:"track_interfaces"`
	TrackScripts    []TrackScript    `yaml:"track_scripts"`
	TrackBFD        []TrackBFD       `yaml:"track_bfd"`
	// Notify is called as: <cmd> INSTANCE <name> <STATE> <priority>.
	Notify       string   `yaml:"notify"`
	NotifyMaster string   `yaml:"notify_master"`
	NotifyBackup string   `yaml:"notify_backup"`
	NotifyFault  string   `yaml:"notify_fault"`
	NotifyStop   string   `yaml:"notify_stop"`
	Provider     Provider `yaml:"provider"`
	// BFD detects the death of the master faster than VRRP can (RFC 5880
	// asynchronous mode, RFC 5881 single hop) with a session to each
	// unicast peer.
	BFD BFD `yaml:"bfd"`
}

// BFD configures the BFD sessions of an instance (keepalived bfd_instance).
// A backup that sees its session to the master go down treats it as
// Master_Down: it takes over after its skew time on the BFD interval's
// scale, about Interval × Multiplier + Interval after the master died.
type BFD struct {
	// Interval is the desired transmit and required receive interval;
	// 0 disables BFD.
	Interval time.Duration `yaml:"interval"`
	// Multiplier is the detection multiplier (default 3).
	Multiplier int `yaml:"multiplier"`
}

// GARP controls gratuitous ARP / unsolicited NA after becoming master.
type GARP struct {
	// Count adverts sent at Interval after the transition (default 5×200ms).
	Count    int           `yaml:"count"`
	Interval time.Duration `yaml:"interval"`
	// MasterRefresh re-announces periodically while master (0: never).
	MasterRefresh time.Duration `yaml:"master_refresh"`
	// MasterDelay sends a second burst this long after the transition
	// (keepalived vrrp_garp_master_delay, default 5s; 0: none).
	MasterDelay time.Duration `yaml:"master_delay"`
}

// TrackInterface makes an instance depend on a link.
type TrackInterface struct {
	Name string `yaml:"name"`
	// Weight 0: link down → FAULT; ±N adjusts priority.
	Weight int `yaml:"weight"`
}

// TrackScript makes an instance depend on a Script.
type TrackScript struct {
	Name string `yaml:"name"`
	// Weight overrides the script's weight when non-zero.
	Weight int `yaml:"weight"`
}

// BFDInstance is a BFD session to a neighbour that instances can track
// (keepalived bfd_instance, referenced by track_bfd).
type BFDInstance struct {
	Name string `yaml:"name"`
	// Neighbor is the peer's address (keepalived neighbor_ip); required.
	Neighbor netip.Addr `yaml:"neighbor_ip"`
	// Source is our address (source_ip); zero: the kernel's choice.
	Source netip.Addr `yaml:"source_ip"`
	// MinRx and MinTx are the required receive and desired transmit
	// intervals (keepalived min_rx / min_tx, default 10ms).
	MinRx time.Duration `yaml:"min_rx"`
	MinTx time.Duration `yaml:"min_tx"`
	// Multiplier is the detection multiplier (keepalived default 5).
	Multiplier int `yaml:"multiplier"`
	// Weight is the default weight of track_bfd entries naming this
	// session: 0 puts the tracking instances in FAULT while it is down.
	Weight int `yaml:"weight"`
}

// TrackBFD makes an instance depend on a BFDInstance.
type TrackBFD struct {
	Name string `yaml:"name"`
	// Weight overrides the BFD instance's weight when non-zero.
	Weight int `yaml:"weight"`
}

// Provider types and modes.
const (
	ProviderNetlink = "netlink"
	ProviderAWS     = "aws"
	ProviderAliyun  = "aliyun"
	ProviderTencent = "tencent"
)

// Provider selects and configures what moves the VIPs of an instance.
type Provider struct {
	// Type is netlink (default), aws, aliyun or tencent.
	Type string `yaml:"type"`
	// Mode: aws secondary-ip | route-table | eip; aliyun havip |
	// route-entry | secondary-ip; tencent havip | private-ip | route.
	Mode   string `yaml:"mode"`
	DryRun bool   `yaml:"dry_run"`
	// NoLocalAddress: cloud modes do not put the VIP on the NIC.
	NoLocalAddress bool `yaml:"no_local_address"`
	// CallTimeout bounds one API call (default 5s).
	CallTimeout time.Duration `yaml:"call_timeout"`
	// DriftCheckInterval re-verifies ownership while master (0 disables;
	// default 10s).
	DriftCheckInterval time.Duration `yaml:"drift_check_interval"`
	// Fence enables split-brain fencing.
	Fence         bool     `yaml:"fence"`
	Backoff       Backoff  `yaml:"backoff"`
	Endpoint      string   `yaml:"endpoint"`
	Region        string   `yaml:"region"`
	InstanceID    string   `yaml:"instance_id"`
	ENIID         string   `yaml:"eni_id"`
	RouteTableIDs []string `yaml:"route_table_ids"`
	AllocationID  string   `yaml:"allocation_id"`
	AssumeRoleARN string   `yaml:"assume_role_arn"`
	// STSEndpoint overrides the STS endpoint used for assume_role_arn (aws).
	STSEndpoint string `yaml:"sts_endpoint"`
	// ECSEndpoint overrides the ECS API endpoint (aliyun secondary-ip; the
	// VPC API, havip and route-entry, uses Endpoint). Default: Endpoint.
	ECSEndpoint string `yaml:"ecs_endpoint"`
	// PrivateIP is the private address an EIP maps to (aws eip; default:
	// the ENI's primary address).
	PrivateIP         netip.Addr `yaml:"private_ip"`
	HaVipID           string     `yaml:"havip_id"`
	ManageAssociation bool       `yaml:"manage_association"`
	PeerENIID         string     `yaml:"peer_eni_id"`
	SubnetID          string     `yaml:"subnet_id"`
	MetadataEndpoint  string     `yaml:"metadata_endpoint"`
}

// Backoff is the retry backoff of provider calls.
type Backoff struct {
	Initial time.Duration `yaml:"initial"`
	Max     time.Duration `yaml:"max"`
}

// SyncGroup makes instances change state together (keepalived
// vrrp_sync_group).
type SyncGroup struct {
	Name         string   `yaml:"name"`
	Instances    []string `yaml:"instances"`
	NotifyMaster string   `yaml:"notify_master"`
	NotifyBackup string   `yaml:"notify_backup"`
	NotifyFault  string   `yaml:"notify_fault"`
	// SMTPAlert overrides global.smtp_alert for the group's state changes
	// (nil: the global setting).
	SMTPAlert *bool `yaml:"smtp_alert"`
}

// VirtualServerGroup is keepalived's virtual_server_group. Members are
// "IP:PORT", "[IPv6]:PORT", "IP-LASTOCTET:PORT" ranges or "fwmark N".
type VirtualServerGroup struct {
	Name    string   `yaml:"name"`
	Members []string `yaml:"members"`
}

// VirtualServer is one LVS virtual service (keepalived virtual_server).
// Exactly one of Address, FWMark and Group is set.
type VirtualServer struct {
	Address netip.AddrPort `yaml:"address"`
	FWMark  uint32         `yaml:"fwmark"`
	Group   string         `yaml:"group"`
	// Protocol is TCP, UDP or SCTP.
	Protocol string `yaml:"protocol"`
	// Scheduler: rr wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf twos.
	Scheduler      string   `yaml:"scheduler"`
	SchedulerFlags []string `yaml:"scheduler_flags"`
	// Forwarding is NAT, DR or TUN (keepalived lb_kind).
	Forwarding         string        `yaml:"forwarding"`
	PersistenceTimeout time.Duration `yaml:"persistence_timeout"`
	// PersistenceGranularity is a netmask (255.255.255.0) or prefix length
	// (/24, or /64 for IPv6).
	PersistenceGranularity string `yaml:"persistence_granularity"`
	// DelayLoop is the default check interval of the real servers.
	DelayLoop        time.Duration  `yaml:"delay_loop"`
	Quorum           int            `yaml:"quorum"`
	Hysteresis       int            `yaml:"hysteresis"`
	QuorumUp         string         `yaml:"quorum_up"`
	QuorumDown       string         `yaml:"quorum_down"`
	InhibitOnFailure bool           `yaml:"inhibit_on_failure"`
	SorryServer      netip.AddrPort `yaml:"sorry_server"`
	// VRRPInstance programs the service only while this instance is
	// MASTER (empty: always).
	VRRPInstance string `yaml:"vrrp_instance"`
	// SMTPAlert overrides global.smtp_alert for this virtual server's
	// real servers and quorum changes (nil: the global setting).
	SMTPAlert   *bool        `yaml:"smtp_alert"`
	RealServers []RealServer `yaml:"real_servers"`
}

// RealServer is one backend of a VirtualServer.
type RealServer struct {
	Address netip.AddrPort `yaml:"address"`
	Weight  int            `yaml:"weight"`
	// Forwarding overrides the virtual server's.
	Forwarding     string `yaml:"forwarding"`
	UpperThreshold int    `yaml:"upper_threshold"`
	LowerThreshold int    `yaml:"lower_threshold"`
	// InhibitOnFailure overrides the virtual server's when set.
	InhibitOnFailure *bool `yaml:"inhibit_on_failure"`
	// NotifyUp and NotifyDown are commands run when the real server's
	// checks go up or down (keepalived notify_up/notify_down).
	NotifyUp   string `yaml:"notify_up"`
	NotifyDown string `yaml:"notify_down"`
	// SMTPAlert overrides the virtual server's smtp_alert (nil: inherit).
	SMTPAlert *bool `yaml:"smtp_alert"`
	// Checks must all pass for the real server to be up.
	Checks []Check `yaml:"checks"`
}

// Check types.
const (
	CheckTCP   = "tcp"
	CheckHTTP  = "http"
	CheckHTTPS = "https"
	CheckMisc  = "misc"
	CheckDNS   = "dns"
	CheckUDP   = "udp"
	CheckPing  = "ping"
	CheckSMTP  = "smtp"
)

// Check is one health check of a real server.
type Check struct {
	// Type is tcp, http, https, misc, dns, udp, ping (ICMP echo to
	// ConnectIP within ConnectTimeout) or smtp.
	Type string `yaml:"type"`
	// ConnectIP/ConnectPort default to the real server's.
	ConnectIP      netip.Addr    `yaml:"connect_ip"`
	ConnectPort    int           `yaml:"connect_port"`
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// DelayLoop defaults to the virtual server's when zero.
	DelayLoop        time.Duration `yaml:"delay_loop"`
	Retry            int           `yaml:"retry"`
	DelayBeforeRetry time.Duration `yaml:"delay_before_retry"`
	Rise             int           `yaml:"rise"`
	Fall             int           `yaml:"fall"`
	// http/https. Path "" means "/"; no StatusCodes means any 2xx.
	Path        string `yaml:"path"`
	StatusCodes []int  `yaml:"status_codes"`
	// Digest is the md5 hex of the body (see vipd genhash).
	Digest      string `yaml:"digest"`
	VirtualHost string `yaml:"virtualhost"`
	TLSVerify   bool   `yaml:"tls_verify"`
	// misc: Command (a /bin/sh command line), bounded by ConnectTimeout;
	// Dynamic: exit code 2..255 sets the weight to code-2 (keepalived
	// misc_dynamic).
	Command string `yaml:"command"`
	Dynamic bool   `yaml:"dynamic"`
	User    string `yaml:"user"`
	// dns: QueryName "" means "."; QueryType "" means A.
	QueryName string `yaml:"query_name"`
	QueryType string `yaml:"query_type"`
	// udp.
	Send   string `yaml:"send"`
	Expect string `yaml:"expect"`
	// smtp: the name sent in HELO; "" means keepalived's default,
	// smtpchecker.keepalived.org.
	HeloName string `yaml:"helo_name"`
}
