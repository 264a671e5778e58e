//go:build linux

package directors

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"github.com/vishvananda/netlink"
)

// The lab: one LAN (192.0.2.0/24) on a bridge in its own namespace, with
// the directors d1 (192.0.2.1) and d2 (192.0.2.2), the real servers rs1..3
// (192.0.2.11..13, the VIP on lo with arp_ignore=1 and arp_announce=2, as
// LVS-DR needs) and a client (192.0.2.50). The directors have a second
// link between them (sync0, 203.0.113.1/2) for the IPVS sync daemon, so
// that taking d1's LAN link down leaves it. The VIP 192.0.2.100 is held by
// the VRRP master; the virtual service is 192.0.2.100:80, rr, DR.
var (
	vip       = netip.MustParseAddr("192.0.2.100")
	vipPort   = netip.AddrPortFrom(vip, 80)
	clientIP  = netip.MustParseAddr("192.0.2.50")
	serviceID = "TCP 192.0.2.100:80"
)

type lab struct {
	t      *testing.T
	sw     *netNS // the bridge
	d1, d2 *director
	client *netNS
	reals  []*realServer
}

type director struct {
	name     string
	ns       *netNS
	lan      string // LAN address
	sync     string // sync link address
	priority int
	peer     string
	sock     string // status socket
	proc     *proc
}

type realServer struct {
	name string
	addr netip.Addr
	ns   *netNS

	mu sync.Mutex
	ln net.Listener
}

func mustAddr(s string) *netlink.Addr {
	a, err := netlink.ParseAddr(s)
	if err != nil {
		panic(err)
	}
	return a
}

// veth creates a veth pair from a (name an) to b (name bn).
func veth(t *testing.T, a *netNS, an string, b *netNS, bn string) {
	t.Helper()
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: an}, PeerName: bn, PeerNamespace: netlink.NsFd(b.fd)}
	if err := a.nl.LinkAdd(v); err != nil {
		t.Fatalf("veth %s/%s - %s/%s: %v", a.name, an, b.name, bn, err)
	}
}

func mustLink(t *testing.T, ns *netNS, name string) netlink.Link {
	t.Helper()
	l, err := ns.nl.LinkByName(name)
	if err != nil {
		t.Fatalf("%s: link %s: %v", ns.name, name, err)
	}
	return l
}

func up(t *testing.T, ns *netNS, name string, addrs ...string) {
	t.Helper()
	l := mustLink(t, ns, name)
	for _, a := range addrs {
		if err := ns.nl.AddrAdd(l, mustAddr(a)); err != nil {
			t.Fatalf("%s: addr %s on %s: %v", ns.name, a, name, err)
		}
	}
	if err := ns.nl.LinkSetUp(l); err != nil {
		t.Fatalf("%s: %s up: %v", ns.name, name, err)
	}
}

