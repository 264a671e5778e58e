package plan

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vipd/vipd/configs"
	"github.com/vipd/vipd/lvs"
)

func TestServiceStateFromConfig(t *testing.T) {
	inhibit := false
	vs := configs.VirtualServer{
		Address: netip.MustParseAddrPort("192.0.2.100:80"), Protocol: "TCP", Scheduler: "wrr",
		Forwarding: "DR", PersistenceTimeout: 300e9, PersistenceGranularity: "255.255.255.0",
		InhibitOnFailure: true, SorryServer: netip.MustParseAddrPort("192.0.2.50:80"), Quorum: 2, Hysteresis: 1,
		VRRPInstance: "VI_1", QuorumUp: "up.sh", QuorumDown: "down.sh",
		RealServers: []configs.RealServer{
			{Address: netip.MustParseAddrPort("192.0.2.11:80"), Weight: 3, UpperThreshold: 100, LowerThreshold: 50},
			{Address: netip.MustParseAddrPort("192.0.2.12:8080"), Weight: 1, Forwarding: "NAT", InhibitOnFailure: &inhibit},
		},
	}
	got, err := serviceState(vs)
	if err != nil {
		t.Fatal(err)
	}
	want := lvs.ServiceState{
		Service: lvs.Service{Address: vs.Address, Protocol: lvs.TCP, Scheduler: "wrr", Forwarding: lvs.DR,
			Persistence: 300e9, Netmask: 24},
		Reals: []lvs.RealState{
			{Real: lvs.Real{Address: vs.RealServers[0].Address, Weight: 3, UpperThreshold: 100, LowerThreshold: 50}, Healthy: true, InhibitOnFailure: true},
			{Real: lvs.Real{Address: vs.RealServers[1].Address, Weight: 1, Forwarding: lvs.NAT}, Healthy: true, InhibitOnFailure: false},
		},
		Sorry: vs.SorryServer, Quorum: 2, Hysteresis: 1, Instance: "VI_1", QuorumUp: "up.sh", QuorumDown: "down.sh",
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.AddrPort{})); diff != "" {
		t.Errorf("serviceState (-want +got):\n%s", diff)
	}
}

func TestGroupMembersExpandRanges(t *testing.T) {
	got := groupMembers([]string{"192.0.2.10-12:80", "fwmark 7", "[2001:db8::1]:443"})
	want := []lvs.GroupMember{
		{Address: netip.MustParseAddrPort("192.0.2.10:80")},
		{Address: netip.MustParseAddrPort("192.0.2.11:80")},
		{Address: netip.MustParseAddrPort("192.0.2.12:80")},
		{FWMark: 7},
		{Address: netip.MustParseAddrPort("[2001:db8::1]:443")},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.AddrPort{})); diff != "" {
		t.Errorf("groupMembers (-want +got):\n%s", diff)
	}
}
