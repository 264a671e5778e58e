package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/vishvananda/netns"
)

// TB is the part of testing.TB the harness needs, so the demo and benchmark
// programs can use the harness outside `go test`.
type TB interface {
	Helper()
	Logf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// Bed is a switch namespace holding a bridge, N node namespaces and one client
// namespace, each node and the client linked to the bridge by a veth pair.
// Nodes get 192.0.2.(10+i)/24 and 2001:db8::(10+i)/64 on eth0 (i from 1);
// the client gets 192.0.2.2 and 2001:db8::2.
type Bed struct {
	t      TB
	Prefix string // unique per bed, e.g. "vt3fa2"
	Switch *NS
	Nodes  []*NS
	Client *NS
}

// NS is one network namespace of the bed.
type NS struct {
	bed  *Bed
	Name string     // namespace name
	Role string     // "n1", "n2", …, "client", "sw"
	IPv4 netip.Addr // address on eth0
	IPv6 netip.Addr
	// SwitchPort is the bridge-side veth of this namespace's eth0.
	SwitchPort string
}

// Subnet addresses used by every bed.
var (
	SubnetV4 = netip.MustParsePrefix("192.0.2.0/24")
	SubnetV6 = netip.MustParsePrefix("2001:db8::/64")
)

// RequireRoot skips (through fatal-free Logf + return false) when not root.
func RequireRoot() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("needs iproute2 (ip): %w", err)
	}
	return nil
}

// New creates a bed with n nodes; it is torn down by t.Cleanup, also on failure.
func New(t TB, n int) *Bed {
	t.Helper()
	var rb [3]byte
	_, _ = rand.Read(rb[:])
	b := &Bed{t: t, Prefix: "vt" + hex.EncodeToString(rb[:])}
	t.Cleanup(b.destroy)

	b.Switch = &NS{bed: b, Name: b.Prefix + "-sw", Role: "sw"}
	b.run("ip", "netns", "add", b.Switch.Name)
	b.Switch.mustIP("link", "add", "br0", "type", "bridge", "forward_delay", "0")
	// No IGMP/MLD snooping: multicast VRRP must flood.
	b.Switch.mustIP("link", "set", "br0", "type", "bridge", "mcast_snooping", "0")
	b.Switch.mustIP("link", "set", "br0", "up")
	b.Switch.mustIP("link", "set", "lo", "up")

	add := func(role string, host int) *NS {
		ns := &NS{bed: b, Name: b.Prefix + "-" + role, Role: role,
			IPv4: netip.AddrFrom4([4]byte{192, 0, 2, byte(host)}),
			IPv6: netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", host)),
		}
		ns.SwitchPort = b.Prefix + role
		b.run("ip", "netns", "add", ns.Name)
		b.run("ip", "link", "add", ns.SwitchPort, "netns", b.Switch.Name, "type", "veth", "peer", "name", "eth0", "netns", ns.Name)
		b.Switch.mustIP("link", "set", ns.SwitchPort, "master", "br0")
		b.Switch.mustIP("link", "set", ns.SwitchPort, "up")
		ns.mustIP("link", "set", "lo", "up")
		// IPv6 DAD would delay the addresses by a second or more.
		ns.sysctl("net.ipv6.conf.all.accept_dad", "0")
		ns.sysctl("net.ipv6.conf.default.accept_dad", "0")
		ns.sysctl("net.ipv6.conf.eth0.accept_dad", "0")
		ns.mustIP("addr", "add", ns.IPv4.String()+"/24", "dev", "eth0")
		ns.mustIP("addr", "add", ns.IPv6.String()+"/64", "dev", "eth0", "nodad")
		ns.mustIP("link", "set", "eth0", "up")
		return ns
	}
	for i := 1; i <= n; i++ {
		b.Nodes = append(b.Nodes, add(fmt.Sprintf("n%d", i), 10+i))
	}
	b.Client = add("client", 2)
	b.waitUp()
	return b
}

