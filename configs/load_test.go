package configs_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vipd/vipd/configs"
)

var (
	addr   = netip.MustParseAddr
	prefix = netip.MustParsePrefix
	vip    = func(s string) configs.VIP { return configs.VIP{Prefix: netip.MustParsePrefix(s)} }
	ap     = netip.MustParseAddrPort
)

// cmpOpts compares netip values by value.
var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b }),
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "vipd.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadDefaults(t *testing.T) {
	p := writeFile(t, `
global: {node: n1}
instances:
  - name: VI_1
    interface: eth0
    vrid: 51
    vips: [192.0.2.100/24, 192.0.2.101]
`)
	got, err := configs.Load(p, []string{})
	if err != nil {
		t.Fatal(err)
	}
	in := configs.DefaultInstance()
	in.Name, in.Interface, in.VRID = "VI_1", "eth0", 51
	in.VIPs = []configs.VIP{vip("192.0.2.100/24"), vip("192.0.2.101/32")}
	want := configs.DefaultConfig()
	want.Global.Node = "n1"
	want.Instances = []configs.Instance{in}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
	// vipd's documented defaults.
	if in.Version != 3 || in.Priority != 100 || in.AdvertInterval != time.Second || !in.Preempt ||
		in.GARP.Count != 5 || in.GARP.Interval != 200*time.Millisecond || in.Provider.Type != "netlink" {
		t.Errorf("DefaultInstance() = %+v", in)
	}
}

