package plan_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/configs"
	"github.com/vipd/vipd/configs/configstest"
)

func TestBuildOK(t *testing.T) {
	p, err := plan.Build(configstest.ValidConfig())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(p.Instances) != 2 || len(p.Services) != 2 || len(p.Scripts) != 1 {
		t.Fatalf("plan has %d instances, %d services, %d scripts; want 2, 2, 1", len(p.Instances), len(p.Services), len(p.Scripts))
	}
	in := p.Instances[0]
	if in.Router.VRID != 51 || in.Router.Version != 3 || in.Router.Priority != 100 || in.Provider.Kind != plan.Netlink || in.Provider.Local == nil {
		t.Errorf("instance 0 = %+v", in)
	}
	// In a sync group a track has no weight (keepalived), with a warning.
	if w := in.Tracks[1].Weight; w != 0 || len(p.Warnings) != 1 {
		t.Errorf("track weight in a sync group = %d, warnings %q", w, p.Warnings)
	}
}

// TestBuild lists the verdict `vipd check` gives: the file's own rules
// (configs.Validate) and the runtime packages' rules, all at once.
func TestBuild(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *configs.Config)
		want   []string
	}{
		{"vrid out of range", func(c *configs.Config) { c.Instances[0].VRID = 0 },
			[]string{"instances[0].vrid: 0 is out of range 1..255"}},
		{"priority out of range", func(c *configs.Config) { c.Instances[1].Priority = 256 },
			[]string{"instances[1].priority: 256 is out of range 1..255"}},
		{"v3 advert not multiple of 10ms", func(c *configs.Config) { c.Instances[0].AdvertInterval = 105 * time.Millisecond },
			[]string{"instances[0].advert_interval: 105ms is not a multiple of 10ms in 10ms..40.95s (VRRP v3 sends centiseconds)"}},
		{"v3 advert too long", func(c *configs.Config) { c.Instances[0].AdvertInterval = 41 * time.Second },
			[]string{"instances[0].advert_interval: 41s is not a multiple of 10ms in 10ms..40.95s (VRRP v3 sends centiseconds)"}},
		{"v2 advert not whole seconds", func(c *configs.Config) {
			c.Instances[0].Version = 2
			c.Instances[0].AdvertInterval = 1500 * time.Millisecond
		}, []string{"instances[0].advert_interval: 1.5s is not whole seconds in 1s..255s (VRRP v2 sends seconds)"}},
		{"auth with v3 and too long", func(c *configs.Config) { c.Instances[0].AuthPass = "123456789" },
			[]string{"instances[0].auth_pass: authentication is not part of VRRP v3 (RFC 5798); remove it or set version: 2"}},
		{"v2 ipv6", func(c *configs.Config) { c.Instances[1].Version = 2 },
			[]string{"instances[1].version: VRRP v2 is IPv4 only; IPv6 instances need version 3"}},
		{"bad state", func(c *configs.Config) { c.Instances[0].State = "master" },
			[]string{`instances[0].state: "master" is not BACKUP or MASTER`}},
		{"unknown provider", func(c *configs.Config) { c.Instances[0].Provider.Type = "gcp" },
			[]string{`instances[0].provider.type: "gcp" is not one of netlink, aws, aliyun, tencent`}},
		{"aws eip without allocation id", func(c *configs.Config) {
			c.Instances[0].Provider.Type, c.Instances[0].Provider.Mode = "aws", "eip"
		}, []string{"instances[0].provider: eip mode needs allocation_id"}},
		{"cloud without mode", func(c *configs.Config) { c.Instances[0].Provider.Type = "aliyun" },
			[]string{`instances[0].provider: unknown mode "" (havip, route-entry, secondary-ip)`}},
		{"wrong mode and missing ids", func(c *configs.Config) {
			c.Instances[0].Provider.Type, c.Instances[0].Provider.Mode = "tencent", "eip"
			c.Instances[1].Provider.Type, c.Instances[1].Provider.Mode = "tencent", "route"
			c.Instances[1].Provider.Backoff.Max = time.Millisecond
		}, []string{"instances[1].unicast_peers: required with provider tencent (cloud networks do not carry VRRP multicast)",
			"instances[1].provider.backoff.max: 1ms is less than backoff.initial 200ms",
			`instances[0].provider: unknown mode "eip" (havip, private-ip, route)`,
			"instances[1].provider: mode route needs route_table_ids"}},
		{"netlink with mode", func(c *configs.Config) { c.Instances[0].Provider.Mode = "havip" },
			[]string{`instances[0].provider.mode: netlink takes no mode, got "havip"`}},
		{"lvs scheduler, forwarding, protocol", func(c *configs.Config) {
			vs := &c.VirtualServers[0]
			vs.Scheduler, vs.Forwarding, vs.Protocol = "random", "NAT6", "ICMP"
			vs.SchedulerFlags = []string{"sh-port", "turbo"}
		}, []string{`virtual_servers[0].protocol: unknown protocol "ICMP" (want TCP, UDP or SCTP)`,
			`virtual_servers[0].scheduler: unknown "random" (want one of rr wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf)`,
			`virtual_servers[0].scheduler_flags: scheduler flag "sh-port" needs scheduler sh, not "random"`,
			`virtual_servers[0].forwarding: unknown forwarding method "NAT6" (want NAT, DR or TUN)`}},
		{"duplicate real server and thresholds", func(c *configs.Config) {
			rs := c.VirtualServers[0].RealServers[0]
			rs.UpperThreshold, rs.LowerThreshold = 10, 20
			c.VirtualServers[0].RealServers = append(c.VirtualServers[0].RealServers, rs)
		}, []string{"virtual_servers[0].real_servers[1].address: 192.0.2.11:80 is also real_servers[0]",
			"virtual_servers[0].real_servers[192.0.2.11:80]: lower_threshold: 20 is above upper_threshold 10"}},
		{"checks", func(c *configs.Config) {
			rs := &c.VirtualServers[0].RealServers[0]
			misc := configs.DefaultCheck()
			misc.Type = "misc"
			http := configs.DefaultCheck()
			http.Type, http.Path, http.StatusCodes, http.Digest = "http", "healthz", []int{200, 700}, "abc"
			unknown := configs.DefaultCheck()
			unknown.Type = "ldap"
			rs.Checks = append(rs.Checks, misc, http, unknown)
		}, []string{`virtual_servers[0].real_servers[0].checks[3].type: unknown check type "ldap" (one of tcp, http, https, misc, dns, udp, ping, smtp)`,
			"virtual_servers[0].real_servers[0].checks[1].command: is required for a misc check",
			`virtual_servers[0].real_servers[0].checks[2]: path "healthz" must start with /`}},
		{"quorum and granularity", func(c *configs.Config) {
			vs := &c.VirtualServers[0]
			vs.Quorum, vs.Hysteresis, vs.PersistenceGranularity = 2, 2, "255.0.255.0"
		}, []string{"virtual_servers[0].hysteresis: 2 is out of range 0..quorum-1",
			`virtual_servers[0].persistence_granularity: "255.0.255.0" is not a contiguous netmask`}},
		{"scheduler twos is not a kernel scheduler", func(c *configs.Config) { c.VirtualServers[0].Scheduler = "twos" },
			[]string{`virtual_servers[0].scheduler: unknown "twos" (want one of rr wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf)`}},
		{"instance without vips", func(c *configs.Config) { c.Instances[0].VIPs = nil },
			[]string{"instances[0].vips: an instance needs at least one VIP (in vips or excluded_vips)", "instances[0].vips: at least one VIP is required"}},
		{"aliyun havip without local address", func(c *configs.Config) {
			p := &c.Instances[0].Provider
			p.Type, p.Mode, p.HaVipID, p.NoLocalAddress = "aliyun", "havip", "havip-1", true
		}, []string{"instances[0].provider: mode havip needs the VIP on the NIC (the HAVIP follows its GARP): no_local_address is not allowed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := configstest.ValidConfig()
			tt.mutate(c)
			_, err := plan.Build(c)
			got := configstest.Problems(t, err)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Build errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadAllProblemsAtOnce: a value that does not decode does not hide the
// other problems of the file.
func TestLoadAllProblemsAtOnce(t *testing.T) {
	path := t.TempDir() + "/vipd.yaml"
	yaml := `instances:
  - name: VI_1
    interface: eth0
    vrid: 0
    priority: 300
    advert_interval: banana
    vips: [192.0.2.100/24, not-an-ip]
`
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	_, cfg, err := plan.Load(path, []string{}, nil)
	if cfg == nil || err == nil {
		t.Fatalf("Load = cfg %v, err %v; want the config and its problems", cfg, err)
	}
	want := []string{
		`instances[0].advert_interval: "banana" is not a duration (use 1s, 100ms or bare seconds)`,
		`instances[0].vips[1]: "not-an-ip" is not an IP address`,
		"instances[0].vrid: 0 is out of range 1..255",
		"instances[0].priority: 300 is out of range 1..255",
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
