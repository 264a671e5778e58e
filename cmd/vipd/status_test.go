package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/cmd/vipd/internal/agent"
)

func TestFormatStatus(t *testing.T) {
	now := time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC)
	st := agent.Status{
		Node:      "lb1",
		Version:   "v0.1.0",
		StartedAt: now.Add(-3*time.Hour - 2*time.Minute),
		Instances: []agent.InstanceStatus{
			{
				Name: "VI_1", Interface: "eth0", VRID: 51, Version: 3, State: "MASTER",
				Priority: 150, EffectivePriority: 130, Master: "192.0.2.1",
				VIPs: []string{"192.0.2.100/24", "192.0.2.101/32"}, Since: now.Add(-98 * time.Second),
				Provider: "aws", ProviderState: "confirmed",
				ConfirmedAt: now.Add(-98*time.Second + 1200*time.Millisecond), SyncGroup: "G1",
				Drops:  map[string]int64{"ttl": 3, "auth": 1, "zero": 0},
				Tracks: []agent.TrackStatus{{Name: "chk_nginx", Kind: "script", Up: false, Weight: -20}, {Name: "eth1", Kind: "interface", Up: true}},
			},
			{
				Name: "VI_2", Interface: "eth0", VRID: 52, Version: 3, State: "MASTER",
				Priority: 100, EffectivePriority: 100, Master: "192.0.2.1", VIPs: []string{"192.0.2.102/32"},
				Since: now.Add(-3 * time.Second), Provider: "aliyun", ProviderState: "pending",
				Reason: "master down timer expired",
			},
			{
				Name: "VI_6", Interface: "eth0", VRID: 51, Version: 3, State: "BACKUP",
				Priority: 100, Master: "2001:db8::2", VIPs: []string{"2001:db8::100/64"},
				Since: now.Add(-50 * time.Hour), Provider: "netlink", ProviderState: "error", ProviderError: "address busy",
			},
		},
		Services: []agent.ServiceStatus{
			{Name: "TCP 192.0.2.100:80", Scheduler: "wrr", Active: true, RealServers: []agent.RealStatus{
				{Address: "192.0.2.11:80", Weight: 1, Healthy: true, ActiveConns: 12, InactConns: 40},
				{Address: "192.0.2.12:80", Weight: 0, Healthy: false, CheckReason: "connect: connection refused"},
			}},
			{Name: "FWM 1", Scheduler: "sh", Active: false},
		},
		Drops: map[string]int64{"checksum": 2, "malformed": 1},
	}
	want := `node lb1  vipd v0.1.0  up 3h2m

INSTANCE  GROUP  IFACE  VRID  STATE      SINCE  PRIO     MASTER       VIPS                           PROVIDER                                      DROPS
VI_1      G1     eth0   51    MASTER v3  1m38s  150/130  192.0.2.1    192.0.2.100/24,192.0.2.101/32  aws: confirmed 14:03:23 (1.2s)                auth=1,ttl=3
VI_2      -      eth0   52    MASTER v3  3s     100      192.0.2.1    192.0.2.102/32                 aliyun: master, VIP pending at provider (3s)  -
VI_6      -      eth0   51    BACKUP v3  2d2h   100      2001:db8::2  2001:db8::100/64               netlink: error: address busy                  -

VI_1: script chk_nginx is down (weight -20)
VI_2: master (master down timer expired)
dropped before matching an instance: checksum=2,malformed=1

SERVICE             SCHED  ACTIVE  REAL SERVER    WEIGHT  HEALTH                             CONNS (ACT/INACT)
TCP 192.0.2.100:80  wrr    yes     192.0.2.11:80  1       up                                 12/40
                                   192.0.2.12:80  0       down: connect: connection refused  0/0
FWM 1               sh     no      (none)
`
	var b strings.Builder
	if err := formatStatus(&b, st, now); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("formatStatus (-want +got):\n%s", diff)
		t.Logf("got:\n%s", b.String())
	}
}

func TestFormatStatusEmpty(t *testing.T) {
	var b strings.Builder
	if err := formatStatus(&b, agent.Status{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	want := "node -  vipd -\n\nINSTANCE  IFACE  VRID  STATE  SINCE  PRIO  MASTER  VIPS  PROVIDER  DROPS\n(no instances)\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("formatStatus (-want +got):\n%s", diff)
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{1400 * time.Millisecond, "1s"},
		{59 * time.Second, "59s"},
		{61 * time.Second, "1m1s"},
		{2*time.Hour + 30*time.Second, "2h1m"},
		{49 * time.Hour, "2d1h"},
	}
	for _, tt := range tests {
		if got := age(tt.d); got != tt.want {
			t.Errorf("age(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
