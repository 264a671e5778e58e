package harness

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Instance describes one VRRP instance of a node, rendered either as a vipd
// YAML config or as a keepalived.conf, so both daemons can join one group.
type Instance struct {
	Name           string
	VRID           int
	Version        int // 2 or 3
	Priority       int
	AdvertInterval time.Duration
	NoPreempt      bool
	PreemptDelay   time.Duration
	AuthPass       string // v2 only
	Src            netip.Addr
	Peers          []netip.Addr // empty: multicast
	VIPs           []netip.Prefix
	Interface      string // default eth0
	TrackScript    string // command; failure lowers priority by TrackWeight
	TrackWeight    int
	TrackInterval  time.Duration
	TrackInterface bool   // track eth0: down → FAULT
	Extra          string // raw YAML appended to the vipd instance (indented by 4)
	// KeepalivedExtra is raw keepalived.conf lines appended to the
	// vrrp_instance block (e.g. "higher_prio_send_advert").
	KeepalivedExtra string
}

func (in Instance) iface() string {
	if in.Interface == "" {
		return "eth0"
	}
	return in.Interface
}

// PeersOf returns the eth0 addresses (of the VIPs' family) of every node but self.
func (b *Bed) PeersOf(self *NS, v6 bool) []netip.Addr {
	var out []netip.Addr
	for _, n := range b.Nodes {
		if n == self {
			continue
		}
		if v6 {
			out = append(out, n.IPv6)
		} else {
			out = append(out, n.IPv4)
		}
	}
	return out
}

// VipdConfig renders a vipd YAML config for node ns.
func VipdConfig(ns *NS, sock string, ins ...Instance) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  node: %s\n  log_level: debug\n  status_socket: %s\n", ns.Role, sock)
	var scripts []string
	b.WriteString("instances:\n")
	for _, in := range ins {
		fmt.Fprintf(&b, "  - name: %s\n    interface: %s\n    vrid: %d\n    version: %d\n    priority: %d\n",
			in.Name, in.iface(), in.VRID, in.Version, in.Priority)
		fmt.Fprintf(&b, "    advert_interval: %s\n    preempt: %v\n", in.AdvertInterval, !in.NoPreempt)
		if in.PreemptDelay > 0 {
			fmt.Fprintf(&b, "    preempt_delay: %s\n", in.PreemptDelay)
		}
		if in.AuthPass != "" {
			fmt.Fprintf(&b, "    auth_pass: %q\n", in.AuthPass)
		}
		if in.Src.IsValid() {
			fmt.Fprintf(&b, "    unicast_src_ip: %s\n", in.Src)
		}
		if len(in.Peers) > 0 {
			b.WriteString("    unicast_peers: [")
			for i, p := range in.Peers {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(p.String())
			}
			b.WriteString("]\n")
		}
		b.WriteString("    vips: [")
		for i, v := range in.VIPs {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", v.String())
		}
		b.WriteString("]\n")
		if in.TrackInterface {
			fmt.Fprintf(&b, "    track_interfaces: [{name: %s, weight: 0}]\n", in.iface())
		}
		if in.TrackScript != "" {
			name := "chk_" + in.Name
			fmt.Fprintf(&b, "    track_scripts: [{name: %s}]\n", name)
			scripts = append(scripts, fmt.Sprintf("  - name: %s\n    command: %q\n    interval: %s\n    weight: %d\n    rise: 1\n    fall: 1\n",
				name, in.TrackScript, in.TrackInterval, in.TrackWeight))
		}
		if in.Extra != "" {
			for _, l := range strings.Split(strings.TrimRight(in.Extra, "\n"), "\n") {
				b.WriteString("    " + l + "\n")
			}
		}
	}
	if len(scripts) > 0 {
		b.WriteString("scripts:\n")
		for _, s := range scripts {
			b.WriteString(s)
		}
	}
	return b.String()
}