// waitUp waits (bounded) until every link reports carrier, so the first
// packets are not lost.
func (b *Bed) waitUp() {
	deadline := time.Now().Add(5 * time.Second)
	for _, ns := range append([]*NS{b.Client}, b.Nodes...) {
		for {
			out, _ := ns.IP("-br", "link", "show", "eth0")
			if strings.Contains(out, "UP") && !strings.Contains(out, "NO-CARRIER") {
				break
			}
			if time.Now().After(deadline) {
				b.t.Fatalf("harness: %s eth0 not up after 5s: %s", ns.Name, out)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (b *Bed) destroy() {
	for _, ns := range append(append([]*NS{b.Client}, b.Nodes...), b.Switch) {
		if ns == nil {
			continue
		}
		// Kill whatever still runs in the namespace, then delete it.
		if out, err := exec.Command("ip", "netns", "pids", ns.Name).Output(); err == nil {
			for _, p := range strings.Fields(string(out)) {
				_ = exec.Command("kill", "-9", p).Run()
			}
		}
		_ = exec.Command("ip", "netns", "del", ns.Name).Run()
	}
}

func (b *Bed) run(args ...string) {
	b.t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		b.t.Fatalf("harness: %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// Node returns node i (1-based).
func (b *Bed) Node(i int) *NS { return b.Nodes[i-1] }

// IP runs `ip -n NS args…`.
func (ns *NS) IP(args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"-n", ns.Name}, args...)...).CombinedOutput()
	return string(out), err
}

func (ns *NS) mustIP(args ...string) {
	ns.bed.t.Helper()
	if out, err := ns.IP(args...); err != nil {
		ns.bed.t.Fatalf("harness: ip -n %s %s: %v: %s", ns.Name, strings.Join(args, " "), err, out)
	}
}

func (ns *NS) sysctl(key, val string) {
	_ = exec.Command("ip", "netns", "exec", ns.Name, "sysctl", "-qw", key+"="+val).Run()
}

// Command returns an exec.Cmd that runs inside the namespace.
func (ns *NS) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// HasAddr reports whether addr is configured on any interface of the namespace.
func (ns *NS) HasAddr(addr netip.Addr) bool {
	out, err := ns.IP("-o", "addr", "show")
	if err != nil {
		return false
	}
	for _, f := range strings.Fields(out) {
		if p, err := netip.ParsePrefix(f); err == nil && p.Addr() == addr {
			return true
		}
	}
	return false
}

// LinkDown / LinkUp set the node's eth0 down or up (from inside the node).
func (ns *NS) LinkDown() error { _, err := ns.IP("link", "set", "eth0", "down"); return err }

// LinkUp sets eth0 up again.
func (ns *NS) LinkUp() error { _, err := ns.IP("link", "set", "eth0", "up"); return err }

// Do runs fn on an OS thread switched into the namespace. Sockets created by
// fn stay in the namespace after Do returns. The thread is never returned to
// the Go scheduler (it exits with the goroutine), so no other goroutine can
// inherit the namespace.
func (ns *NS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		h, err := netns.GetFromName(ns.Name)
		if err != nil {
			errc <- fmt.Errorf("netns %s: %w", ns.Name, err)
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns.Name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// Holders returns the roles of the nodes that hold addr right now.
func (b *Bed) Holders(addr netip.Addr) []string {
	var out []string
	for _, n := range b.Nodes {
		if n.HasAddr(addr) {
			out = append(out, n.Role)
		}
	}
	return out
}

// WaitHolder waits until exactly the node with role want holds addr (want ""
// means nobody), or the timeout passes.
func (b *Bed) WaitHolder(addr netip.Addr, want string, timeout time.Duration) ([]string, error) {
	deadline := time.Now().Add(timeout)
	for {
		h := b.Holders(addr)
		if (want == "" && len(h) == 0) || (len(h) == 1 && h[0] == want) {
			return h, nil
		}
		if time.Now().After(deadline) {
			return h, fmt.Errorf("after %v %s is held by %v, want %q", timeout, addr, h, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
