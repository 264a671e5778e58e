package integration

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vipd/vipd/test/harness"
	"github.com/vipd/vipd/vrrp/bfd"
)

// BFD interop with keepalived's own BFD (Debian builds it with
// --enable-bfd): a vipd bfd.Session in node 1 against a keepalived
// bfd_instance in node 2, both at 50 ms × 3, so the Detection Time is
// 150 ms on both sides.
const (
	bfdInterval = 50 * time.Millisecond
	bfdMult     = 3
	bfdDetect   = bfdMult * bfdInterval
	// bfdLoadMargin is what detection may take beyond the Detection Time
	// on the shared 2-core test machine. Unloaded, both sides detect
	// 150–153 ms after the last packet; at load averages of 5–14 (other
	// agents' builds and tests) whole-machine stalls of up to 570 ms were
	// seen, in keepalived, in vipd and in tcpdump's capture at the same
	// instant, and spawning `ip` for the cut took up to 0.8 s. The bound
	// still fails a session that fell back to the slow 1 s rate (3 s), and
	// up checks the agreed 50 ms / 150 ms exactly.
	bfdLoadMargin = time.Second
	// bfdUpTimeout bounds session establishment: both sides send at the
	// slow 1 s rate until Up (RFC 5880 §6.8.3), so a few seconds.
	bfdUpTimeout = 10 * time.Second
)

func TestBFDInteropKeepalived(t *testing.T) {
	requireKeepalived(t)
	for _, v6 := range []bool{false, true} {
		name := "ipv4"
		if v6 {
			name = "ipv6"
		}
		t.Run(name, func(t *testing.T) { testBFDInterop(t, v6) })
	}
	t.Run("ipv6_keepalived_default_hoplimit_rejected", testBFDHopLimit64)
}

// keepalived sends IPv6 BFD with hop limit 64 unless told `hoplimit 255`:
// vipd discards those packets (GTSM, RFC 5881 §5), counts them as "ttl"
// and never comes Up. The lead's keepalived config translation must set
// hoplimit 255 on IPv6 bfd_instances.
func testBFDHopLimit64(t *testing.T) {
	b := harness.New(t, 2)
	dir := t.TempDir()
	n1, n2 := b.Node(1), b.Node(2)
	conf := strings.Replace(keepalivedBFDConfig(n2, n2.IPv6, n1.IPv6), "  hoplimit 255\n", "", 1)
	startKeepalivedBFD(t, n2, dir, conf)
	v := startVipdBFD(t, n1, n1.IPv6, n2.IPv6)
	// keepalived sends at 1 s while Down: 3 s give it 3 chances.
	if !waitFor(5*time.Second, func() bool { return v.mux.Counters().Get(bfd.DropTTL) >= 2 }) {
		t.Fatalf("drops %v, want ttl ≥ 2", v.mux.Counters().Snapshot())
	}
	if st := v.s.State(); st != bfd.Down {
		t.Errorf("vipd session %v, want Down", st)
	}
}

// vipdBFD is the vipd side: a Mux and one Session in a node.
type vipdBFD struct {
	mux     *bfd.Mux
	s       *bfd.Session
	changes chan bfd.Change
	cancel  context.CancelFunc // stops the session (it sends AdminDown)
	done    chan struct{}
}