func TestLoadExplicitFalseAndZeroKept(t *testing.T) {
	cfg, err := configs.LoadBytes([]byte(`
instances:
  - name: a
    preempt: false
    garp: {count: 0}
    provider: {drift_check_interval: 0}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	in := cfg.Instances[0]
	if in.Preempt || in.GARP.Count != 0 || in.Provider.DriftCheckInterval != 0 {
		t.Errorf("explicit values lost: preempt=%v garp.count=%d drift=%s", in.Preempt, in.GARP.Count, in.Provider.DriftCheckInterval)
	}
	// Untouched siblings keep their defaults.
	if in.GARP.Interval != 200*time.Millisecond || in.Provider.CallTimeout != 5*time.Second {
		t.Errorf("defaults lost: garp.interval=%s call_timeout=%s", in.GARP.Interval, in.Provider.CallTimeout)
	}
}

func TestLoadEnv(t *testing.T) {
	file := `
global: {node: n1, log_level: info}
instances:
  - name: VI_1
    interface: eth0
    vrid: 51
    priority: 100
    unicast_peers: [192.0.2.9]
    vips: [192.0.2.100/24]
`
	tests := []struct {
		name  string
		env   []string
		check func(t *testing.T, c *configs.Config)
	}{
		{
			name: "scalar overrides file",
			env:  []string{"VIPD_GLOBAL_LOG_LEVEL=debug", "VIPD_INSTANCES_0_PRIORITY=120", "PATH=/bin", "VIPDX=1", "VIPD_IN_VM=1", "VIPD_VM_CACHE=/tmp"},
			check: func(t *testing.T, c *configs.Config) {
				if c.Global.LogLevel != "debug" || c.Instances[0].Priority != 120 {
					t.Errorf("log_level=%q priority=%d", c.Global.LogLevel, c.Instances[0].Priority)
				}
			},
		},
		{
			name: "comma list replaces file list",
			env:  []string{"VIPD_INSTANCES_0_UNICAST_PEERS=192.0.2.2, 192.0.2.3"},
			check: func(t *testing.T, c *configs.Config) {
				want := []netip.Addr{addr("192.0.2.2"), addr("192.0.2.3")}
				if diff := cmp.Diff(want, c.Instances[0].UnicastPeers, cmpOpts); diff != "" {
					t.Errorf("peers (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "nested struct keys with underscores",
			env: []string{"VIPD_INSTANCES_0_PROVIDER_TYPE=aws", "VIPD_INSTANCES_0_PROVIDER_MODE=eip",
				"VIPD_INSTANCES_0_PROVIDER_ALLOCATION_ID=eipalloc-1", "VIPD_INSTANCES_0_PROVIDER_BACKOFF_MAX=30",
				"VIPD_INSTANCES_0_PROVIDER_ROUTE_TABLE_IDS=rtb-1,rtb-2", "VIPD_GLOBAL_LVS_SYNC_DAEMON_SYNC_ID=4"},
			check: func(t *testing.T, c *configs.Config) {
				p := c.Instances[0].Provider
				if p.Type != "aws" || p.Mode != "eip" || p.AllocationID != "eipalloc-1" || p.Backoff.Max != 30*time.Second {
					t.Errorf("provider = %+v", p)
				}
				if diff := cmp.Diff([]string{"rtb-1", "rtb-2"}, p.RouteTableIDs); diff != "" {
					t.Errorf("route tables (-want +got):\n%s", diff)
				}
				if c.LVSSyncID() != 4 {
					t.Errorf("sync_id = %d", c.LVSSyncID())
				}
			},
		},
		{
			name: "index beyond file creates element with defaults",
			env: []string{"VIPD_INSTANCES_1_NAME=VI_6", "VIPD_INSTANCES_1_VIPS=2001:db8::100",
				"VIPD_INSTANCES_1_TRACK_SCRIPTS_0_NAME=chk", "VIPD_INSTANCES_1_PREEMPT=false"},
			check: func(t *testing.T, c *configs.Config) {
				if len(c.Instances) != 2 {
					t.Fatalf("%d instances, want 2", len(c.Instances))
				}
				in := c.Instances[1]
				if in.Name != "VI_6" || in.Priority != 100 || in.Preempt || in.Version != 3 ||
					len(in.VIPs) != 1 || in.VIPs[0] != vip("2001:db8::100/128") || in.TrackScripts[0].Name != "chk" {
					t.Errorf("instance 1 = %+v", in)
				}
				if c.Instances[0].Name != "VI_1" || c.Instances[0].Priority != 100 {
					t.Errorf("instance 0 changed: %+v", c.Instances[0])
				}
			},
		},
		{
			name: "track entries as bare names",
			env:  []string{"VIPD_INSTANCES_0_TRACK_SCRIPTS=chk_a, chk_b", "VIPD_INSTANCES_0_TRACK_INTERFACES=eth1"},
			check: func(t *testing.T, c *configs.Config) {
				in := c.Instances[0]
				if diff := cmp.Diff([]configs.TrackScript{{Name: "chk_a"}, {Name: "chk_b"}}, in.TrackScripts); diff != "" {
					t.Errorf("track_scripts (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]configs.TrackInterface{{Name: "eth1"}}, in.TrackInterfaces); diff != "" {
					t.Errorf("track_interfaces (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "one element of a scalar list",
			env:  []string{"VIPD_INSTANCES_0_VIPS_1=192.0.2.101"},
			check: func(t *testing.T, c *configs.Config) {
				want := []configs.VIP{vip("192.0.2.100/24"), vip("192.0.2.101/32")}
				if diff := cmp.Diff(want, c.Instances[0].VIPs, cmpOpts); diff != "" {
					t.Errorf("vips (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "vips with dev and routes from the environment",
			env: []string{"VIPD_INSTANCES_0_VIPS=192.0.2.100/24, 192.0.2.5 dev lo", "VIPD_INSTANCES_0_EXCLUDED_VIPS=2001:db8::5/64 dev eth1",
				"VIPD_INSTANCES_0_ROUTES_0_TO=0.0.0.0/0", "VIPD_INSTANCES_0_ROUTES_0_VIA=192.0.2.254",
				"VIPD_GLOBAL_WEBHOOK_URL=https://h.example/x", "VIPD_GLOBAL_WEBHOOK_HEADERS=Authorization=Bearer t, X-A=b"},
			check: func(t *testing.T, c *configs.Config) {
				in := c.Instances[0]
				want := []configs.VIP{vip("192.0.2.100/24"), {Prefix: prefix("192.0.2.5/32"), Dev: "lo"}}
				if diff := cmp.Diff(want, in.VIPs, cmpOpts); diff != "" {
					t.Errorf("vips (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]configs.VIP{{Prefix: prefix("2001:db8::5/64"), Dev: "eth1"}}, in.ExcludedVIPs, cmpOpts); diff != "" {
					t.Errorf("excluded_vips (-want +got):\n%s", diff)
				}
				wantR := []configs.Route{{To: prefix("0.0.0.0/0"), Via: addr("192.0.2.254"), Type: configs.RouteUnicast}}
				if diff := cmp.Diff(wantR, in.Routes, cmpOpts); diff != "" {
					t.Errorf("routes (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(map[string]string{"authorization": "Bearer t", "x-a": "b"}, c.Global.Webhook.Headers); diff != "" {
					t.Errorf("headers (-want +got):\n%s", diff)
				}
				if c.Global.SMTP.Port != 25 || c.Global.SMTP.Timeout != 30*time.Second || c.Global.Webhook.Timeout != 10*time.Second {
					t.Errorf("alert defaults: %+v %+v", c.Global.SMTP, c.Global.Webhook)
				}
			},
		},
	}
	p := writeFile(t, file)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := configs.Load(p, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadEnvOnly(t *testing.T) {
	env := []string{
		"VIPD_GLOBAL_NODE=c1",
		"VIPD_SCRIPTS_0_NAME=chk", "VIPD_SCRIPTS_0_COMMAND=true",
		"VIPD_INSTANCES_0_NAME=VI_1", "VIPD_INSTANCES_0_INTERFACE=eth0", "VIPD_INSTANCES_0_VRID=7",
		"VIPD_INSTANCES_0_VIPS=192.0.2.100/24", "VIPD_INSTANCES_0_ADVERT_INTERVAL=0.1",
		"VIPD_VIRTUAL_SERVERS_0_ADDRESS=192.0.2.100:80",
		"VIPD_VIRTUAL_SERVERS_0_REAL_SERVERS_0_ADDRESS=192.0.2.11:80",
		"VIPD_VIRTUAL_SERVERS_0_REAL_SERVERS_0_CHECKS_0_TYPE=http",
		"VIPD_VIRTUAL_SERVERS_0_REAL_SERVERS_0_CHECKS_0_STATUS_CODES=200,204",
	}
	c, err := configs.Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	in := configs.DefaultInstance()
	in.Name, in.Interface, in.VRID, in.AdvertInterval = "VI_1", "eth0", 7, 100*time.Millisecond
	in.VIPs = []configs.VIP{vip("192.0.2.100/24")}
	ch := configs.DefaultCheck()
	ch.Type, ch.StatusCodes = "http", []int{200, 204}
	rs := configs.DefaultRealServer()
	rs.Address, rs.Checks = ap("192.0.2.11:80"), []configs.Check{ch}
	vs := configs.DefaultVirtualServer()
	vs.Address, vs.RealServers = ap("192.0.2.100:80"), []configs.RealServer{rs}
	sc := configs.DefaultScript()
	sc.Name, sc.Command = "chk", "true"
	want := configs.DefaultConfig()
	want.Global.Node = "c1"
	want.Scripts = []configs.Script{sc}
	want.Instances = []configs.Instance{in}
	want.VirtualServers = []configs.VirtualServer{vs}
	if diff := cmp.Diff(want, c, cmpOpts); diff != "" {
		t.Errorf("Load from env (-want +got):\n%s", diff)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, file string
		env        []string
		want       []string // substrings, all must appear
	}{
		{"bad vip", "instances: [{name: a, vips: [192.0.2.1, 10.1.1]}]", nil,
			[]string{`instances[0].vips[1]: "10.1.1" is not an IP address`}},
		{"bad duration", "instances: [{name: a, advert_interval: fast}]", nil,
			[]string{`instances[0].advert_interval`, `"fast" is not a duration`}},
		{"unknown key", "instances: [{name: a, vrrid: 5}]", nil,
			[]string{`instances[0]: has invalid keys: vrrid`}},
		{"bad peer and bad src together", "instances: [{name: a, unicast_src_ip: x, unicast_peers: [y]}]", nil,
			[]string{`instances[0].unicast_src_ip: "x" is not an IP address`, `instances[0].unicast_peers[0]: "y" is not an IP address`}},
		{"unknown env", "", []string{"VIPD_INSTANCES_0_PRIORTY=1"},
			[]string{`VIPD_INSTANCES_0_PRIORTY: unknown key "priorty"`}},
		{"env list without index", "", []string{"VIPD_INSTANCES_NAME=x"},
			[]string{`VIPD_INSTANCES_NAME: instances: want a list index`}},
		{"bad yaml", "instances: [", nil, []string{"config: parse"}},
		{"huge bare seconds", "instances: [{name: a, preempt_delay: 5000000000}]", nil,
			[]string{`instances[0].preempt_delay: duration "5000000000" out of range`}},
		{"bad sorry server", "virtual_servers: [{sorry_server: 192.0.2.1}]", nil,
			[]string{`virtual_servers[0].sorry_server: "192.0.2.1" is not an IP:port`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if env == nil {
				env = []string{}
			}
			_, err := configs.Load(writeFile(t, tt.file), env)
			if err == nil {
				t.Fatal("Load succeeded, want error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := configs.Load(filepath.Join(t.TempDir(), "nope.yaml"), []string{}); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

func TestLoadScriptsAsMap(t *testing.T) {
	c, err := configs.LoadBytes([]byte(`
scripts:
  chk_B: {command: b}
  chk_A: {command: a, interval: 3}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := configs.DefaultScript(), configs.DefaultScript()
	a.Name, a.Command, a.Interval = "chk_A", "a", 3*time.Second
	b.Name, b.Command = "chk_B", "b"
	if diff := cmp.Diff([]configs.Script{a, b}, c.Scripts); diff != "" {
		t.Errorf("scripts (-want +got):\n%s", diff)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"1", time.Second, false},
		{"0.1", 100 * time.Millisecond, false},
		{"2.5", 2500 * time.Millisecond, false},
		{"100ms", 100 * time.Millisecond, false},
		{"1m30s", 90 * time.Second, false},
		{"", 0, false},
		{"-1", 0, true},
		{"soon", 0, true},
	}
	for _, tt := range tests {
		got, err := configs.ParseDuration(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestLoadYAMLNumbersAsSeconds(t *testing.T) {
	c, err := configs.LoadBytes([]byte("instances: [{name: a, advert_interval: 0.03, preempt_delay: 5}]"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Instances[0].AdvertInterval; got != 30*time.Millisecond {
		t.Errorf("advert_interval = %s, want 30ms", got)
	}
	if got := c.Instances[0].PreemptDelay; got != 5*time.Second {
		t.Errorf("preempt_delay = %s, want 5s", got)
	}
}

var _ = cmpopts.EquateEmpty