// waitOperUp waits (bounded) until the kernel reports the links up.
func waitOperUp(t *testing.T, ns *netNS, names ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range names {
		for mustLink(t, ns, n).Attrs().OperState != netlink.OperUp {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s not up after 10s", ns.name, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// port plugs ns's eth0 into the LAN bridge as switch port name.
func (l *lab) port(ns *netNS, name string, addrs ...string) {
	t := l.t
	t.Helper()
	veth(t, l.sw, name, ns, "eth0")
	if err := l.sw.nl.LinkSetMaster(mustLink(t, l.sw, name), mustLink(t, l.sw, "vdir-br")); err != nil {
		t.Fatalf("enslave %s: %v", name, err)
	}
	up(t, l.sw, name)
	up(t, ns, "eth0", addrs...)
}

func newLab(t *testing.T) *lab {
	t.Helper()
	l := &lab{t: t, sw: newNS(t, "vdir-sw"), client: newNS(t, "vdir-cli")}
	if err := l.sw.nl.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "vdir-br"}}); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	up(t, l.sw, "vdir-br")
	ports := []string{"vdir-br"}

	l.d1 = &director{name: "d1", ns: newNS(t, "vdir-d1"), lan: "192.0.2.1", sync: "203.0.113.1", priority: 150, peer: "192.0.2.2"}
	l.d2 = &director{name: "d2", ns: newNS(t, "vdir-d2"), lan: "192.0.2.2", sync: "203.0.113.2", priority: 100, peer: "192.0.2.1"}
	for _, d := range []*director{l.d1, l.d2} {
		l.port(d.ns, "vdir-"+d.name, d.lan+"/24")
		ports = append(ports, "vdir-"+d.name)
		d.sock = filepath.Join(os.TempDir(), "vdir-"+d.name+".sock")
	}
	veth(t, l.d1.ns, "sync0", l.d2.ns, "sync0")
	up(t, l.d1.ns, "sync0", l.d1.sync+"/24")
	up(t, l.d2.ns, "sync0", l.d2.sync+"/24")

	l.port(l.client, "vdir-cli", clientIP.String()+"/24")
	ports = append(ports, "vdir-cli")

	for i := range 3 {
		rs := &realServer{name: fmt.Sprintf("rs%d", i+1), addr: netip.AddrFrom4([4]byte{192, 0, 2, byte(11 + i)})}
		rs.ns = newNS(t, "vdir-"+rs.name)
		rs.ns.sysctl(t,
			"net/ipv4/conf/all/arp_ignore", "1", "net/ipv4/conf/all/arp_announce", "2",
			"net/ipv4/conf/default/arp_ignore", "1", "net/ipv4/conf/default/arp_announce", "2")
		l.port(rs.ns, "vdir-"+rs.name, rs.addr.String()+"/24")
		ports = append(ports, "vdir-"+rs.name)
		if err := rs.ns.nl.AddrAdd(mustLink(t, rs.ns, "lo"), mustAddr(vip.String()+"/32")); err != nil {
			t.Fatalf("%s: VIP on lo: %v", rs.name, err)
		}
		rs.start(t)
		l.reals = append(l.reals, rs)
	}

	waitOperUp(t, l.sw, ports...)
	for _, ns := range []*netNS{l.d1.ns, l.d2.ns, l.client} {
		waitOperUp(t, ns, "eth0")
	}
	waitOperUp(t, l.d1.ns, "sync0")
	waitOperUp(t, l.d2.ns, "sync0")
	for _, rs := range l.reals {
		waitOperUp(t, rs.ns, "eth0")
	}
	// The bridge forwards once its ports have settled: wait until the
	// directors and the client reach every real server.
	deadline := time.Now().Add(10 * time.Second)
	for _, from := range []*netNS{l.d1.ns, l.d2.ns, l.client} {
		for _, rs := range l.reals {
			for !probe(from, netip.AddrPortFrom(rs.addr, 80)) {
				if time.Now().After(deadline) {
					t.Fatalf("%s cannot reach %s", from.name, rs.name)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	return l
}

// start listens on :80 in the server's namespace; each connection gets the
// server's name, then once more per line received.
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

// serve answers until the client closes or is idle for 60 s.
func (rs *realServer) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		c.SetDeadline(time.Now().Add(60 * time.Second))
		if _, err := fmt.Fprintf(c, "%s\n", rs.name); err != nil {
			return
		}
		if _, err := br.ReadString('\n'); err != nil {
			return
		}
	}
}

// stop closes the listener: new connections are refused (established ones
// keep being served).
func (rs *realServer) stop() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.ln != nil {
		rs.ln.Close()
		rs.ln = nil
	}
}

// probe is a TCP connect from ns.
func probe(ns *netNS, to netip.AddrPort) bool {
	err := ns.do(func() error {
		c, err := net.DialTimeout("tcp4", to.String(), 300*time.Millisecond)
		if err != nil {
			return err
		}
		return c.Close()
	})
	return err == nil
}

// connect makes n sequential connections to the VIP from the client and
// counts the answers per server name ("error" for failures).
func (l *lab) connect(n int) map[string]int {
	got := map[string]int{}
	for range n {
		var name string
		err := l.client.do(func() error {
			c, err := net.DialTimeout("tcp4", vipPort.String(), 2*time.Second)
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
			l.t.Logf("connection to %v: %v", vipPort, err)
			name = "error"
		}
		got[name]++
	}
	return got
}

// longConn is one client connection through the VIP that stays open.
type longConn struct {
	c  net.Conn
	br *bufio.Reader
}

func (l *lab) dialLong() (*longConn, string, error) {
	var c net.Conn
	err := l.client.do(func() (err error) { c, err = net.DialTimeout("tcp4", vipPort.String(), 2*time.Second); return err })
	if err != nil {
		return nil, "", err
	}
	l.t.Cleanup(func() { c.Close() })
	lc := &longConn{c: c, br: bufio.NewReader(c)}
	c.SetDeadline(time.Now().Add(3 * time.Second))
	name, err := lc.br.ReadString('\n')
	return lc, strings.TrimSpace(name), err
}

// ping sends a line and returns the server's answer within wait.
func (lc *longConn) ping(wait time.Duration) (string, error) {
	lc.c.SetDeadline(time.Now().Add(wait))
	if _, err := lc.c.Write([]byte("ping\n")); err != nil {
		return "", err
	}
	name, err := lc.br.ReadString('\n')
	return strings.TrimSpace(name), err
}

func (lc *longConn) localPort() uint16 {
	return netip.MustParseAddrPort(lc.c.LocalAddr().String()).Port()
}

// proc is one vipd process; its output is kept for failure reports.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done closes
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// vipdBin is the vipd executable: /opt/vipd in the VM (run.sh -f).
func vipdBin() string {
	if p := os.Getenv("VIPD_BIN"); p != "" {
		return p
	}
	return "/opt/vipd"
}

// vipdCommand is vipd with args and the test's environment minus VIPD_*:
// vipd reads those as configuration (VIPD_IN_VM, set by run.sh, would be
// an unknown key).
func vipdCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(vipdBin(), args...)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "VIPD_") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	return cmd
}