func startVipdBFD(t *testing.T, n *harness.NS, local, peer netip.Addr) *vipdBFD {
	t.Helper()
	var conn bfd.Conn
	var ifIndex int
	if err := n.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		ifIndex = ifi.Index
		conn, err = bfd.Listen()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := bfd.NewMux(conn, nil, log.With("node", n.Role), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := &vipdBFD{mux: m, changes: make(chan bfd.Change, 64), done: make(chan struct{})}
	v.s, err = m.NewSession(bfd.Config{Local: local, Peer: peer, IfIndex: ifIndex,
		DesiredMinTx: bfdInterval, RequiredMinRx: bfdInterval, DetectMult: bfdMult}, func(c bfd.Change) {
		select {
		case v.changes <- c:
		default:
			t.Errorf("change channel full, lost %+v", c)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	muxCtx, muxCancel := context.WithCancel(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	v.cancel = cancel
	muxDone := make(chan struct{})
	go func() { defer close(muxDone); _ = m.Run(muxCtx) }()
	go func() { defer close(v.done); _ = v.s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-v.done
		muxCancel()
		<-muxDone
		conn.Close()
		t.Logf("vipd bfd drops: %v", m.Counters().Snapshot())
	})
	return v
}

// drain discards the changes so far.
func (v *vipdBFD) drain() {
	for {
		select {
		case <-v.changes:
		default:
			return
		}
	}
}

func keepalivedBFDConfig(n *harness.NS, local, peer netip.Addr) string {
	hop := ""
	if peer.Is6() {
		hop = "  hoplimit 255\n" // keepalived's IPv6 default is 64, which GTSM (RFC 5881 §5) rejects
	}
	return fmt.Sprintf("global_defs {\n  router_id %s\n}\nbfd_instance vipd {\n  neighbor_ip %s\n  source_ip %s\n"+
		"  min_rx %d\n  min_tx %d\n  idle_tx 1000\n  multiplier %d\n%s}\n",
		n.Role, peer, local, bfdInterval.Milliseconds(), bfdInterval.Milliseconds(), bfdMult, hop)
}

func startKeepalivedBFD(t *testing.T, n *harness.NS, dir, conf string) *harness.Proc {
	t.Helper()
	cfg := harness.WriteFile(t, dir, n.Role+"-keepalived.conf", conf)
	pre := filepath.Join(dir, n.Role+"-ka")
	for _, s := range []string{".pid", "-bfd.pid", "-vrrp.pid", "-chk.pid"} {
		_ = os.Remove(pre + s) // a killed keepalived leaves them behind
	}
	return n.Start(t, n.Role+"-keepalived", dir, "keepalived", "-n", "-l", "-D", "-f", cfg,
		"-p", pre+".pid", "-b", pre+"-bfd.pid", "-r", pre+"-vrrp.pid", "-c", pre+"-chk.pid", "-i", n.Role)
}

var kaExpired = regexp.MustCompile(`\(vipd\) Expired after (\d+) ms \((\d+) usec overdue\)`)

func testBFDInterop(t *testing.T, v6 bool) {
	b := harness.New(t, 2)
	dir := t.TempDir()
	n1, n2 := b.Node(1), b.Node(2)
	a1, a2 := n1.IPv4, n2.IPv4
	if v6 {
		a1, a2 = n1.IPv6, n2.IPv6
	}
	conf := keepalivedBFDConfig(n2, a2, a1)
	ka := startKeepalivedBFD(t, n2, dir, conf)
	v := startVipdBFD(t, n1, a1, a2)

	// A cut link is the node's port on the bridge set down: the node loses
	// carrier but, unlike `ip link set eth0 down`, keeps its IPv6 address.
	cut := func(n *harness.NS, state string) {
		t.Helper()
		if out, err := b.Switch.IP("link", "set", n.SwitchPort, state); err != nil {
			t.Fatalf("switch port %s %s: %v: %s", n.Role, state, err, out)
		}
	}
	// up waits until the session is Up on both sides with the fast interval
	// agreed (keepalived's state is the one its packets carry), and has
	// stayed so for 3 Detection Times. A loaded machine can make a 150 ms
	// session flap; up waits the flaps out.
	up := func(phase string) {
		t.Helper()
		var since time.Time
		ok := waitFor(bfdUpTimeout, func() bool {
			st := v.s.Status()
			if st.State != bfd.Up || st.RemoteState != bfd.Up || st.TxInterval != bfdInterval || st.DetectionTime != bfdDetect {
				since = time.Time{}
				return false
			}
			if since.IsZero() || st.Since.After(since) {
				since = time.Now()
			}
			return time.Since(since) >= 3*bfdDetect
		})
		if !ok {
			t.Fatalf("%s: vipd session %+v, want Up on both sides with tx %v and detection %v\nkeepalived:\n%s",
				phase, v.s.Status(), bfdInterval, bfdDetect, tail(ka.Output(), 30))
		}
		v.drain()
	}
	// vipdDetects cuts keepalived off with cut and measures how long vipd
	// takes to declare the session Down for good (the peer cannot come
	// back, so the last change to Down after the cut is the detection).
	vipdDetects := func(phase string, cut func()) {
		t.Helper()
		start := time.Now()
		cut()
		var last bfd.Change
		deadline := time.After(bfdDetect + bfdLoadMargin + 5*bfdDetect)
	collect:
		for {
			select {
			case c := <-v.changes:
				if c.To == bfd.Down {
					last = c
				}
			case <-deadline:
				break collect
			}
		}
		if last.To != bfd.Down || v.s.State() != bfd.Down {
			t.Fatalf("%s: vipd session %v after the cut, last change %+v", phase, v.s.Status(), last)
		}
		gap := last.At.Sub(start)
		t.Logf("%s: vipd declared keepalived down %v after the cut, %v after its last packet (detection time %v)", phase,
			gap.Round(time.Millisecond), last.At.Sub(v.s.Status().LastRx).Round(time.Millisecond), bfdDetect)
		if last.Diag != bfd.DiagTimeExpired {
			t.Errorf("%s: diag %v, want %v", phase, last.Diag, bfd.DiagTimeExpired)
		}
		if sinceLast := last.At.Sub(v.s.Status().LastRx); sinceLast > bfdDetect+bfdLoadMargin {
			t.Errorf("%s: Down %v after the last packet, want ≤ %v", phase, sinceLast, bfdDetect+bfdLoadMargin)
		}
		if gap > bfdDetect+bfdLoadMargin {
			t.Errorf("%s: detected %v after the cut, want ≤ %v", phase, gap, bfdDetect+bfdLoadMargin)
		}
	}

	// 1. Up on both sides; keepalived logs it too.
	up("start")
	waitLogCount(t, ka, "(vipd) Entering Up state", 1, bfdUpTimeout)
	if d, err := time.ParseDuration(os.Getenv("VIPD_BFD_SOAK")); err == nil && !v6 {
		// Optional soak: no false Down at 50 ms × 3 on this machine.
		t.Logf("soak: holding the session for %v", d)
		soakStart := time.Now()
		select {
		case c := <-v.changes:
			t.Fatalf("soak: false change %+v after %v\nkeepalived:\n%s", c, time.Since(soakStart), tail(ka.Output(), 20))
		case <-time.After(d):
		}
	}

	// 2. keepalived is killed: vipd detects it in the Detection Time.
	vipdDetects("kill -9 keepalived", ka.Kill9)
	_ = ka.Wait(5 * time.Second)

	// 3. keepalived again, then its link is cut.
	ka = startKeepalivedBFD(t, n2, dir, conf)
	up("keepalived restarted")
	vipdDetects("keepalived's link cut", func() { cut(n2, "down") })
	cut(n2, "up")
	up("keepalived's link restored")

	// 4. The reverse: vipd's link is cut; keepalived logs how long after
	// our last packet it expired the session (a restarted keepalived
	// appends to the same log: count the lines).
	expired := len(kaExpired.FindAllString(ka.Output(), -1))
	cut(n1, "down")
	if !waitFor(bfdDetect+bfdLoadMargin+time.Second, func() bool { return len(kaExpired.FindAllString(ka.Output(), -1)) > expired }) {
		t.Fatalf("keepalived did not expire the session:\n%s", tail(ka.Output(), 30))
	}
	m := kaExpired.FindAllStringSubmatch(ka.Output(), -1)[expired]
	ms, _ := strconv.Atoi(m[1])
	t.Logf("vipd's link cut: keepalived expired the session %d ms after vipd's last packet (%s µs overdue)", ms, m[2])
	if dead := time.Duration(ms) * time.Millisecond; dead > bfdDetect+bfdLoadMargin {
		t.Errorf("keepalived expired after %v, want ≤ %v", dead, bfdDetect+bfdLoadMargin)
	}
	cut(n1, "up")
	up("vipd's link restored")

	// 5. vipd stops its session: keepalived hears AdminDown at once.
	v.cancel()
	<-v.done
	const kaAdminDown = "(vipd) Entering Down state (Local diagnostic - Neighbor Signaled Session Down, Remote diagnostic - Administratively Down)"
	waitLogCount(t, ka, kaAdminDown, 1, 2*time.Second)
}
