//go:build linux

package lvs

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"github.com/vishvananda/netlink"
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
	dir    *testNS
	client *testNS // routed, 198.51.100.2
	lan    *testNS // on the bridge, 192.0.2.50
	reals  []*realServer
	sorry  *realServer
}

type realServer struct {
	name string
	addr netip.Addr
	ns   *testNS
	mac  net.HardwareAddr

	mu sync.Mutex
	ln net.Listener
}

func addr(s string) *netlink.Addr {
	a, err := netlink.ParseAddr(s)
	if err != nil {
		panic(err)
	}
	return a
}

// veth creates a veth pair from a (name an) to b (name bn) and returns the
// a end.
func veth(t *testing.T, a *testNS, an string, b *testNS, bn string) netlink.Link {
	t.Helper()
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: an}, PeerName: bn, PeerNamespace: netlink.NsFd(b.fd)}
	if err := a.nl.LinkAdd(v); err != nil {
		t.Fatalf("veth %s/%s - %s/%s: %v", a.name, an, b.name, bn, err)
	}
	l, err := a.nl.LinkByName(an)
	if err != nil {
		t.Fatalf("veth %s: %v", an, err)
	}
	return l
}

func mustLink(t *testing.T, ns *testNS, name string) netlink.Link {
	t.Helper()
	l, err := ns.nl.LinkByName(name)
	if err != nil {
		t.Fatalf("%s: link %s: %v", ns.name, name, err)
	}
	return l
}

func up(t *testing.T, ns *testNS, l netlink.Link, addrs ...string) {
	t.Helper()
	for _, a := range addrs {
		if err := ns.nl.AddrAdd(l, addr(a)); err != nil {
			t.Fatalf("%s: addr %s on %s: %v", ns.name, a, l.Attrs().Name, err)
		}
	}
	if err := ns.nl.LinkSetUp(l); err != nil {
		t.Fatalf("%s: %s up: %v", ns.name, l.Attrs().Name, err)
	}
}

func defaultRoute(t *testing.T, ns *testNS, gw string) {
	t.Helper()
	if err := ns.nl.RouteAdd(&netlink.Route{Gw: net.ParseIP(gw)}); err != nil {
		t.Fatalf("%s: default via %s: %v", ns.name, gw, err)
	}
}

// waitOperUp waits (bounded) until the kernel reports the links up: they
// drop frames before.
func waitOperUp(t *testing.T, ns *testNS, names ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range names {
		for {
			l := mustLink(t, ns, n)
			if l.Attrs().OperState == netlink.OperUp {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s not up after 10s (%v)", ns.name, n, l.Attrs().OperState)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func newLab(t *testing.T) *lab {
	t.Helper()
	l := &lab{t: t, dir: newNS(t, "vlvs-dir"), client: newNS(t, "vlvs-cli"), lan: newNS(t, "vlvs-lan")}
	d := l.dir
	d.sysctl(t, "net/ipv4/ip_forward", "1", "net/ipv4/conf/all/rp_filter", "0", "net/ipv4/conf/default/rp_filter", "0")
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "vlvs-br"}}
	if err := d.nl.LinkAdd(br); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	brl := mustLink(t, d, "vlvs-br")
	up(t, d, brl, "192.0.2.1/24", "192.0.2.100/32")
	ports := []string{}

	// Routed client.
	dc := veth(t, d, "vlvs-dc", l.client, "eth0")
	up(t, d, dc, "198.51.100.1/24")
	up(t, l.client, mustLink(t, l.client, "eth0"), "198.51.100.2/24")
	defaultRoute(t, l.client, "198.51.100.1")

	// LAN client.
	ports = append(ports, "vlvs-dl")
	dl := veth(t, d, "vlvs-dl", l.lan, "eth0")
	if err := d.nl.LinkSetMaster(dl, brl); err != nil {
		t.Fatalf("enslave: %v", err)
	}
	up(t, d, dl)
	up(t, l.lan, mustLink(t, l.lan, "eth0"), "192.0.2.50/24")

	// Real servers and the sorry server.
	for i, name := range []string{"rs1", "rs2", "rs3", "sorry"} {
		ip := fmt.Sprintf("192.0.2.%d", 11+i)
		if name == "sorry" {
			ip = "192.0.2.20"
		}
		rs := &realServer{name: name, addr: netip.MustParseAddr(ip), ns: newNS(t, "vlvs-"+name)}
		rs.ns.sysctl(t,
			"net/ipv4/conf/all/arp_ignore", "1", "net/ipv4/conf/all/arp_announce", "2",
			"net/ipv4/conf/default/arp_ignore", "1", "net/ipv4/conf/default/arp_announce", "2")
		port := "vlvs-d" + name
		ports = append(ports, port)
		dp := veth(t, d, port, rs.ns, "eth0")
		if err := d.nl.LinkSetMaster(dp, brl); err != nil {
			t.Fatalf("enslave: %v", err)
		}
		up(t, d, dp)
		eth := mustLink(t, rs.ns, "eth0")
		up(t, rs.ns, eth, ip+"/24")
		rs.mac = eth.Attrs().HardwareAddr
		if err := rs.ns.nl.AddrAdd(mustLink(t, rs.ns, "lo"), addr("192.0.2.100/32")); err != nil {
			t.Fatalf("%s: VIP on lo: %v", name, err)
		}
		defaultRoute(t, rs.ns, "192.0.2.1")
		rs.start(t)
		if name == "sorry" {
			l.sorry = rs
		} else {
			l.reals = append(l.reals, rs)
		}
	}
	waitOperUp(t, d, append(ports, "vlvs-br", "vlvs-dc")...)
	waitOperUp(t, l.client, "eth0")
	waitOperUp(t, l.lan, "eth0")
	for _, rs := range append(l.reals, l.sorry) {
		waitOperUp(t, rs.ns, "eth0")
	}
	// The bridge forwards once its ports have settled: wait until the
	// director reaches every server.
	deadline := time.Now().Add(10 * time.Second)
	for _, rs := range append(l.reals, l.sorry) {
		for !l.probe(rs) {
			if time.Now().After(deadline) {
				t.Fatalf("director cannot reach %s", rs.name)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return l
}

// start listens on :80 in the server's namespace; each connection gets the
// server's name.
func (rs *realServer) start(t *testing.T) {
	t.Helper()
	var ln net.Listener
	if err := rs.ns.do(func() (err error) { ln, err = net.Listen("tcp4", ":80"); return err }); err != nil {
		t.Fatalf("%s: listen: %v", rs.name, err)
	}
	rs.mu.Lock()
	rs.ln = ln
	rs.mu.Unlock()
	t.Cleanup(func() { ln.Close() })
	go func() { // owned by the listener: ends when it is closed
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go rs.serve(c)
		}
	}()
}

// serve answers with the server's name, then once more per line received,
// until the client closes or is idle for 30 s.
func (rs *realServer) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := fmt.Fprintf(c, "%s\n", rs.name); err != nil {
			return
		}
		if _, err := br.ReadString('\n'); err != nil {
			return
		}
	}
}

func (rs *realServer) stop() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.ln != nil {
		rs.ln.Close()
		rs.ln = nil
	}
}