// config renders d's vipd configuration: one VRRP instance (unicast to the
// peer, VIP on the LAN), the DR virtual service linked to it with a TCP
// check per real server, and the sync daemon on sync0 following it.
func (l *lab) config(d *director) string {
	var b strings.Builder
	fmt.Fprintf(&b, `global:
  node: %s
  log_level: debug
  status_socket: %s
  lvs_flush: true
  lvs_sync_daemon: {interface: sync0, instance: VI_1, sync_id: 7}
instances:
  - name: VI_1
    interface: eth0
    vrid: 51
    version: 3
    priority: %d
    advert_interval: 100ms
    unicast_src_ip: %s
    unicast_peers: [%s]
    vips: [%s]
    garp: {count: 5, interval: 100ms, master_delay: 0s}
virtual_servers:
  - address: %s
    protocol: TCP
    scheduler: rr
    forwarding: DR
    delay_loop: 1s
    vrrp_instance: VI_1
    real_servers:
`, d.name, d.sock, d.priority, d.lan, d.peer, vip, vipPort)
	for _, rs := range l.reals {
		fmt.Fprintf(&b, "      - address: %s\n        checks: [{type: tcp, connect_timeout: 1s}]\n", netip.AddrPortFrom(rs.addr, 80))
	}
	return b.String()
}