// KeepalivedConfig renders a keepalived.conf with the same instances.
func KeepalivedConfig(ns *NS, ins ...Instance) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global_defs {\n  router_id %s\n  enable_script_security\n  script_user root\n  vrrp_garp_master_delay 0\n}\n", ns.Role)
	for _, in := range ins {
		if in.TrackScript != "" {
			fmt.Fprintf(&b, "vrrp_script chk_%s {\n  script %q\n  interval %d\n  weight %d\n  rise 1\n  fall 1\n}\n",
				in.Name, in.TrackScript, max(1, int(in.TrackInterval/time.Second)), in.TrackWeight)
		}
		fmt.Fprintf(&b, "vrrp_instance %s {\n  state BACKUP\n  interface %s\n  virtual_router_id %d\n  priority %d\n",
			in.Name, in.iface(), in.VRID, in.Priority)
		fmt.Fprintf(&b, "  version %d\n  advert_int %s\n", in.Version, trimFloat(in.AdvertInterval.Seconds()))
		if in.NoPreempt {
			b.WriteString("  nopreempt\n")
		}
		if in.PreemptDelay > 0 {
			fmt.Fprintf(&b, "  preempt_delay %d\n", int(in.PreemptDelay/time.Second))
		}
		if in.AuthPass != "" {
			fmt.Fprintf(&b, "  authentication {\n    auth_type PASS\n    auth_pass %s\n  }\n", in.AuthPass)
		}
		if in.Src.IsValid() {
			fmt.Fprintf(&b, "  unicast_src_ip %s\n", in.Src)
		}
		if len(in.Peers) > 0 {
			b.WriteString("  unicast_peer {\n")
			for _, p := range in.Peers {
				fmt.Fprintf(&b, "    %s\n", p)
			}
			b.WriteString("  }\n")
		}
		b.WriteString("  virtual_ipaddress {\n")
		for _, v := range in.VIPs {
			fmt.Fprintf(&b, "    %s dev %s\n", v, in.iface())
		}
		b.WriteString("  }\n")
		if in.TrackInterface {
			fmt.Fprintf(&b, "  track_interface {\n    %s\n  }\n", in.iface())
		}
		if in.TrackScript != "" {
			fmt.Fprintf(&b, "  track_script {\n    chk_%s\n  }\n", in.Name)
		}
		for _, l := range strings.Split(strings.TrimSpace(in.KeepalivedExtra), "\n") {
			if l != "" {
				b.WriteString("  " + strings.TrimSpace(l) + "\n")
			}
		}
		b.WriteString("}\n")
	}
	return b.String()
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// WriteFile writes content to dir/name and returns the path.
func WriteFile(t TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatalf("harness: %v", err)
	}
	return p
}

// StartVipd starts vipd (binary at bin) in ns with the given instances.
func (ns *NS) StartVipd(t TB, bin, dir string, ins ...Instance) *Proc {
	t.Helper()
	sock := filepath.Join(dir, ns.Role+".sock")
	cfg := WriteFile(t, dir, ns.Role+"-vipd.yaml", VipdConfig(ns, sock, ins...))
	return ns.Start(t, ns.Role+"-vipd", dir, bin, "run", "-c", cfg)
}

// StatusSocket is where StartVipd's agent serves its status.
func (ns *NS) StatusSocket(dir string) string { return filepath.Join(dir, ns.Role+".sock") }

// StartKeepalived starts keepalived (VRRP only, foreground) in ns.
func (ns *NS) StartKeepalived(t TB, dir string, ins ...Instance) *Proc {
	t.Helper()
	cfg := WriteFile(t, dir, ns.Role+"-keepalived.conf", KeepalivedConfig(ns, ins...))
	pre := filepath.Join(dir, ns.Role+"-ka")
	return ns.Start(t, ns.Role+"-keepalived", dir, "keepalived", "--vrrp", "-n", "-l", "-D", "-f", cfg,
		"-p", pre+".pid", "-r", pre+"-vrrp.pid", "-c", pre+"-chk.pid", "-i", ns.Role)
}
