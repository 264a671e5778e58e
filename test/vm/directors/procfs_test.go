package directors

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ipvsDest is one real server line of /proc/net/ip_vs.
type ipvsDest struct {
	Addr    string // 192.0.2.11:80
	Forward string // Masq, Route, Tunnel
	Weight  int
	Active  int
	Inact   int
}

// parseHexAddrPort parses /proc's IPv4 "C0000264:0050".
func parseHexAddrPort(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok || len(a) != 8 {
		return netip.AddrPort{}, fmt.Errorf("address %q: want IPv4 hex ADDR:PORT", s)
	}
	v, err := strconv.ParseUint(a, 16, 32)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q: %w", s, err)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q: %w", s, err)
	}
	ip := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

// parseIPVS parses /proc/net/ip_vs (IPv4 services) into real servers by
// service, keyed like vipd's status ("TCP 192.0.2.100:80"). A service
// without real servers maps to an empty, non-nil list.
func parseIPVS(s string) (map[string][]ipvsDest, error) {
	out := map[string][]ipvsDest{}
	cur, skip := "", false
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0 || strings.HasPrefix(line, "IP Virtual Server") || f[0] == "Prot":
		case f[0] == "->":
			if len(f) < 6 || f[1] == "RemoteAddress:Port" || skip {
				continue
			}
			if cur == "" {
				return nil, fmt.Errorf("ip_vs: real server before any service: %q", line)
			}
			a, err := parseHexAddrPort(f[1])
			if err != nil {
				return nil, fmt.Errorf("ip_vs: %w", err)
			}
			var n [3]int
			for i := range n {
				if n[i], err = strconv.Atoi(f[3+i]); err != nil {
					return nil, fmt.Errorf("ip_vs: %q: %w", line, err)
				}
			}
			out[cur] = append(out[cur], ipvsDest{Addr: a.String(), Forward: f[2], Weight: n[0], Active: n[1], Inact: n[2]})
		case len(f) >= 3 && (f[0] == "TCP" || f[0] == "UDP" || f[0] == "SCTP") && !strings.HasPrefix(f[1], "["):
			a, err := parseHexAddrPort(f[1])
			if err != nil {
				return nil, fmt.Errorf("ip_vs: %w", err)
			}
			cur, skip = f[0]+" "+a.String(), false
			out[cur] = []ipvsDest{}
		default:
			skip = true // FWM or IPv6 services: not this test's
		}
	}
	return out, nil
}

// matchConns returns the lines of /proc/net/ip_vs_conn whose client
// address is from's (and port, unless it is 0).
func matchConns(s string, from netip.AddrPort) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] == "Pro" {
			continue
		}
		ap, err := parseHexAddrPort(f[1] + ":" + f[2])
		if err != nil || ap.Addr() != from.Addr() || from.Port() != 0 && ap.Port() != from.Port() {
			continue
		}
		out = append(out, line)
	}
	return out
}

func TestParseIPVS(t *testing.T) {
	const table = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  C0000264:0050 rr 
  -> C000020C:0050      Route   1      0          3         
  -> C000020B:0050      Route   0      2          0         
UDP  C0000264:0035 wlc 
FWM  00000003 rr 
  -> C000020D:0000      Masq    1      0          0         
`
	tests := []struct {
		name string
		in   string
		want map[string][]ipvsDest
	}{
		{"empty", "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n", map[string][]ipvsDest{}},
		{"services", table, map[string][]ipvsDest{
			"TCP 192.0.2.100:80": {
				{Addr: "192.0.2.12:80", Forward: "Route", Weight: 1, Inact: 3},
				{Addr: "192.0.2.11:80", Forward: "Route", Weight: 0, Active: 2},
			},
			"UDP 192.0.2.100:53": {},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseIPVS(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseIPVS (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := parseIPVS("TCP  C0000264:0050 rr\n  -> zz:0050 Route 1 0 0\n"); err == nil {
		t.Error("parseIPVS accepted a bad real server address")
	}
}

func TestMatchConns(t *testing.T) {
	const conns = `Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP C0000232 A000 C0000264 0050 C000020B 0050 ESTABLISHED    899
TCP C0000232 A001 C0000264 0050 C000020C 0050 TIME_WAIT        1
TCP C0000233 A000 C0000264 0050 C000020C 0050 ESTABLISHED    899
`
	lines := strings.Split(conns, "\n")
	tests := []struct {
		from netip.AddrPort
		want []string
	}{
		{netip.MustParseAddrPort("192.0.2.50:0"), lines[1:3]},
		{netip.MustParseAddrPort("192.0.2.50:40961"), lines[2:3]},
		{netip.MustParseAddrPort("192.0.2.51:40961"), nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, matchConns(conns, tt.from)); diff != "" {
			t.Errorf("matchConns(%v) (-want +got):\n%s", tt.from, diff)
		}
	}
}