// startVipd runs vipd in d's namespace: exec from the namespace's locked
// thread, so the child inherits the namespace.
func (l *lab) startVipd(d *director) {
	t := l.t
	t.Helper()
	cfg := filepath.Join(t.TempDir(), d.name+".yaml")
	if err := os.WriteFile(cfg, []byte(l.config(d)), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: d.name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = vipdCommand("run", "-c", cfg)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := d.ns.do(p.cmd.Start); err != nil {
		t.Fatalf("%s: start vipd: %v", d.name, err)
	}
	go func() { // owned by p: ends when the process exits (killed at cleanup)
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	d.proc = p
	t.Cleanup(func() {
		p.kill()
		switch {
		case os.Getenv("DIRECTORS_SHOW_LOGS") == "1":
			t.Logf("--- vipd %s output ---\n%s", d.name, p.out.String())
		case t.Failed():
			t.Logf("--- vipd %s output ---\n%s", d.name, tail(p.out.String(), 80))
		}
	})
}

// kill sends SIGKILL and waits (bounded) for the exit.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// The status socket's JSON, the fields this test reads (the contract is
// cmd/vipd/internal/agent/status.go).
type status struct {
	Node      string `json:"node"`
	Instances []struct {
		Name  string `json:"name"`
		State string `json:"state"`
	} `json:"instances"`
	Services []serviceStatus `json:"services"`
}

type serviceStatus struct {
	Name        string       `json:"name"`
	Scheduler   string       `json:"scheduler"`
	Active      bool         `json:"active"`
	RealServers []realStatus `json:"real_servers"`
}

type realStatus struct {
	Address     string `json:"address"`
	Weight      int    `json:"weight"`
	Healthy     bool   `json:"healthy"`
	CheckReason string `json:"check_reason"`
}

func (s status) state(instance string) string {
	for _, in := range s.Instances {
		if in.Name == instance {
			return in.State
		}
	}
	return ""
}

// fetchStatus reads d's status socket directly (GET /status).
func fetchStatus(d *director) (status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", d.sock)
		},
	}}
	defer c.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://vipd/status", nil)
	if err != nil {
		return status{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return status{}, err
	}
	defer resp.Body.Close()
	var st status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return status{}, fmt.Errorf("decode status: %w", err)
	}
	return st, nil
}

// ipvsTable reads d's IPVS services through its vipd process's view of
// /proc (the namespace's thread while vipd is gone).
func ipvsTable(d *director) (map[string][]ipvsDest, error) {
	var s string
	var err error
	if d.proc != nil && !d.proc.exited() {
		var b []byte
		b, err = os.ReadFile(fmt.Sprintf("/proc/%d/net/ip_vs", d.proc.cmd.Process.Pid))
		s = string(b)
	} else {
		s, err = d.ns.readFile("/proc/thread-self/net/ip_vs")
	}
	if err != nil {
		return nil, err
	}
	return parseIPVS(s)
}

// ipvsConns returns the lines of d's /proc/net/ip_vs_conn whose client is
// from (port 0: any port).
func ipvsConns(d *director, from netip.AddrPort) ([]string, error) {
	s, err := d.ns.readFile("/proc/thread-self/net/ip_vs_conn")
	if err != nil {
		return nil, err
	}
	return matchConns(s, from), nil
}

// waitFor polls cond every 50 ms until it returns true or limit passes; it
// returns the time it took and whether cond held.
func waitFor(limit time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > limit {
			return time.Since(start), false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// arpAnswers asks the LAN for the VIP from the client and returns the MACs
// that answered within wait.
func (l *lab) arpAnswers(wait time.Duration) ([]string, error) {
	macs := []string{}
	err := l.client.do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		c, err := arp.Dial(ifi)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Request(vip); err != nil {
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
			if p.Operation == arp.OperationReply && p.SenderIP == vip && !seen[p.SenderHardwareAddr.String()] {
				seen[p.SenderHardwareAddr.String()] = true
				macs = append(macs, p.SenderHardwareAddr.String())
			}
		}
		return nil
	})
	return macs, err
}

// mac returns the MAC of d's LAN interface.
func (d *director) mac(t *testing.T) string {
	t.Helper()
	return mustLink(t, d.ns, "eth0").Attrs().HardwareAddr.String()
}
