package integration

import (
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vipd/vipd/test/harness"
)

// migrateConf is one keepalived.conf for both nodes of a pair, written the
// way real ones are: @ID lines per node (keepalived -i / vipd migrate
// --config-id), a $definition, comments glued to values, state MASTER with
// nopreempt (which keepalived clears), an auth_pass longer than the 8
// characters keepalived sends, and a second VIP on lo.
func migrateConf(n1, n2 *harness.NS) string {
	return fmt.Sprintf(`$VIP=192.0.2.100/24
global_defs {
@n1 router_id n1
@n2 router_id n2
    vrrp_garp_master_delay 1
}
vrrp_instance VI_1 {
@n1 state MASTER
@n2 state BACKUP
    interface eth0
    virtual_router_id 61
@n1 priority 150# the primary
@n2 priority 100# the backup
    advert_int 1
    nopreempt               ! keepalived ignores it with state MASTER
@n1 unicast_src_ip %[1]s
@n2 unicast_src_ip %[2]s
    unicast_peer {
@n1     %[2]s
@n2     %[1]s
    }
    authentication {
        auth_type PASS
        auth_pass s3cr3t-passw0rd   # keepalived sends "s3cr3t-p"
    }
    virtual_ipaddress {
        $VIP
        192.0.2.101/32 dev lo
    }
}
`, n1.IPv4, n2.IPv4)
}

// TestMigrateSideBySide runs one keepalived.conf under keepalived on both
// nodes, then its migration under vipd on both, then vipd on the primary
// with keepalived on the backup. Each time the same node must become master
// and hold the same VIPs (the one on lo too), never two nodes at once; in
// the mixed pair keepalived must accept vipd's adverts (same truncated
// password, version, interval) and take over when vipd stops.
//
// Timing: the primary starts as MASTER (priority 150), so it holds the VIPs
// once it runs; the backup would claim them only after Master_Down_Interval
// (3 × 1 s + skew ≈ 3.6 s) without adverts. Bounds: 10 s to start (daemon
// start-up plus that interval, with margin), and a 4 s watch (longer than
// Master_Down_Interval) in which nobody else may hold a VIP.
func TestMigrateSideBySide(t *testing.T) {
	b := harness.New(t, 2)
	n1, n2 := b.Node(1), b.Node(2)
	dir := t.TempDir()
	conf := harness.WriteFile(t, dir, "keepalived.conf", migrateConf(n1, n2))
	bin := vipd(t)
	vips := []netip.Addr{netip.MustParseAddr("192.0.2.100"), netip.MustParseAddr("192.0.2.101")}

	startKA := func(n *harness.NS, tag string) *harness.Proc {
		pre := filepath.Join(dir, n.Role+"-"+tag)
		return n.Start(t, n.Role+"-"+tag+"-keepalived", dir, "keepalived", "--vrrp", "-n", "-l", "-D", "-f", conf,
			"-p", pre+".pid", "-r", pre+"-vrrp.pid", "-c", pre+"-chk.pid", "-i", n.Role)
	}
	startVipd := func(n *harness.NS) *harness.Proc {
		out, err := exec.Command(bin, "migrate", "--config-id", n.Role, conf).Output()
		if err != nil {
			t.Fatalf("vipd migrate --config-id %s: %v", n.Role, err)
		}
		cfg := harness.WriteFile(t, dir, n.Role+"-migrated.yaml", string(out))
		env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir,
			"VIPD_GLOBAL_STATUS_SOCKET=" + filepath.Join(dir, n.Role+".sock")}
		return n.StartEnv(t, n.Role+"-vipd", dir, env, bin, "run", "-c", cfg)
	}
	// phase checks that n1 alone holds every VIP, and keeps them.
	phase := func(name string, procs ...*harness.Proc) {
		t.Helper()
		for _, v := range vips {
			if h, err := b.WaitHolder(v, "n1", 10*time.Second); err != nil {
				t.Fatalf("%s: %v (holders %v)\n%s", name, err, h, logs(procs))
			}
		}
		var ws []*harness.HolderWatch
		for _, v := range vips {
			ws = append(ws, b.WatchHolders(v, 50*time.Millisecond))
		}
		time.Sleep(4 * time.Second)
		for _, w := range ws {
			noDual(t, w, 0, name, procs...) // no handover in a phase: no overlap
		}
		for _, v := range vips {
			if h := b.Holders(v); len(h) != 1 || h[0] != "n1" {
				t.Errorf("%s: %s held by %v after the watch, want [n1]\n%s", name, v, h, logs(procs))
			}
		}
	}
	stop := func(ps ...*harness.Proc) {
		t.Helper()
		for _, p := range ps {
			p.Signal(syscall.SIGTERM)
		}
		for _, p := range ps {
			if err := p.Wait(10 * time.Second); err != nil && !p.Exited() {
				t.Fatalf("%s did not stop: %v", p.Name, err)
			}
		}
		for _, v := range vips {
			if h, err := b.WaitHolder(v, "", 10*time.Second); err != nil {
				t.Fatalf("after stopping: %v (holders %v)", err, h)
			}
		}
	}

	ka1, ka2 := startKA(n1, "a"), startKA(n2, "a")
	phase("keepalived pair", ka1, ka2)
	stop(ka1, ka2)

	v1, v2 := startVipd(n1), startVipd(n2)
	phase("vipd pair (migrated)", v1, v2)
	stop(v1, v2)

	m1, m2 := startVipd(n1), startKA(n2, "b")
	phase("vipd primary, keepalived backup", m1, m2)
	m1.Signal(syscall.SIGTERM)
	for _, v := range vips {
		if h, err := b.WaitHolder(v, "n2", 10*time.Second); err != nil {
			t.Fatalf("keepalived backup did not take over from vipd: %v (holders %v)\n%s", err, h, logs([]*harness.Proc{m1, m2}))
		}
	}
	stop(m2)
}

func logs(ps []*harness.Proc) string {
	var s string
	for _, p := range ps {
		s += "--- " + p.Name + ":\n" + tail(p.Output(), 30) + "\n"
	}
	return s
}