// probe is a minimal TCP_CHECK: a connect from the director.
func (l *lab) probe(rs *realServer) bool {
	err := l.dir.do(func() error {
		c, err := net.DialTimeout("tcp4", netip.AddrPortFrom(rs.addr, 80).String(), 300*time.Millisecond)
		if err != nil {
			return err
		}
		return c.Close()
	})
	return err == nil
}

// health probes every real server and returns them as desired state.
func (l *lab) health(weights []int, fwd Forwarding, inhibitIdx int) []RealState {
	var out []RealState
	for i, rs := range l.reals {
		out = append(out, RealState{
			Real:             Real{Address: netip.AddrPortFrom(rs.addr, 80), Weight: weights[i], Forwarding: fwd},
			Healthy:          l.probe(rs),
			InhibitOnFailure: i == inhibitIdx,
		})
	}
	return out
}

// connect makes n sequential TCP connections to the VIP from ns and counts
// the answers per server name ("error" for failures).
func (l *lab) connect(from *testNS, n int) map[string]int {
	got := map[string]int{}
	for range n {
		var name string
		err := from.do(func() error {
			c, err := net.DialTimeout("tcp4", labVIPPort.String(), 2*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(3 * time.Second))
			name, err = bufio.NewReader(c).ReadString('\n')
			name = strings.TrimSpace(name)
			return err
		})
		if err != nil {
			l.t.Logf("connection to %v: %v", labVIPPort, err)
			name = "error"
		}
		got[name]++
	}
	return got
}

// longConn is one TCP connection through the VIP that stays open.
type longConn struct {
	c  net.Conn
	br *bufio.Reader
}

// dialLong opens a connection from ns and returns it with the name of the
// server that answered.
func (l *lab) dialLong(from *testNS) (*longConn, string, error) {
	var c net.Conn
	err := from.do(func() (err error) { c, err = net.DialTimeout("tcp4", labVIPPort.String(), 2*time.Second); return err })
	if err != nil {
		return nil, "", err
	}
	l.t.Cleanup(func() { c.Close() })
	lc := &longConn{c: c, br: bufio.NewReader(c)}
	c.SetDeadline(time.Now().Add(3 * time.Second))
	name, err := lc.br.ReadString('\n')
	return lc, strings.TrimSpace(name), err
}

// ping sends a line and returns the server's answer.
func (lc *longConn) ping() (string, error) {
	lc.c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := lc.c.Write([]byte("ping\n")); err != nil {
		return "", err
	}
	name, err := lc.br.ReadString('\n')
	return strings.TrimSpace(name), err
}

// arpAnswers asks for the VIP from the LAN client and returns the MACs that
// answered within wait.
func (l *lab) arpAnswers(wait time.Duration) ([]string, error) {
	var macs []string
	err := l.lan.do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		c, err := arp.Dial(ifi)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Request(labVIP); err != nil {
			return err
		}
		seen := map[string]bool{}
		deadline := time.Now().Add(wait)
		for time.Now().Before(deadline) {
			c.SetReadDeadline(deadline)
			p, _, err := c.Read()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				return err
			}
			if p.Operation == arp.OperationReply && p.SenderIP == labVIP && !seen[p.SenderHardwareAddr.String()] {
				seen[p.SenderHardwareAddr.String()] = true
				macs = append(macs, p.SenderHardwareAddr.String())
			}
		}
		return nil
	})
	return macs, err
}

// connsTo reads the namespace's IPVS connection table and returns the
// lines whose client address is from.
func connsTo(ns *testNS, from netip.Addr) ([]string, error) {
	s, err := ns.readFile("/proc/thread-self/net/ip_vs_conn")
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
