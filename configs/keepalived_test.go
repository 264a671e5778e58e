package configs_test

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/configs"
	"github.com/vipd/vipd/configs/configstest"
)

func parseFile(t *testing.T, path string) (*configs.Config, []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, warnings, err := configs.ParseKeepalived(f)
	if err != nil {
		t.Fatalf("ParseKeepalived(%s): %v", path, err)
	}
	return cfg, warnings
}

func TestParseKeepalivedPair(t *testing.T) {
	got, warnings := parseFile(t, "testdata/keepalived-pair.conf")

	want := configs.DefaultConfig()
	want.Global.Node = "lb1"
	want.Global.ScriptUser = "keepalived_script"
	want.Global.EnableScriptSecurity = true
	nginx, haproxy := configs.DefaultScript(), configs.DefaultScript()
	nginx.Name, nginx.Command, nginx.Interval, nginx.Timeout = "chk_nginx", "/usr/bin/pgrep -x nginx", 2*time.Second, 3*time.Second
	nginx.Weight, nginx.Fall, nginx.Rise = -20, 2, 2
	haproxy.Name, haproxy.Command, haproxy.Interval = "chk_haproxy", "/usr/local/bin/check_haproxy.sh", 1500*time.Millisecond
	want.Scripts = []configs.Script{nginx, haproxy}

	garp := configs.DefaultInstance().GARP
	garp.Count, garp.MasterDelay = 3, 10*time.Second // from global_defs

	v1 := configs.DefaultInstance()
	v1.Name, v1.Interface, v1.VRID, v1.Priority, v1.State = "VI_1", "eth0", 51, 150, "MASTER"
	v1.Version = 2 // keepalived's default
	v1.Preempt, v1.PreemptDelay = false, 5*time.Second
	v1.UnicastSrcIP = addr("192.0.2.1")
	v1.UnicastPeers = []netip.Addr{addr("192.0.2.2")}
	v1.AuthPass = "s3cr3t"
	v1.VIPs = []configs.VIP{vip("192.0.2.100/24"), vip("192.0.2.101/32")}
	v1.TrackInterfaces = []configs.TrackInterface{{Name: "eth1", Weight: -10}}
	v1.TrackScripts = []configs.TrackScript{{Name: "chk_nginx"}, {Name: "chk_haproxy", Weight: 5}}
	v1.Notify, v1.NotifyMaster = "/etc/keepalived/notify.sh", "/etc/keepalived/master.sh VI_1"
	v1.GARP = garp
	v1.GARP.MasterRefresh = time.Minute

	v6 := configs.DefaultInstance()
	v6.Name, v6.Interface, v6.VRID, v6.Priority = "VI_6", "eth0", 52, 100
	v6.Version = 3 // IPv6
	v6.AdvertInterval = 500 * time.Millisecond
	v6.UnicastSrcIP = addr("2001:db8::1")
	v6.UnicastPeers = []netip.Addr{addr("2001:db8::2")}
	v6.VIPs = []configs.VIP{vip("2001:db8::100/64")}
	v6.TrackScripts = []configs.TrackScript{{Name: "chk_nginx"}}
	v6.GARP = garp
	want.Instances = []configs.Instance{v1, v6}
	want.SyncGroups = []configs.SyncGroup{{Name: "VG_1", Instances: []string{"VI_1", "VI_6"}, NotifyMaster: "/etc/keepalived/group.sh master"}}

	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("ParseKeepalived (-want +got):\n%s", diff)
	}
	wantWarnings := []string{
		"line 5: notification_email: e-mail alerts are not supported; use notify scripts",
		"line 8: notification_email_from: e-mail alerts are not supported; use notify scripts",
		"line 9: smtp_server: e-mail alerts are not supported; use notify scripts",
		"line 10: smtp_connect_timeout: e-mail alerts are not supported; use notify scripts",
		"line 16: vrrp_skip_check_adv_addr: not converted (vipd always checks the advertisement's source and addresses, and does not manage iptables)",
		"line 50: virtual_ipaddress 192.0.2.100/24: label eth0:vip not converted",
	}
	if diff := cmp.Diff(wantWarnings, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestParseKeepalivedLVS(t *testing.T) {
	got, warnings := parseFile(t, "testdata/keepalived-lvs.conf")
	if got.Global.Node != "LVS_DEVEL" {
		t.Errorf("node = %q", got.Global.Node)
	}
	if diff := cmp.Diff(configs.LVSSyncDaemon{Interface: "eth1", Instance: "VI_LVS", SyncID: new(7)}, got.Global.LVSSyncDaemon); diff != "" {
		t.Errorf("lvs_sync_daemon (-want +got):\n%s", diff)
	}
	if v := got.Instances[0].Version; v != 3 {
		t.Errorf("vrrp_version 3 gave version %d", v)
	}
	if diff := cmp.Diff([]configs.VirtualServerGroup{{Name: "web_group", Members: []string{"198.51.100.100:80", "198.51.100.110-115:80", "fwmark 3"}}}, got.VirtualServerGroups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if len(got.VirtualServers) != 4 {
		t.Fatalf("%d virtual servers, want 4", len(got.VirtualServers))
	}

	// The HTTPS service in full.
	ssl1 := configs.DefaultCheck()
	ssl1.Type, ssl1.ConnectTimeout, ssl1.Retry, ssl1.DelayBeforeRetry = "https", 3*time.Second, 3, 2*time.Second
	ssl2 := ssl1
	ssl1.Path, ssl1.Digest, ssl1.StatusCodes = "/healthz", "9b3a0c85a887a256d6939da88aabd8cd", []int{200}
	ssl2.Path, ssl2.StatusCodes = "/ready", []int{200, 201, 202, 203, 204}
	tcp := configs.DefaultCheck()
	tcp.Type, tcp.ConnectPort, tcp.ConnectTimeout, tcp.Retry = "tcp", 443, 2*time.Second, 2
	yes := true
	vs := configs.DefaultVirtualServer()
	vs.Address = ap("198.51.100.100:443")
	vs.DelayLoop, vs.Scheduler, vs.Forwarding = 6*time.Second, "wrr", "DR"
	vs.PersistenceTimeout, vs.PersistenceGranularity = 50*time.Second, "255.255.255.0"
	vs.Quorum, vs.Hysteresis = 2, 1
	vs.QuorumUp, vs.QuorumDown = "/usr/local/bin/quorum.sh up", "/usr/local/bin/quorum.sh down"
	vs.SorryServer = ap("198.51.100.200:443")
	vs.RealServers = []configs.RealServer{
		{Address: ap("198.51.100.11:443"), Weight: 3, InhibitOnFailure: &yes, Checks: []configs.Check{ssl1, ssl2}},
		{Address: ap("198.51.100.12:443"), Weight: 1, UpperThreshold: 1000, LowerThreshold: 800, Checks: []configs.Check{tcp}},
	}
	if diff := cmp.Diff(vs, got.VirtualServers[0], cmpOpts); diff != "" {
		t.Errorf("virtual_servers[0] (-want +got):\n%s", diff)
	}

	dns := got.VirtualServers[1].RealServers[0].Checks[0]
	misc := got.VirtualServers[1].RealServers[1].Checks[0]
	if got.VirtualServers[1].Protocol != "UDP" || dns.Type != "dns" || dns.QueryName != "example.com" || dns.QueryType != "A" {
		t.Errorf("DNS service: %+v / %+v", got.VirtualServers[1], dns)
	}
	if misc.Type != "misc" || misc.Command != "/usr/local/bin/check_dns.sh 198.51.100.22" || !misc.Dynamic || misc.ConnectTimeout != 5*time.Second {
		t.Errorf("MISC_CHECK: %+v", misc)
	}
	fw := got.VirtualServers[2]
	if fw.FWMark != 1 || fw.PersistenceTimeout != 360*time.Second || fw.Scheduler != "sh" ||
		!cmp.Equal(fw.SchedulerFlags, []string{"sh-port"}) || fw.RealServers[0].Checks[0].VirtualHost != "www.example.com" {
		t.Errorf("fwmark service: %+v", fw)
	}
	if g := got.VirtualServers[3]; g.Group != "web_group" || g.Forwarding != "TUN" || g.Scheduler != "mh" {
		t.Errorf("group service: %+v", g)
	}
	wantWarnings := []string{
		"line 102: SMTP_CHECK: not converted (not supported by vipd)",
		"line 118: include /etc/keepalived/conf.d/*.conf: not followed; migrate that file separately and merge",
	}
	if diff := cmp.Diff(wantWarnings, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// TestMigrateRoundTrip: the YAML written for a migrated keepalived.conf loads
// back to the same Config and validates.
func TestMigrateRoundTrip(t *testing.T) {
	for _, f := range []string{"testdata/keepalived-pair.conf", "testdata/keepalived-lvs.conf"} {
		t.Run(f, func(t *testing.T) {
			cfg, _ := parseFile(t, f)
			b, err := configs.MarshalYAML(cfg)
			if err != nil {
				t.Fatal(err)
			}
			back, err := configs.LoadBytes(b, nil)
			if err != nil {
				t.Fatalf("LoadBytes of migrated YAML: %v\n%s", err, b)
			}
			if diff := cmp.Diff(cfg, back, cmpOpts); diff != "" {
				t.Errorf("round trip (-migrated +loaded):\n%s", diff)
			}
			if err := back.Validate(configstest.Default()); err != nil {
				t.Errorf("migrated config does not validate:\n%v\n%s", err, b)
			}
		})
	}
}

func TestMigrateWithoutRouterID(t *testing.T) {
	cfg, _, err := configs.ParseKeepalived(strings.NewReader("vrrp_instance X {\n interface eth0\n virtual_router_id 3\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Global.Node != "" {
		t.Errorf("node = %q, want empty without router_id", cfg.Global.Node)
	}
	b, err := configs.MarshalYAML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "node:") || strings.Contains(string(b), "global:") {
		t.Errorf("empty node written:\n%s", b)
	}
	back, err := configs.LoadBytes(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := configs.DefaultGlobal().Node; back.Global.Node != want {
		t.Errorf("loaded node = %q, want the host name %q", back.Global.Node, want)
	}
}

func TestMarshalYAMLOmitsDefaults(t *testing.T) {
	c := validConfig()
	b, err := configs.MarshalYAML(c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, absent := range []string{"priority:", "advert_interval:", "preempt:", "garp:", "call_timeout:", "log_level:"} {
		if strings.Contains(s, absent) {
			t.Errorf("default key %q written:\n%s", absent, s)
		}
	}
	c.Instances[0].Preempt = false
	c.Instances[0].GARP.Count = 0
	b, err = configs.MarshalYAML(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, present := range []string{"preempt: false", "count: 0", "node: n1"} {
		if !strings.Contains(string(b), present) {
			t.Errorf("%q not written:\n%s", present, b)
		}
	}
	back, err := configs.LoadBytes(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, back, cmpOpts); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestParseKeepalivedSyntax(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		check   func(t *testing.T, c *configs.Config, w []string)
		wantErr string
	}{
		{
			name: "one-line blocks, comments and quotes",
			in: `vrrp_instance X { # comment
  interface eth0 ! other comment
  virtual_router_id 9
  unicast_peer { 192.0.2.2 192.0.2.3 }
  notify_master "/bin/echo a # b"
  virtual_ipaddress { 192.0.2.50/24 }
}`,
			check: func(t *testing.T, c *configs.Config, w []string) {
				in := c.Instances[0]
				// "192.0.2.2 192.0.2.3" on one line: keyword + argument.
				if in.Name != "X" || in.VRID != 9 || in.NotifyMaster != "/bin/echo a # b" || len(in.VIPs) != 1 {
					t.Errorf("instance = %+v", in)
				}
				if len(w) != 1 || !strings.Contains(w[0], "unicast_peer 192.0.2.2: 192.0.2.3 not converted") {
					t.Errorf("warnings = %q", w)
				}
			},
		},
		{
			name: "unknown keywords warn",
			in:   "vrrp_instance X {\n use_vmac\n}\nvirtual_server_x {\n}\n",
			check: func(t *testing.T, c *configs.Config, w []string) {
				want := []string{"line 2: use_vmac: not converted (not supported by vipd)", "line 4: virtual_server_x: not converted (not supported by vipd)"}
				if diff := cmp.Diff(want, w); diff != "" {
					t.Errorf("warnings (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "v2 fractional advert becomes v3, auth dropped",
			in:   "vrrp_instance X {\n advert_int 0.5\n authentication {\n auth_type PASS\n auth_pass x\n }\n}\n",
			check: func(t *testing.T, c *configs.Config, w []string) {
				in := c.Instances[0]
				if in.Version != 3 || in.AuthPass != "" || in.AdvertInterval != 500*time.Millisecond {
					t.Errorf("instance = %+v", in)
				}
				if len(w) != 1 || !strings.Contains(w[0], "authentication dropped") {
					t.Errorf("warnings = %q", w)
				}
			},
		},
		{
			name: "checker defaults from virtual_server and real_server",
			in: `virtual_server 192.0.2.100 80 {
  real_server 192.0.2.11 80 {
    retry 4
    delay_loop 3
    TCP_CHECK {
      connect_port 8080
    }
    HTTP_GET {
      url { path /a }
      connect_timeout 7
    }
  }
  real_server 192.0.2.12 80 {
    MISC_CHECK { misc_path /bin/true }
  }
  connect_timeout 2
  delay_before_retry 0.5
  virtualhost example.org
}`,
			check: func(t *testing.T, c *configs.Config, w []string) {
				if len(w) != 0 {
					t.Errorf("warnings = %q", w)
				}
				rs := c.VirtualServers[0].RealServers
				tcp, http, misc := rs[0].Checks[0], rs[0].Checks[1], rs[1].Checks[0]
				if tcp.ConnectTimeout != 2*time.Second || tcp.Retry != 4 || tcp.DelayBeforeRetry != 500*time.Millisecond ||
					tcp.DelayLoop != 3*time.Second || tcp.ConnectPort != 8080 || tcp.VirtualHost != "" {
					t.Errorf("tcp check = %+v", tcp)
				}
				if http.ConnectTimeout != 7*time.Second || http.Retry != 4 || http.VirtualHost != "example.org" || http.Path != "/a" {
					t.Errorf("http check = %+v", http)
				}
				if misc.Retry != 1 || misc.ConnectTimeout != 2*time.Second || misc.DelayLoop != 0 || misc.Command != "/bin/true" {
					t.Errorf("misc check = %+v", misc)
				}
			},
		},
		{
			name: "vip on another device is not converted; mcast_src_ip",
			in:   "vrrp_instance X {\n interface eth0\n mcast_src_ip 192.0.2.1\n virtual_ipaddress {\n 192.0.2.5/24 dev eth0\n 198.51.100.5/24 dev eth1\n }\n}\n",
			check: func(t *testing.T, c *configs.Config, w []string) {
				in := c.Instances[0]
				if diff := cmp.Diff([]configs.VIP{vip("192.0.2.5/24")}, in.VIPs, cmpOpts); diff != "" {
					t.Errorf("vips (-want +got):\n%s", diff)
				}
				if in.UnicastSrcIP != addr("192.0.2.1") {
					t.Errorf("unicast_src_ip = %s", in.UnicastSrcIP)
				}
				if len(w) != 1 || !strings.HasPrefix(w[0], "line 6: virtual_ipaddress 198.51.100.5/24 dev eth1: not converted") {
					t.Errorf("warnings = %q", w)
				}
			},
		},
		{name: "missing brace", in: "vrrp_instance X {\n interface eth0\n", wantErr: "missing }"},
		{name: "extra brace", in: "}\n", wantErr: "unexpected }"},
		{name: "unterminated quote", in: "vrrp_script s {\n script \"/bin/true\n}\n", wantErr: "unterminated quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, w, err := configs.ParseKeepalived(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c, w)
		})
	}
}
