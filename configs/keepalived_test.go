package configs_test

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/configs"
	"github.com/vipd/vipd/configs/configstest"
)

func TestMigrateWithoutRouterID(t *testing.T) {
	cfg, _, err := configs.ParseKeepalived(strings.NewReader("vrrp_instance X {\n interface eth0\n virtual_router_id 3\n virtual_ipaddress { 192.0.2.9 }\n}\n"))
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
	c := configstest.ValidConfig()
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

// migrate converts in (a keepalived.conf) with opts; files are written to a
// temporary directory first (name → content), the main file is "main.conf".
func migrate(t *testing.T, in string, files map[string]string, opts configs.KeepalivedOptions) (*configs.Config, []string, error) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	main := filepath.Join(dir, "main.conf")
	if err := os.WriteFile(main, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	return configs.ParseKeepalivedFile(main, opts)
}

// inst wraps instance keywords in a minimal instance (VRID 1 on eth0, one
// VIP) so that each case shows only what it tests.
func inst(body string) string {
	return "vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 192.0.2.10/24\n }\n" + body + "\n}\n"
}

// TestKeepalivedParserRules covers keepalived's lib/parser.c rules.
func TestKeepalivedParserRules(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		files   map[string]string
		id      string
		check   func(t *testing.T, c *configs.Config)
		wantErr string
	}{
		{
			name: "comments end a line anywhere, also glued to a word",
			in: `global_defs { router_id lb1# comment
}
vrrp_script chk { script "/bin/true # not a comment"
 weight 5# comment
 interval 3!x }
}
` + inst(" authentication {\n auth_type PASS\n auth_pass k@l!ve1\n }"),
			check: func(t *testing.T, c *configs.Config) {
				if c.Global.Node != "lb1" || c.Scripts[0].Weight != 5 || c.Scripts[0].Interval != 3*time.Second {
					t.Errorf("node %q script %+v", c.Global.Node, c.Scripts[0])
				}
				if c.Scripts[0].Command != "/bin/true '#' not a comment" {
					t.Errorf("quoted # lost: %q", c.Scripts[0].Command)
				}
				if c.Instances[0].AuthPass != "k@l" {
					t.Errorf("auth_pass = %q, want k@l (keepalived cuts at !)", c.Instances[0].AuthPass)
				}
			},
		},
		{
			name: "escaped comment characters and quotes splitting words",
			in:   "global_defs {\n router_id a\\#b\n}\n" + inst(` notify_master "/bin/echo"x`),
			check: func(t *testing.T, c *configs.Config) {
				if c.Global.Node != "a#b" {
					t.Errorf("node = %q", c.Global.Node)
				}
			},
			wantErr: "", // the notify line is checked in the fidelity test
		},
		{
			name:  "include with a glob, relative to the including file",
			in:    "include conf.d/*.conf\n",
			files: map[string]string{"conf.d/a.conf": inst(""), "conf.d/b.conf": "include ../more/c.inc\n", "more/c.inc": "global_defs {\n router_id fromc\n}\n"},
			check: func(t *testing.T, c *configs.Config) {
				if len(c.Instances) != 1 || c.Global.Node != "fromc" {
					t.Errorf("instances %d node %q", len(c.Instances), c.Global.Node)
				}
			},
		},
		{
			name:  "include with braces",
			in:    "include {x,y}.conf\n",
			files: map[string]string{"x.conf": inst(""), "y.conf": "global_defs {\n router_id y\n}\n"},
			check: func(t *testing.T, c *configs.Config) {
				if len(c.Instances) != 1 || c.Global.Node != "y" {
					t.Errorf("instances %d node %q", len(c.Instances), c.Global.Node)
				}
			},
		},
		{
			name: "definitions and substitution",
			in: `$IF=eth0
$PRIO = 150
$VIPS=192.0.2.10/24 \
   192.0.2.11/24
vrrp_instance VI {
 interface $IF
 priority ${PRIO}
 virtual_router_id 1${PRIO}x
 virtual_ipaddress {
  $VIPS
 }
}
`,
			wantErr: `line 8: virtual_router_id: "1150x" is not a number`, // ${PRIO} inside a word
		},
		{
			name: "definitions: multi-line value gives several lines",
			in: `$IF=eth0
$VIPS=192.0.2.10/24 \
   192.0.2.11/24
vrrp_instance VI {
 interface $IF
 virtual_router_id 7
 virtual_ipaddress {
  $VIPS
 }
 notify_master "/bin/echo ${_HASH}"
}
`,
			check: func(t *testing.T, c *configs.Config) {
				in := c.Instances[0]
				if in.Interface != "eth0" || len(in.VIPs) != 2 || in.VIPs[1].Prefix != prefix("192.0.2.11/24") {
					t.Errorf("instance = %+v", in)
				}
				if in.NotifyMaster != "/bin/echo '#'" {
					t.Errorf("notify_master = %q", in.NotifyMaster)
				}
			},
		},
		{
			name: "@config-id lines",
			id:   "lb2",
			in:   "global_defs {\n@lb1 router_id one\n@lb2 router_id two\n@^lb1 vrrp_version 3\n@^lb2 vrrp_version 2\n}\n" + inst(""),
			check: func(t *testing.T, c *configs.Config) {
				if c.Global.Node != "two" || c.Instances[0].Version != 3 {
					t.Errorf("node %q version %d", c.Global.Node, c.Instances[0].Version)
				}
			},
		},
		{name: "@ lines need a config id", in: "@lb1 global_defs {\n}\n", wantErr: "give the config id"},
		{name: "a continuation outside a definition", in: "global_defs {\n router_id \\\n x\n}\n", wantErr: "continues only a $NAME= definition"},
		{name: "~SEQ", in: "~SEQ(i, 1, 3) x\n", wantErr: "~SEQ: not supported"},
		{name: "${_RANDOM} depends on the host", in: "global_defs {\n router_id ${_RANDOM}\n}\n", wantErr: "${_RANDOM} depends on the host"},
		{name: "${_ENV NAME} depends on the host", in: "global_defs {\n router_id ${_ENV HOSTNAME}\n}\n", wantErr: "${_ENV} depends on the host"},
		{name: "self-referencing definition", in: "$A=x $A\nglobal_defs {\n router_id $A\n}\n", wantErr: "more than 100 $ substitutions"},
		{name: "not UTF-8", in: "global_defs {\n router_id \xff\n}\n", wantErr: "line 2: not valid UTF-8"},
		{name: "unterminated quote", in: "vrrp_script s {\n script \"/bin/true\n}\n", wantErr: "unterminated quote"},
		{name: "missing brace", in: "vrrp_instance X {\n interface eth0\n", wantErr: "missing }"},
		{name: "extra brace", in: "}\n", wantErr: "unexpected }"},
		{name: "missing include is skipped with a warning", in: "include nothere/*.conf\n" + inst(""), check: func(t *testing.T, c *configs.Config) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, w, err := migrate(t, tt.in, tt.files, configs.KeepalivedOptions{ConfigID: tt.id})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				if tt.check == nil {
					return
				}
				t.Fatalf("%v (warnings %q)", err, w)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// TestMigrateFidelity: every class of issue 13 either converts to the same
// behaviour or is refused naming the line.
func TestMigrateFidelity(t *testing.T) {
	missing := func(argv []string, user string, security bool) error {
		if strings.HasPrefix(argv[0], "/missing/") {
			return errors.New("script " + argv[0] + " not found")
		}
		return nil
	}
	tests := []struct {
		name     string
		in       string
		check    func(t *testing.T, c *configs.Config)
		wantErr  string // substring of the error
		wantWarn string // substring of one warning
	}{
		{
			name:     "auth_pass truncated to 8 like keepalived",
			in:       inst(" authentication {\n auth_type PASS\n auth_pass 0123456789\n }"),
			wantWarn: `line 9: auth_pass: keepalived uses the first 8 characters "01234567"`,
			check: func(t *testing.T, c *configs.Config) {
				if c.Instances[0].AuthPass != "01234567" || c.Instances[0].Version != 2 {
					t.Errorf("auth_pass %q version %d", c.Instances[0].AuthPass, c.Instances[0].Version)
				}
			},
		},
		{
			name: "bfd_instance and track_bfd",
			in: "bfd_instance gw {\n neighbor_ip 192.0.2.254\n source_ip 192.0.2.1\n min_rx 50\n min_tx 40\n multiplier 3\n weight -20\n}\n" +
				inst(" track_bfd {\n gw\n }"),
			check: func(t *testing.T, c *configs.Config) {
				want := configs.BFDInstance{Name: "gw", Neighbor: netip.MustParseAddr("192.0.2.254"), Source: netip.MustParseAddr("192.0.2.1"),
					MinRx: 50 * time.Millisecond, MinTx: 40 * time.Millisecond, Multiplier: 3, Weight: -20}
				if len(c.BFDInstances) != 1 || c.BFDInstances[0] != want {
					t.Errorf("bfd_instances %+v, want %+v", c.BFDInstances, want)
				}
				if tb := c.Instances[0].TrackBFD; len(tb) != 1 || tb[0].Name != "gw" || tb[0].Weight != 0 {
					t.Errorf("track_bfd %+v", tb)
				}
			},
		},
		{name: "bfd_instance multi-hop refused", in: "bfd_instance gw {\n neighbor_ip 192.0.2.254\n max_hops 4\n}\n" + inst(""), wantErr: "single-hop BFD only"},
		{name: "AH never becomes PASS", in: inst(" authentication {\n auth_type AH\n auth_pass secret\n }"), wantErr: "line 8: auth_type AH"},
		{
			name:     "state MASTER ignores nopreempt and preempt_delay",
			in:       inst(" state MASTER\n priority 150\n nopreempt\n preempt_delay 10"),
			wantWarn: "nopreempt does not work with state MASTER",
			check: func(t *testing.T, c *configs.Config) {
				in := c.Instances[0]
				if !in.Preempt || in.PreemptDelay != 0 || in.Priority != 150 {
					t.Errorf("preempt %v delay %s priority %d", in.Preempt, in.PreemptDelay, in.Priority)
				}
			},
		},
		{
			name: "state MASTER without priority is the owner",
			in:   inst(" state MASTER"),
			check: func(t *testing.T, c *configs.Config) {
				if c.Instances[0].Priority != 255 {
					t.Errorf("priority = %d, want 255", c.Instances[0].Priority)
				}
			},
		},
		{
			name: "nopreempt kept for BACKUP",
			in:   inst(" state BACKUP\n nopreempt"),
			check: func(t *testing.T, c *configs.Config) {
				if c.Instances[0].Preempt {
					t.Error("preempt = true")
				}
			},
		},
		{name: "vrrp_strict drops VIP traffic: refused", in: "global_defs {\n vrrp_strict\n}\n" + inst(" state BACKUP\n priority 100"), wantErr: "line 4: vrrp_instance VI: strict mode (vrrp_strict): keepalived drops traffic to the VIPs"},
		{
			name:     "vrrp_strict with accept and v3: same behaviour, auth ignored",
			in:       "global_defs {\n vrrp_strict\n vrrp_version 3\n}\n" + inst(" state MASTER\n priority 100\n accept\n authentication {\n auth_type PASS\n auth_pass x\n }"),
			wantWarn: "strict mode: state must match being the address owner; keepalived uses BACKUP",
			check: func(t *testing.T, c *configs.Config) {
				in := c.Instances[0]
				if in.State != "BACKUP" || in.AuthPass != "" || !in.Accept || in.Version != 3 {
					t.Errorf("instance = %+v", in)
				}
			},
		},
		{name: "vrrp_strict refuses unicast", in: "global_defs {\n vrrp_strict\n}\n" + inst(" priority 255\n unicast_peer {\n 192.0.2.2\n }"), wantErr: "keepalived refuses unicast peers in strict mode"},
		{name: "no_accept refused", in: inst(" no_accept"), wantErr: "no_accept: keepalived drops traffic"},
		{
			name:     "fractional advert_int with v2 rounds, stays v2",
			in:       inst(" advert_int 0.4\n") + strings.Replace(inst(" advert_int 1.5\n virtual_router_id 2"), "VI", "VJ", 1),
			wantWarn: "advert_int 400ms: keepalived uses 1s with VRRP version 2",
			check: func(t *testing.T, c *configs.Config) {
				a, b := c.Instances[0], c.Instances[1]
				if a.Version != 2 || a.AdvertInterval != time.Second || b.Version != 2 || b.AdvertInterval != 2*time.Second {
					t.Errorf("a %d %s, b %d %s", a.Version, a.AdvertInterval, b.Version, b.AdvertInterval)
				}
			},
		},
		{
			name: "fractional advert_int with v3 rounds to centiseconds",
			in:   inst(" version 3\n advert_int 0.123"),
			check: func(t *testing.T, c *configs.Config) {
				if a := c.Instances[0]; a.Version != 3 || a.AdvertInterval != 120*time.Millisecond {
					t.Errorf("version %d advert %s", a.Version, a.AdvertInterval)
				}
			},
		},
		{
			name: "VIPs with dev kept, other family ignored, dual stack through excluded",
			in: `vrrp_instance VI {
 interface eth0
 virtual_router_id 1
 virtual_ipaddress {
  192.0.2.10/24 dev eth0
  192.0.2.11/32 dev lo
  2001:db8::10/64
 }
 virtual_ipaddress_excluded {
  2001:db8::11/64 dev eth1
  fe80::1/64 dev eth1 scope link
 }
}`,
			wantWarn: "line 7: 2001:db8::10/64: not of the instance's family; keepalived ignores it",
			check: func(t *testing.T, c *configs.Config) {
				in := c.Instances[0]
				want := []configs.VIP{vip("192.0.2.10/24"), {Prefix: prefix("192.0.2.11/32"), Dev: "lo"}}
				if diff := cmp.Diff(want, in.VIPs, cmpOpts); diff != "" {
					t.Errorf("vips (-want +got):\n%s", diff)
				}
				wantEx := []configs.VIP{{Prefix: prefix("2001:db8::11/64"), Dev: "eth1"}, {Prefix: prefix("fe80::1/64"), Dev: "eth1"}}
				if diff := cmp.Diff(wantEx, in.ExcludedVIPs, cmpOpts); diff != "" {
					t.Errorf("excluded_vips (-want +got):\n%s", diff)
				}
			},
		},
		{name: "VIP scope host refused", in: inst(" virtual_ipaddress_excluded {\n 192.0.2.20/32 dev lo scope host\n }"), wantErr: "line 8: 192.0.2.20/32: scope host"},
		{
			name: "fwmark real servers and sorry_server without port",
			in: `virtual_server fwmark 5 {
 sorry_server 192.0.2.99 8080
 real_server 192.0.2.21 {
  PING_CHECK {
  }
 }
}
virtual_server 192.0.2.100 443 {
 sorry_server 192.0.2.98
 real_server 192.0.2.22 443 {
  TCP_CHECK {
  }
 }
}`,
			wantWarn: "line 2: sorry_server: keepalived clears the port of a fwmark service's sorry server",
			check: func(t *testing.T, c *configs.Config) {
				fw, vs := c.VirtualServers[0], c.VirtualServers[1]
				if fw.SorryServer != ap("192.0.2.99:0") || len(fw.RealServers) != 1 || fw.RealServers[0].Address != ap("192.0.2.21:0") {
					t.Errorf("fwmark service = %+v", fw)
				}
				if fw.RealServers[0].Checks[0].Type != configs.CheckPing {
					t.Errorf("PING_CHECK = %+v", fw.RealServers[0].Checks)
				}
				if vs.SorryServer != ap("192.0.2.98:443") {
					t.Errorf("sorry_server = %s, want the service's port", vs.SorryServer)
				}
			},
		},
		{
			name: "SMTP_CHECK host blocks are checkers of their own",
			in: `virtual_server 192.0.2.100 25 {
 connect_timeout 7
 real_server 192.0.2.21 25 {
  SMTP_CHECK {
   retry 2
   host {
    connect_ip 192.0.2.31
   }
   host {
    connect_ip 192.0.2.32
    connect_port 2525
    connect_timeout 3
   }
  }
  SMTP_CHECK {
   connect_timeout 9
   host {
    connect_ip 192.0.2.33
   }
  }
 }
}`,
			wantWarn: "line 4: SMTP_CHECK: 2 host blocks become 2 smtp checks",
			check: func(t *testing.T, c *configs.Config) {
				ch := c.VirtualServers[0].RealServers[0].Checks
				type hp struct {
					ip      string
					port    int
					timeout time.Duration
					retry   int
				}
				var got []hp
				for _, x := range ch {
					ip := ""
					if x.ConnectIP.IsValid() {
						ip = x.ConnectIP.String()
					}
					got = append(got, hp{ip, x.ConnectPort, x.ConnectTimeout, x.Retry})
				}
				// The second checker has connect_timeout itself: it runs
				// against the real server too, and its host gets the
				// virtual server's timeout.
				want := []hp{{"192.0.2.31", 0, 7 * time.Second, 2}, {"192.0.2.32", 2525, 3 * time.Second, 2},
					{"", 0, 9 * time.Second, 1}, {"192.0.2.33", 0, 7 * time.Second, 1}}
				if diff := cmp.Diff(want, got, cmp.AllowUnexported(hp{})); diff != "" {
					t.Errorf("checks (-want +got):\n%s", diff)
				}
			},
		},
		{name: "TCP_CHECK without any port", in: "virtual_server fwmark 5 {\n real_server 192.0.2.21 {\n TCP_CHECK {\n }\n }\n}\n", wantErr: "line 3: TCP_CHECK without connect_port on a real server without port"},
		{
			name:     "lvs_sync_daemon without id and duplicate interface lines",
			in:       inst(" lvs_sync_daemon_interface eth1") + "vrrp_instance VJ {\n interface eth0\n virtual_router_id 9\n virtual_ipaddress {\n 192.0.2.12\n }\n lvs_sync_daemon_interface eth2\n}\n",
			wantWarn: "line 15: lvs_sync_daemon_interface: already given at line 7; ignored",
			check: func(t *testing.T, c *configs.Config) {
				sd := c.Global.LVSSyncDaemon
				if sd.Interface != "eth1" || sd.Instance != "VI" || sd.SyncID != nil || c.LVSSyncID() != 1 {
					t.Errorf("sync daemon = %+v, id %d", sd, c.LVSSyncID())
				}
			},
		},
		{
			name: "checker defaults written explicitly",
			in: `virtual_server 192.0.2.100 80 {
 delay_loop 10
 real_server 192.0.2.21 80 {
  MISC_CHECK {
   misc_path "/usr/bin/check x"
  }
  HTTP_GET {
   url {
    path /
   }
  }
  DNS_CHECK {
   name example.org
  }
  SMTP_CHECK {
  }
 }
}`,
			check: func(t *testing.T, c *configs.Config) {
				ch := c.VirtualServers[0].RealServers[0].Checks
				misc, http, dns, smtp := ch[0], ch[1], ch[2], ch[3]
				if misc.ConnectTimeout != 10*time.Second || misc.Retry != 0 || misc.Command != "/usr/bin/check x" {
					t.Errorf("misc = %+v", misc)
				}
				if http.DelayBeforeRetry != 3*time.Second || http.Retry != 1 {
					t.Errorf("http = %+v", http)
				}
				if dns.Retry != 3 || dns.DelayBeforeRetry != 10*time.Second || dns.QueryType != "SOA" {
					t.Errorf("dns = %+v", dns)
				}
				if smtp.Type != configs.CheckSMTP || smtp.HeloName != "smtpchecker.keepalived.org" {
					t.Errorf("smtp = %+v", smtp)
				}
			},
		},
		{
			name: "track weight 0 means FAULT: tracked through a weight-0 copy",
			in: `vrrp_script chk {
 script /bin/true
 weight -20
}
` + inst(" track_script {\n chk weight 0\n }"),
			wantWarn: "track_script chk weight 0: FAULT on failure in keepalived",
			check: func(t *testing.T, c *configs.Config) {
				if len(c.Scripts) != 2 || c.Scripts[1].Name != "chk_weight0" || c.Scripts[1].Weight != 0 || c.Scripts[1].Command != "/bin/true" {
					t.Errorf("scripts = %+v", c.Scripts)
				}
				if diff := cmp.Diff([]configs.TrackScript{{Name: "chk_weight0"}}, c.Instances[0].TrackScripts); diff != "" {
					t.Errorf("track_scripts (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "scripts: exec'd without a shell",
			in: `vrrp_script chk {
 script "pidof nginx || exit 1"
}
` + inst(" track_script {\n chk\n }"),
			wantWarn: "keepalived runs \"pidof nginx || exit 1\" without a shell",
			check: func(t *testing.T, c *configs.Config) {
				if c.Scripts[0].Command != "pidof nginx '||' exit 1" {
					t.Errorf("command = %q", c.Scripts[0].Command)
				}
			},
		},
		{name: "scripts: unquoted words are ignored by keepalived", in: "vrrp_script chk {\n script /usr/bin/pgrep -x nginx\n}\n", wantErr: `line 2: script: keepalived runs only "/usr/bin/pgrep" and ignores "-x nginx"`},
		{name: "notify: unquoted second word is the user", in: inst(" notify_master /etc/ka/master.sh VI_1"), wantErr: `keepalived runs "/etc/ka/master.sh" as user "VI_1"`},
		{
			name: "missing track script dropped from tracking",
			in: `vrrp_script gone {
 script /missing/check
}
vrrp_script ok {
 script /bin/true
}
` + inst(" track_script {\n gone\n ok\n }"),
			wantWarn: "vrrp_script gone: script /missing/check not found: keepalived would not track it",
			check: func(t *testing.T, c *configs.Config) {
				if len(c.Scripts) != 1 || len(c.Instances[0].TrackScripts) != 1 || c.Instances[0].TrackScripts[0].Name != "ok" {
					t.Errorf("scripts %+v tracks %+v", c.Scripts, c.Instances[0].TrackScripts)
				}
			},
		},
		{
			name: "virtual_routes and virtual_rules",
			in: inst(` virtual_routes {
  198.51.100.0/24 via 192.0.2.1 dev eth1 table 100 metric 5
  src 192.0.2.10 default via 192.0.2.254
  blackhole 203.0.113.0/24
  192.0.2.128/25 dev eth0
 }
 virtual_rules {
  from 192.0.2.10/32 table 100 priority 10
  fwmark 0x10/0xff lookup 100
 }`),
			check: func(t *testing.T, c *configs.Config) {
				in := c.Instances[0]
				want := []configs.Route{
					{To: prefix("198.51.100.0/24"), Via: addr("192.0.2.1"), Dev: "eth1", Table: 100, Metric: 5, Type: "unicast"},
					{To: prefix("0.0.0.0/0"), Via: addr("192.0.2.254"), Src: addr("192.0.2.10"), Type: "unicast"},
					{To: prefix("203.0.113.0/24"), Type: "blackhole"},
					{To: prefix("192.0.2.128/25"), Dev: "eth0", Scope: "global", Type: "unicast"},
				}
				if diff := cmp.Diff(want, in.Routes, cmpOpts); diff != "" {
					t.Errorf("routes (-want +got):\n%s", diff)
				}
				wantR := []configs.Rule{{From: prefix("192.0.2.10/32"), Table: 100, Priority: 10}, {FWMark: 16, FWMask: 255, Table: 100}}
				if diff := cmp.Diff(wantR, in.Rules, cmpOpts); diff != "" {
					t.Errorf("rules (-want +got):\n%s", diff)
				}
			},
		},
		{name: "route with an unsupported option", in: inst(" virtual_routes {\n 198.51.100.0/24 via 192.0.2.1 mtu 1400\n }"), wantErr: "virtual_routes: mtu: not supported"},
		{
			name: "e-mail alerts and notify_up/notify_down",
			in: `global_defs {
 notification_email {
  ops@example.com
  oncall@example.com
 }
 notification_email_from lb@example.com
 smtp_server 192.0.2.25 587
 smtp_connect_timeout 10
 smtp_alert
}
virtual_server 192.0.2.100 80 {
 smtp_alert off
 real_server 192.0.2.21 80 {
  notify_up "/etc/ka/rs.sh up"
  notify_down "/etc/ka/rs.sh down"
  TCP_CHECK {
  }
 }
}
` + inst(" smtp_alert"),
			check: func(t *testing.T, c *configs.Config) {
				g := c.Global
				want := configs.SMTP{Server: "192.0.2.25", Port: 587, From: "lb@example.com", To: []string{"ops@example.com", "oncall@example.com"}, Timeout: 10 * time.Second}
				if diff := cmp.Diff(want, g.SMTP); diff != "" || !g.SMTPAlert {
					t.Errorf("smtp (-want +got):\n%s alert %v", diff, g.SMTPAlert)
				}
				vs := c.VirtualServers[0]
				if vs.SMTPAlert == nil || *vs.SMTPAlert || vs.RealServers[0].NotifyUp != "/etc/ka/rs.sh up" || vs.RealServers[0].NotifyDown != "/etc/ka/rs.sh down" {
					t.Errorf("virtual server = %+v", vs)
				}
				if rs := vs.RealServers[0]; rs.SMTPAlert == nil || !*rs.SMTPAlert {
					t.Errorf("real server smtp_alert = %v, want true (keepalived: the global setting, not the virtual server's)", rs.SMTPAlert)
				}
				if in := c.Instances[0]; in.SMTPAlert == nil || !*in.SMTPAlert {
					t.Errorf("instance smtp_alert = %v", in.SMTPAlert)
				}
			},
		},
		{name: "use_vmac refused", in: inst(" use_vmac"), wantErr: "line 7: use_vmac: vipd does not create VRRP virtual MAC interfaces"},
		{
			name: "primary interface tracked unless dont_track_primary",
			in:   inst("") + strings.Replace(inst(" virtual_router_id 2\n dont_track_primary"), "VI", "VJ", 1),
			check: func(t *testing.T, c *configs.Config) {
				if diff := cmp.Diff([]configs.TrackInterface{{Name: "eth0"}}, c.Instances[0].TrackInterfaces); diff != "" {
					t.Errorf("track_interfaces (-want +got):\n%s", diff)
				}
				if c.Instances[1].TrackInterfaces != nil {
					t.Errorf("dont_track_primary: %+v", c.Instances[1].TrackInterfaces)
				}
			},
		},
		{name: "track_interface weight reverse refused", in: inst(" track_interface {\n eth1 weight -10 reverse\n }"), wantErr: "line 8: eth1: weight reverse"},
		{name: "garp_master_refresh_repeat warns", in: inst(" garp_master_refresh 10\n garp_master_refresh_repeat 2"), wantWarn: "garp_master_refresh_repeat: vipd re-announces with a burst of garp.count"},
		{name: "IPv6 with explicit version 2 refused", in: "vrrp_instance VI {\n interface eth0\n version 2\n virtual_router_id 1\n virtual_ipaddress {\n 2001:db8::1/64\n }\n}\n", wantErr: "version 2 with IPv6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, w, err := migrate(t, tt.in, nil, configs.KeepalivedOptions{ScriptCheck: missing})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\nwarnings: %q", err, w)
			}
			if tt.wantWarn != "" && !strings.Contains(strings.Join(w, "\n"), tt.wantWarn) {
				t.Errorf("warnings %q do not contain %q", w, tt.wantWarn)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
			b, err := configs.MarshalYAML(c)
			if err != nil {
				t.Fatal(err)
			}
			back, err := configs.LoadBytes(b, nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			if err := back.Validate(configstest.Default()); err != nil {
				t.Errorf("does not validate: %v\n%s", err, b)
			}
		})
	}
}
