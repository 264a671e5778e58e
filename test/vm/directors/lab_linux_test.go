//go:build linux

package directors

import (
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/vipd/vipd/test/vm/vmnet"
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
	sw     *vmnet.NS // the bridge
	d1, d2 *director
	client *vmnet.NS
	reals  []*vmnet.RealServer
}

type director struct {
	name     string
	ns       *vmnet.NS
	lan      string // LAN address
	sync     string // sync link address
	priority int
	peer     string
	sock     string // status socket
	cfg      string // configuration file (startVipd writes it)
	proc     *proc
}

// port plugs ns's eth0 into the LAN bridge as switch port name.
func (l *lab) port(ns *vmnet.NS, name string, addrs ...string) {
	t := l.t
	t.Helper()
	vmnet.Veth(t, l.sw, name, ns, "eth0")
	l.sw.Enslave(t, name, "vdir-br")
	l.sw.Up(t, name)
	ns.Up(t, "eth0", addrs...)
}

func newLab(t *testing.T) *lab {
	t.Helper()
	l := &lab{t: t, sw: vmnet.New(t, "vdir-sw"), client: vmnet.New(t, "vdir-cli")}
	l.sw.Bridge(t, "vdir-br")
	l.sw.Up(t, "vdir-br")
	ports := []string{"vdir-br"}

	l.d1 = &director{name: "d1", ns: vmnet.New(t, "vdir-d1"), lan: "192.0.2.1", sync: "203.0.113.1", priority: 150, peer: "192.0.2.2"}
	l.d2 = &director{name: "d2", ns: vmnet.New(t, "vdir-d2"), lan: "192.0.2.2", sync: "203.0.113.2", priority: 100, peer: "192.0.2.1"}
	for _, d := range []*director{l.d1, l.d2} {
		l.port(d.ns, "vdir-"+d.name, d.lan+"/24")
		ports = append(ports, "vdir-"+d.name)
		d.sock = filepath.Join(os.TempDir(), "vdir-"+d.name+".sock")
	}
	vmnet.Veth(t, l.d1.ns, "sync0", l.d2.ns, "sync0")
	l.d1.ns.Up(t, "sync0", l.d1.sync+"/24")
	l.d2.ns.Up(t, "sync0", l.d2.sync+"/24")

	l.port(l.client, "vdir-cli", clientIP.String()+"/24")
	ports = append(ports, "vdir-cli")

	for i := range 3 {
		rs := &vmnet.RealServer{Name: fmt.Sprintf("rs%d", i+1), Addr: netip.AddrFrom4([4]byte{192, 0, 2, byte(11 + i)}), Idle: 60 * time.Second}
		rs.NS = vmnet.New(t, "vdir-"+rs.Name)
		rs.NS.Sysctl(t,
			"net/ipv4/conf/all/arp_ignore", "1", "net/ipv4/conf/all/arp_announce", "2",
			"net/ipv4/conf/default/arp_ignore", "1", "net/ipv4/conf/default/arp_announce", "2")
		l.port(rs.NS, "vdir-"+rs.Name, rs.Addr.String()+"/24")
		ports = append(ports, "vdir-"+rs.Name)
		rs.NS.AddAddr(t, "lo", vip.String()+"/32")
		rs.Start(t)
		l.reals = append(l.reals, rs)
	}

	l.sw.WaitOperUp(t, ports...)
	for _, ns := range []*vmnet.NS{l.d1.ns, l.d2.ns, l.client} {
		ns.WaitOperUp(t, "eth0")
	}
	l.d1.ns.WaitOperUp(t, "sync0")
	l.d2.ns.WaitOperUp(t, "sync0")
	for _, rs := range l.reals {
		rs.NS.WaitOperUp(t, "eth0")
	}
	// The bridge forwards once its ports have settled: wait until the
	// directors and the client reach every real server.
	deadline := time.Now().Add(10 * time.Second)
	for _, from := range []*vmnet.NS{l.d1.ns, l.d2.ns, l.client} {
		for _, rs := range l.reals {
			for !vmnet.Probe(from, netip.AddrPortFrom(rs.Addr, 80)) {
				if time.Now().After(deadline) {
					t.Fatalf("%s cannot reach %s", from.Name, rs.Name)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	return l
}

// connect makes n sequential connections to the VIP from the client and
// counts the answers per server name ("error" for failures).
func (l *lab) connect(n int) map[string]int {
	return vmnet.Connect(l.t, l.client, vipPort, n)
}

// dialLong opens a client connection through the VIP that stays open and
// returns it with the name of the server that answered.
func (l *lab) dialLong() (*vmnet.LongConn, string, error) {
	return vmnet.DialLong(l.t, l.client, vipPort)
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
		fmt.Fprintf(&b, "      - address: %s\n        checks: [{type: tcp, connect_timeout: 1s}]\n", netip.AddrPortFrom(rs.Addr, 80))
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
	d.cfg = cfg
	p := &proc{name: d.name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = vipdCommand("run", "-c", cfg)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := d.ns.Do(p.cmd.Start); err != nil {
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
		s, err = d.ns.ReadFile("/proc/thread-self/net/ip_vs")
	}
	if err != nil {
		return nil, err
	}
	return parseIPVS(s)
}

// ipvsConns returns the lines of d's /proc/net/ip_vs_conn whose client is
// from (port 0: any port).
func ipvsConns(d *director, from netip.AddrPort) ([]string, error) {
	s, err := d.ns.ReadFile("/proc/thread-self/net/ip_vs_conn")
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
	return vmnet.ARPAnswers(l.client, "eth0", vip, wait)
}

// mac returns the MAC of d's LAN interface.
func (d *director) mac(t *testing.T) string {
	t.Helper()
	return d.ns.Link(t, "eth0").Attrs().HardwareAddr.String()
}
