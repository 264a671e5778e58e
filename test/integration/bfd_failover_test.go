package integration

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/vipd/vipd/test/harness"
	"github.com/vipd/vipd/vrrp"
	"github.com/vipd/vipd/vrrp/bfd"
)

// bfdNode is a VRRP router and a BFD session to the other node, wired the
// way the agent is meant to wire them: a BFD change Up → Down that is not
// the peer's AdminDown calls Router.PeerDown with the BFD interval as the
// skew base.
type bfdNode struct {
	r     *vrrp.Router
	s     *bfd.Session
	trans chan vrrp.Transition
}

type chanHooks struct{ ch chan vrrp.Transition }

func (h chanHooks) Transition(t vrrp.Transition) {
	select {
	case h.ch <- t:
	default:
	}
}
func (chanHooks) PeerMaster(vrrp.PeerInfo) {}

func startBFDNode(t *testing.T, n *harness.NS, self, peer netip.Addr, prio uint8, withBFD bool) *bfdNode {
	t.Helper()
	var vc vrrp.Conn
	var bc bfd.Conn
	var ifIndex int
	if err := n.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		ifIndex = ifi.Index
		if vc, err = vrrp.ListenIPv4(); err != nil {
			return err
		}
		bc, err = bfd.Listen()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})).With("node", n.Role)
	bn := &bfdNode{trans: make(chan vrrp.Transition, 64)}
	var err error
	bn.r, err = vrrp.NewRouter(vrrp.Config{Name: "VI_1", VRID: 51, Version: 3, Priority: prio, AdvertInterval: time.Second,
		Preempt: true, IfIndex: ifIndex, Src: self, Peers: []netip.Addr{peer}, VIPs: []netip.Addr{vip4.Addr()}},
		vc, chanHooks{bn.trans}, nil, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	vm := vrrp.NewMux(vc, nil, log)
	vm.Register(ifIndex, 51, 4, bn.r.Deliver)
	bm, err := bfd.NewMux(bc, nil, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	bn.s, err = bm.NewSession(bfd.Config{Local: self, Peer: peer, IfIndex: ifIndex,
		DesiredMinTx: bfdInterval, RequiredMinRx: bfdInterval, DetectMult: bfdMult}, func(c bfd.Change) {
		if c.From == bfd.Up && c.To == bfd.Down && c.RemoteState != bfd.AdminDown {
			bn.r.PeerDown(c.Peer, bfdInterval)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = vm.Run(ctx) })
	wg.Go(func() { _ = bn.r.Run(ctx) })
	if withBFD {
		wg.Go(func() { _ = bm.Run(ctx) })
		wg.Go(func() { _ = bn.s.Run(ctx) })
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		vc.Close()
		bc.Close()
	})
	return bn
}

// waitState waits for the router's transition to state to.
func (bn *bfdNode) waitState(t *testing.T, to vrrp.State, timeout time.Duration) vrrp.Transition {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case tr := <-bn.trans:
			if tr.To == to {
				return tr
			}
		case <-deadline:
			t.Fatalf("router not %v after %v: %+v", to, timeout, bn.r.Status())
		}
	}
}

// TestBFDVRRPFailover measures the takeover after the master's link is cut,
// with 1 s adverts: with BFD at 50 ms × 3 the backup (priority 150) takes
// over after the Detection Time plus Skew_Time on the BFD interval
// (150 ms + 20.7 ms); without BFD after Master_Down_Interval (3 s +
// 414 ms).
func TestBFDVRRPFailover(t *testing.T) {
	for _, tt := range []struct {
		name    string
		withBFD bool
		want    time.Duration // the protocol's takeover time
	}{
		{"bfd", true, bfdDetect + (256-150)*bfdInterval/256},
		{"vrrp only", false, 3*time.Second + (256-150)*time.Second/256},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := harness.New(t, 2)
			n1, n2 := b.Node(1), b.Node(2)
			m := startBFDNode(t, n1, n1.IPv4, n2.IPv4, 200, tt.withBFD)
			bk := startBFDNode(t, n2, n2.IPv4, n1.IPv4, 150, tt.withBFD)
			m.waitState(t, vrrp.Master, 10*time.Second)
			if tt.withBFD && !waitFor(bfdUpTimeout, func() bool {
				st := bk.s.Status()
				return st.State == bfd.Up && st.RemoteState == bfd.Up && st.DetectionTime == bfdDetect
			}) {
				t.Fatalf("BFD session %+v, want Up at %v", bk.s.Status(), bfdDetect)
			}
			if !waitFor(3*time.Second, func() bool { st := bk.r.Status(); return st.State == vrrp.Backup && st.Master == n1.IPv4 }) {
				st := bk.r.Status()
				t.Fatalf("backup %+v, want BACKUP hearing %v", st, n1.IPv4)
			}
			for len(bk.trans) > 0 {
				<-bk.trans
			}
			start := time.Now()
			if out, err := b.Switch.IP("link", "set", n1.SwitchPort, "down"); err != nil {
				t.Fatalf("cut: %v: %s", err, out)
			}
			tr := bk.waitState(t, vrrp.Master, tt.want+bfdLoadMargin+time.Second)
			gap := tr.At.Sub(start)
			t.Logf("%s: backup took over %v after the master's link was cut (protocol: %v)", tt.name, gap.Round(time.Millisecond), tt.want)
			if gap > tt.want+bfdLoadMargin {
				t.Errorf("takeover after %v, want ≤ %v", gap, tt.want+bfdLoadMargin)
			}
			if tt.withBFD && gap > 3*time.Second {
				t.Errorf("takeover after %v with BFD: no faster than VRRP alone", gap)
			}
		})
	}
}
