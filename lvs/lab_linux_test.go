//go:build linux

package lvs

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vipd/vipd/test/vm/vmnet"
)

// The lab: a director namespace with a bridge (192.0.2.1/24, the VIP
// 192.0.2.100) to the real servers, a LAN client on that bridge
// (192.0.2.50) for DR, and a client routed through the director
// (198.51.100.2) for NAT. Each real server answers every TCP connection on
// port 80 with its name. They all carry the VIP on lo with arp_ignore=1 and
// arp_announce=2, as LVS-DR needs.
var (
	labVIP     = netip.MustParseAddr("192.0.2.100")
	labVIPPort = netip.AddrPortFrom(labVIP, 80)
)

type lab struct {
	t      *testing.T
	dir    *vmnet.NS
	client *vmnet.NS // routed, 198.51.100.2
	lan    *vmnet.NS // on the bridge, 192.0.2.50
	reals  []*realServer
	sorry  *realServer
}

// realServer answers on port 80 with its name (idle connections close after
// 30 s); mac is its eth0's.
type realServer struct {
	*vmnet.RealServer
	mac net.HardwareAddr
}

func newLab(t *testing.T) *lab {
	t.Helper()
	l := &lab{t: t, dir: vmnet.New(t, "vlvs-dir"), client: vmnet.New(t, "vlvs-cli"), lan: vmnet.New(t, "vlvs-lan")}
	d := l.dir
	d.Sysctl(t, "net/ipv4/ip_forward", "1", "net/ipv4/conf/all/rp_filter", "0", "net/ipv4/conf/default/rp_filter", "0")
	d.Bridge(t, "vlvs-br")
	d.Up(t, "vlvs-br", "192.0.2.1/24", "192.0.2.100/32")
	ports := []string{}

	// Routed client.
	vmnet.Veth(t, d, "vlvs-dc", l.client, "eth0")
	d.Up(t, "vlvs-dc", "198.51.100.1/24")
	l.client.Up(t, "eth0", "198.51.100.2/24")
	l.client.DefaultRoute(t, "198.51.100.1")

	// LAN client.
	ports = append(ports, "vlvs-dl")
	vmnet.Veth(t, d, "vlvs-dl", l.lan, "eth0")
	d.Enslave(t, "vlvs-dl", "vlvs-br")
	d.Up(t, "vlvs-dl")
	l.lan.Up(t, "eth0", "192.0.2.50/24")

	// Real servers and the sorry server.
	for i, name := range []string{"rs1", "rs2", "rs3", "sorry"} {
		ip := fmt.Sprintf("192.0.2.%d", 11+i)
		if name == "sorry" {
			ip = "192.0.2.20"
		}
		rs := &realServer{RealServer: &vmnet.RealServer{Name: name, Addr: netip.MustParseAddr(ip), NS: vmnet.New(t, "vlvs-"+name), Idle: 30 * time.Second}}
		rs.NS.Sysctl(t,
			"net/ipv4/conf/all/arp_ignore", "1", "net/ipv4/conf/all/arp_announce", "2",
			"net/ipv4/conf/default/arp_ignore", "1", "net/ipv4/conf/default/arp_announce", "2")
		port := "vlvs-d" + name
		ports = append(ports, port)
		vmnet.Veth(t, d, port, rs.NS, "eth0")
		d.Enslave(t, port, "vlvs-br")
		d.Up(t, port)
		rs.NS.Up(t, "eth0", ip+"/24")
		rs.mac = rs.NS.Link(t, "eth0").Attrs().HardwareAddr
		rs.NS.AddAddr(t, "lo", "192.0.2.100/32")
		rs.NS.DefaultRoute(t, "192.0.2.1")
		rs.Start(t)
		if name == "sorry" {
			l.sorry = rs
		} else {
			l.reals = append(l.reals, rs)
		}
	}
	d.WaitOperUp(t, append(ports, "vlvs-br", "vlvs-dc")...)
	l.client.WaitOperUp(t, "eth0")
	l.lan.WaitOperUp(t, "eth0")
	for _, rs := range append(l.reals, l.sorry) {
		rs.NS.WaitOperUp(t, "eth0")
	}
	// The bridge forwards once its ports have settled: wait until the
	// director reaches every server.
	deadline := time.Now().Add(10 * time.Second)
	for _, rs := range append(l.reals, l.sorry) {
		for !l.probe(rs) {
			if time.Now().After(deadline) {
				t.Fatalf("director cannot reach %s", rs.Name)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return l
}

// probe is a minimal TCP_CHECK: a connect from the director.
func (l *lab) probe(rs *realServer) bool {
	return vmnet.Probe(l.dir, netip.AddrPortFrom(rs.Addr, 80))
}

// health probes every real server and returns them as desired state.
func (l *lab) health(weights []int, fwd Forwarding, inhibitIdx int) []RealState {
	var out []RealState
	for i, rs := range l.reals {
		out = append(out, RealState{
			Real:             Real{Address: netip.AddrPortFrom(rs.Addr, 80), Weight: weights[i], Forwarding: fwd},
			Healthy:          l.probe(rs),
			InhibitOnFailure: i == inhibitIdx,
		})
	}
	return out
}

// connect makes n sequential TCP connections to the VIP from ns and counts
// the answers per server name ("error" for failures).
func (l *lab) connect(from *vmnet.NS, n int) map[string]int {
	return vmnet.Connect(l.t, from, labVIPPort, n)
}

// dialLong opens a connection to the VIP from ns that stays open and
// returns it with the name of the server that answered.
func (l *lab) dialLong(from *vmnet.NS) (*vmnet.LongConn, string, error) {
	return vmnet.DialLong(l.t, from, labVIPPort)
}

// arpAnswers asks for the VIP from the LAN client and returns the MACs that
// answered within wait.
func (l *lab) arpAnswers(wait time.Duration) ([]string, error) {
	return vmnet.ARPAnswers(l.lan, "eth0", labVIP, wait)
}

// connsTo reads the namespace's IPVS connection table and returns the
// lines whose client address is from.
func connsTo(ns *vmnet.NS, from netip.Addr) ([]string, error) {
	s, err := ns.ReadFile("/proc/thread-self/net/ip_vs_conn")
	if err != nil {
		return nil, err
	}
	b := from.As4()
	hex := fmt.Sprintf("%02X%02X%02X%02X", b[0], b[1], b[2], b[3])
	var out []string
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[1] == hex {
			out = append(out, line)
		}
	}
	return out, nil
}
