package configs_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/configs"
	"github.com/vipd/vipd/configs/configstest"
)

func TestValidateOK(t *testing.T) {
	if err := configstest.ValidConfig().Validate(configstest.Default()); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *configs.Config)
		want   []string
	}{
		{"src not on interface", func(c *configs.Config) { c.Instances[0].UnicastSrcIP = addr("192.0.2.9") },
			[]string{"instances[0].unicast_src_ip: 192.0.2.9 is not on interface eth0"}},
		{"interface missing", func(c *configs.Config) { c.Instances[0].Interface = "eth9" },
			[]string{"instances[0].interface: interface eth9 does not exist"}},
		{"vrid reused same family", func(c *configs.Config) {
			in := c.Instances[0]
			in.Name = "VI_2"
			in.VIPs = []configs.VIP{vip("192.0.2.102/32")}
			c.Instances = append(c.Instances, in)
		}, []string{"instances[2]: vrid 51 already used on eth0 by instances[0] (same family)"}},
		{"duplicate name", func(c *configs.Config) { c.Instances[1].Name = "VI_1" },
			[]string{`instances[1].name: "VI_1" is already the name of instances[0]`,
				`sync_groups[0].instances[1]: unknown instance "VI_6"`}},
		{"mixed families", func(c *configs.Config) {
			c.Instances[0].VIPs = append(c.Instances[0].VIPs, vip("2001:db8::5/128"))
		}, []string{"instances[0].vips[2]: 2001:db8::5/128 is IPv6, the instance is IPv4 (one family per instance; put other families in excluded_vips)"}},
		{"peer wrong family and duplicate", func(c *configs.Config) {
			c.Instances[0].UnicastPeers = []netip.Addr{addr("192.0.2.3"), addr("2001:db8::3"), addr("192.0.2.3"), addr("192.0.2.1")}
		}, []string{"instances[0].unicast_peers[1]: 2001:db8::3 is not IPv4 like the instance",
			"instances[0].unicast_peers[2]: 192.0.2.3 is listed twice",
			"instances[0].unicast_peers[3]: 192.0.2.1 is the instance's own unicast_src_ip"}},
		{"unknown track script and interface", func(c *configs.Config) {
			c.Instances[0].TrackScripts[0].Name = "chk_nope"
			c.Instances[0].TrackInterfaces[0].Name = "eth7"
		}, []string{`instances[0].track_interfaces[0].name: interface eth7 does not exist`,
			`instances[0].track_scripts[0].name: unknown script "chk_nope" (define it under scripts)`}},
		{"cloud without unicast peers", func(c *configs.Config) {
			c.Instances[0].Provider.Type, c.Instances[0].Provider.Mode = "aws", "secondary-ip"
			c.Instances[0].UnicastPeers = nil
		}, []string{"instances[0].unicast_peers: required with provider aws (cloud networks do not carry VRRP multicast)"}},
		{"sync group unknown member and twice", func(c *configs.Config) {
			c.SyncGroups = append(c.SyncGroups, configs.SyncGroup{Name: "H", Instances: []string{"VI_1", "VI_9"}})
		}, []string{`sync_groups[1].instances[0]: instance "VI_1" is already in sync group "G"`,
			`sync_groups[1].instances[1]: unknown instance "VI_9"`}},
		{"script problems", func(c *configs.Config) {
			c.Scripts = append(c.Scripts, configs.Script{Name: "chk_nginx", Rise: 1, Fall: 0})
		}, []string{`scripts[1].name: script "chk_nginx" is defined twice`, "scripts[1].command: is required",
			"scripts[1].interval: must be positive, got 0s", "scripts[1].fall: must be at least 1, got 0"}},
		{"global", func(c *configs.Config) {
			c.Global.LogLevel, c.Global.LogFormat, c.Global.StatusSocket = "verbose", "xml", "vipd.sock"
			c.Global.LVSSyncDaemon = configs.LVSSyncDaemon{Interface: "eth9", Instance: "VI_X"}
		}, []string{`global.log_format: "xml" is not one of text, json`, `global.log_level: "verbose" is not one of debug, info, warn, error`,
			`global.status_socket: "vipd.sock" is not an absolute path`, "global.lvs_sync_daemon.interface: interface eth9 does not exist",
			`global.lvs_sync_daemon.instance: unknown instance "VI_X"`}},
		{"duplicate virtual server", func(c *configs.Config) {
			c.VirtualServers = append(c.VirtualServers, c.VirtualServers[0])
		}, []string{"virtual_servers[2]: duplicate virtual server TCP 192.0.2.100:80 (also virtual_servers[0])"}},
		{"virtual server address and fwmark", func(c *configs.Config) { c.VirtualServers[0].FWMark = 1 },
			[]string{"virtual_servers[0]: set exactly one of address, fwmark, group"}},
		{"unknown group and instance", func(c *configs.Config) {
			c.VirtualServers[1].Group = "api"
			c.VirtualServers[0].VRRPInstance = "VI_X"
		}, []string{`virtual_servers[0].vrrp_instance: unknown instance "VI_X"`,
			`virtual_servers[1].group: unknown virtual_server_group "api"`}},
		{"bad group member", func(c *configs.Config) {
			c.VirtualServerGroups[0].Members = append(c.VirtualServerGroups[0].Members, "192.0.2.1", "fwmark x")
		}, []string{`virtual_server_groups[0].members[3]: "192.0.2.1" is not IP:PORT, IP-N:PORT or fwmark N`,
			`virtual_server_groups[0].members[4]: "fwmark x": fwmark must be 1..4294967295`}},
		{"real server wrong family", func(c *configs.Config) {
			c.VirtualServers[0].RealServers[0].Address = ap("[2001:db8::11]:80")
		}, []string{"virtual_servers[0].real_servers[0].address: [2001:db8::11]:80 is IPv6 but the virtual server is IPv4 (only TUN forwards across families)"}},
		{"real server other family with TUN is fine", func(c *configs.Config) {
			c.VirtualServers[0].RealServers[0].Address = ap("[2001:db8::11]:80")
			c.VirtualServers[0].RealServers[0].Forwarding = "TUN"
		}, nil},
		{"vip dev and dual stack", func(c *configs.Config) {
			in := &c.Instances[0]
			in.VIPs = append(in.VIPs, configs.MustVIP("192.0.2.102 dev lo"), configs.MustVIP("192.0.2.103 dev nope0"))
			in.ExcludedVIPs = []configs.VIP{configs.MustVIP("2001:db8::100/64"), configs.MustVIP("192.0.2.100/32")}
		}, []string{"instances[0].vips[3]: interface nope0 does not exist",
			"instances[0].excluded_vips[1]: 192.0.2.100 is listed twice (vips and excluded_vips count together)"}},
		{"no vips", func(c *configs.Config) {
			c.Instances[1].VIPs, c.Instances[1].VRID = nil, 52
		}, []string{"instances[1].vips: an instance needs at least one VIP (in vips or excluded_vips)"}},
		{"excluded only", func(c *configs.Config) {
			c.Instances[1].VIPs, c.Instances[1].VRID = nil, 52
			c.Instances[1].ExcludedVIPs = []configs.VIP{configs.MustVIP("192.0.2.50"), configs.MustVIP("2001:db8::50")}
		}, nil},
		{"routes and rules", func(c *configs.Config) {
			in := &c.Instances[0]
			in.Routes = []configs.Route{
				{To: prefix("198.51.100.0/24"), Via: addr("192.0.2.254"), Table: 100, Type: configs.RouteUnicast},
				{Type: configs.RouteUnicast},
				{To: prefix("2001:db8:1::/48"), Via: addr("192.0.2.254"), Src: addr("192.0.2.1"), Type: configs.RouteUnicast, Scope: "universe"},
				{To: prefix("203.0.113.0/24"), Via: addr("192.0.2.254"), Type: configs.RouteBlackhole},
				{To: prefix("203.0.113.0/24"), Type: "nat"},
			}
			in.Rules = []configs.Rule{
				{From: prefix("192.0.2.100/32"), Table: 100},
				{From: prefix("192.0.2.100/32"), To: prefix("2001:db8::/32"), Table: 0, FWMask: 255},
			}
		}, []string{"instances[0].routes[1].to: is required (a prefix, e.g. 198.51.100.0/24 or 0.0.0.0/0)",
			"instances[0].routes[2].via: 192.0.2.254 is not IPv6 like 2001:db8:1::/48",
			"instances[0].routes[2].src: 192.0.2.1 is not IPv6 like 2001:db8:1::/48",
			`instances[0].routes[2].scope: "universe" is not one of global, site, link, host, nowhere`,
			"instances[0].routes[3].type: a blackhole route takes no via or dev",
			`instances[0].routes[4].type: "nat" is not one of unicast, blackhole, unreachable, prohibit`,
			"instances[0].rules[1]: from 192.0.2.100/32 and to 2001:db8::/32 are of different families",
			"instances[0].rules[1].table: 0 is out of range 1..4294967295",
			"instances[0].rules[1].fwmask: needs fwmark"}},
		{"alerts without destination", func(c *configs.Config) {
			on := true
			c.Instances[0].SMTPAlert = &on
		}, []string{"instances[0].smtp_alert: alerts are on but neither global.smtp.server nor global.webhook.url is set"}},
		{"alert destinations", func(c *configs.Config) {
			c.Global.SMTPAlert = true
			c.Global.SMTP.Server = "smtp.example.com"
			c.Global.SMTP.To = []string{"not an address"}
			c.Global.Webhook.URL = "ftp://x"
		}, []string{`global.smtp.to[0]: "not an address" is not an e-mail address`,
			`global.webhook.url: "ftp://x" is not an http:// or https:// URL`}},
		{"sync id", func(c *configs.Config) {
			c.Global.LVSSyncDaemon = configs.LVSSyncDaemon{Interface: "eth1", Instance: "VI_1", SyncID: new(256)}
		}, []string{"global.lvs_sync_daemon.sync_id: 256 is out of range 0..255"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := configstest.ValidConfig()
			tt.mutate(c)
			err := c.Validate(configstest.Default())
			got := configstest.Problems(t, err)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateHostSystem(t *testing.T) {
	c := configstest.ValidConfig()
	c.Instances = c.Instances[:1]
	c.SyncGroups = nil
	c.Instances[0].Interface = "lo"
	c.Instances[0].UnicastSrcIP = addr("127.0.0.1")
	c.Instances[0].UnicastPeers = []netip.Addr{addr("127.0.0.2")}
	c.Instances[0].TrackInterfaces = nil
	if err := c.Validate(configs.HostSystem{}); err != nil {
		t.Errorf("Validate on the host's lo: %v", err)
	}
	c.Instances[0].Interface = "vipd-no-such-if0"
	err := c.Validate(configs.HostSystem{})
	if err == nil || !strings.Contains(err.Error(), "interface vipd-no-such-if0 does not exist") {
		t.Errorf("Validate with a missing interface = %v", err)
	}
}

func TestParseGroupMember(t *testing.T) {
	tests := []struct {
		in          string
		first, last string
		fwmark      uint32
		wantErr     bool
	}{
		{in: "192.0.2.1:80", first: "192.0.2.1:80", last: "192.0.2.1:80"},
		{in: "192.0.2.10-20:443", first: "192.0.2.10:443", last: "192.0.2.20:443"},
		{in: "[2001:db8::1]:80", first: "[2001:db8::1]:80", last: "[2001:db8::1]:80"},
		{in: "[2001:db8::a-1f]:80", first: "[2001:db8::a]:80", last: "[2001:db8::1f]:80"},
		{in: "fwmark 7", fwmark: 7},
		{in: "192.0.2.20-10:80", wantErr: true},
		{in: "192.0.2.10-300:80", wantErr: true},
		{in: "fwmark 0", wantErr: true},
		{in: "example.com:80", wantErr: true},
	}
	for _, tt := range tests {
		first, last, fw, err := configs.ParseGroupMember(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseGroupMember(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		var wf, wl netip.AddrPort
		if tt.first != "" {
			wf, wl = ap(tt.first), ap(tt.last)
		}
		if first != wf || last != wl || fw != tt.fwmark {
			t.Errorf("ParseGroupMember(%q) = %s, %s, %d; want %s, %s, %d", tt.in, first, last, fw, wf, wl, tt.fwmark)
		}
	}
}

func TestInstanceFamily(t *testing.T) {
	tests := []struct {
		name string
		in   configs.Instance
		want int
	}{
		{"vips v4", configs.Instance{VIPs: []configs.VIP{vip("192.0.2.1/32")}}, 4},
		{"vips v6", configs.Instance{VIPs: []configs.VIP{vip("2001:db8::1/128")}}, 6},
		{"src v6", configs.Instance{UnicastSrcIP: addr("2001:db8::1")}, 6},
		{"peer v6", configs.Instance{UnicastPeers: []netip.Addr{addr("2001:db8::2")}}, 6},
		{"nothing", configs.Instance{}, 4},
	}
	for _, tt := range tests {
		if got := tt.in.Family(); got != tt.want {
			t.Errorf("%s: Family() = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestLVSSyncID(t *testing.T) {
	c := configstest.ValidConfig()
	c.Global.LVSSyncDaemon = configs.LVSSyncDaemon{Interface: "eth1", Instance: "VI_1"}
	if got := c.LVSSyncID(); got != 51 {
		t.Errorf("no id, instance VI_1: LVSSyncID() = %d, want the VRID 51", got)
	}
	c.Global.LVSSyncDaemon.SyncID = new(0)
	if got := c.LVSSyncID(); got != 0 {
		t.Errorf("id 0: LVSSyncID() = %d, want 0", got)
	}
	c.Global.LVSSyncDaemon = configs.LVSSyncDaemon{Interface: "eth1"}
	if got := c.LVSSyncID(); got != 0 {
		t.Errorf("no id, no instance: LVSSyncID() = %d, want 0", got)
	}
}
