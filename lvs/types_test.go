package lvs

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestValidateStates(t *testing.T) {
	ok := func() ServiceState {
		return ServiceState{Service: Service{Address: netip.MustParseAddrPort("192.0.2.100:80"), Scheduler: "wrr"},
			Reals: []RealState{{Real: Real{Address: netip.MustParseAddrPort("192.0.2.11:80"), Weight: 1}}}}
	}
	tests := []struct {
		name    string
		mod     func(st *ServiceState) []ServiceState
		wantErr string // substring; "" for valid
	}{
		{"valid", func(st *ServiceState) []ServiceState { return []ServiceState{*st} }, ""},
		{"unknown scheduler", func(st *ServiceState) []ServiceState { st.Scheduler = "fastest"; return []ServiceState{*st} }, "scheduler: unknown"},
		{"every kernel scheduler", func(st *ServiceState) []ServiceState {
			var out []ServiceState
			for i, s := range Schedulers() {
				c := *st
				c.Scheduler, c.Address = s, netip.AddrPortFrom(c.Address.Addr(), uint16(80+i))
				c.Reals = []RealState{{Real: Real{Address: netip.MustParseAddrPort("192.0.2.11:80"), Weight: 1}}}
				out = append(out, c)
			}
			return out
		}, ""},
		{"duplicate virtual server", func(st *ServiceState) []ServiceState { return []ServiceState{*st, *st} }, "duplicate virtual server TCP 192.0.2.100:80"},
		{"same address, other protocol", func(st *ServiceState) []ServiceState {
			u := *st
			u.Protocol = UDP
			return []ServiceState{*st, u}
		}, ""},
		{"real server of the wrong family", func(st *ServiceState) []ServiceState {
			st.Reals[0].Address = netip.MustParseAddrPort("[2001:db8::1]:80")
			return []ServiceState{*st}
		}, "is inet6 but the virtual server is inet"},
		{"DR with another port", func(st *ServiceState) []ServiceState {
			st.Forwarding = DR
			st.Reals[0].Address = netip.MustParseAddrPort("192.0.2.11:8080")
			return []ServiceState{*st}
		}, "real server port must be 80"},
		{"NAT with another port", func(st *ServiceState) []ServiceState {
			st.Reals[0].Address = netip.MustParseAddrPort("192.0.2.11:8080")
			return []ServiceState{*st}
		}, ""},
		{"thresholds reversed", func(st *ServiceState) []ServiceState {
			st.Reals[0].UpperThreshold, st.Reals[0].LowerThreshold = 10, 20
			return []ServiceState{*st}
		}, "lower_threshold: 20 is above upper_threshold 10"},
		{"weight out of range", func(st *ServiceState) []ServiceState { st.Reals[0].Weight = 70000; return []ServiceState{*st} }, "weight: 70000"},
		{"duplicate real server", func(st *ServiceState) []ServiceState {
			st.Reals = append(st.Reals, st.Reals[0])
			return []ServiceState{*st}
		}, "duplicate 192.0.2.11:80"},
		{"sorry server is a real server", func(st *ServiceState) []ServiceState {
			st.Sorry = st.Reals[0].Address
			return []ServiceState{*st}
		}, "sorry_server: 192.0.2.11:80 is also a real server"},
		{"fwmark and address", func(st *ServiceState) []ServiceState { st.FWMark = 1; return []ServiceState{*st} }, "either an address or a fwmark"},
		{"no address", func(st *ServiceState) []ServiceState { st.Address = netip.AddrPort{}; return []ServiceState{*st} }, "want VIP:port or a fwmark"},
		{"persistence not whole seconds", func(st *ServiceState) []ServiceState {
			st.Persistence = 1500 * time.Millisecond
			return []ServiceState{*st}
		}, "not whole seconds"},
		{"granularity too long", func(st *ServiceState) []ServiceState { st.Netmask = 33; return []ServiceState{*st} }, "/33 out of range"},
		{"negative quorum", func(st *ServiceState) []ServiceState { st.Quorum = -1; return []ServiceState{*st} }, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ok()
			err := ValidateStates(tt.mod(&st))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ValidateStates: %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("ValidateStates: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseSchedFlags(t *testing.T) {
	tests := []struct {
		sched   string
		names   []string
		want    SchedFlags
		wantErr bool
	}{
		{"sh", []string{"sh-fallback", "sh-port"}, SchedFlag1 | SchedFlag2, false},
		{"mh", []string{"mh-port"}, SchedFlag2, false},
		{"rr", []string{"flag-1", "flag-3"}, SchedFlag1 | SchedFlag3, false},
		{"rr", []string{"sh-port"}, 0, true},
		{"mh", []string{"sh-fallback"}, 0, true},
		{"sh", []string{"bogus"}, 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSchedFlags(tt.sched, tt.names)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseSchedFlags(%q, %q) = %#x, %v; want %#x, error %v", tt.sched, tt.names, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseForwardingAndProtocol(t *testing.T) {
	for in, want := range map[string]Forwarding{"": ForwardDefault, "nat": NAT, "MASQ": NAT, "DR": DR, "route": DR, "TUN": TUN, "tunnel": TUN} {
		if got, err := ParseForwarding(in); err != nil || got != want {
			t.Errorf("ParseForwarding(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseForwarding("FULLNAT"); err == nil {
		t.Error("ParseForwarding(FULLNAT) succeeded")
	}
	for in, want := range map[string]Protocol{"": TCP, "tcp": TCP, "UDP": UDP, "sctp": SCTP} {
		if got, err := ParseProtocol(in); err != nil || got != want {
			t.Errorf("ParseProtocol(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseProtocol("ICMP"); err == nil {
		t.Error("ParseProtocol(ICMP) succeeded")
	}
}

func TestExpandGroup(t *testing.T) {
	vs := ServiceState{Service: Service{Scheduler: "rr", Forwarding: DR},
		Reals: []RealState{{Real: Real{Address: netip.MustParseAddrPort("192.0.2.11:0"), Weight: 1}, Healthy: true}}}
	got := ExpandGroup(vs, []GroupMember{{Address: netip.MustParseAddrPort("192.0.2.100:80")}, {FWMark: 3}})
	var keys []string
	for _, st := range got {
		keys = append(keys, st.Key().String())
	}
	if diff := cmp.Diff([]string{"TCP 192.0.2.100:80", "FWM 3"}, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	got[0].Reals[0].Weight = 9
	if got[1].Reals[0].Weight != 1 || vs.Reals[0].Weight != 1 {
		t.Error("expanded services share their real server slice")
	}
}

func TestNetmaskEncoding(t *testing.T) {
	// IPVS_SVC_ATTR_NETMASK is the IPv4 mask in network byte order, which
	// moby/ipvs writes natively: its bytes must read 255.255.255.0.
	v4 := Service{Address: netip.MustParseAddrPort("192.0.2.1:80"), Netmask: 24}.kernelNetmask()
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], v4) // what moby/ipvs puts on the wire
	if diff := cmp.Diff([]byte{255, 255, 255, 0}, b[:]); diff != "" {
		t.Errorf("/24 mask bytes (-want +got):\n%s", diff)
	}
	if got := (Service{Address: netip.MustParseAddrPort("[2001:db8::1]:80")}).kernelNetmask(); got != 128 {
		t.Errorf("IPv6 default netmask = %d, want 128", got)
	}
}
