package bfd_test

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vipd/vipd/vrrp/bfd"
	"github.com/vipd/vipd/vrrp/bfd/bfdtest"
	"github.com/vipd/vipd/vrrp/vrrptest"
)

// The tests run every session in a testing/synctest bubble on a
// vrrptest.Clock whose settle function is synctest.Wait: time moves only in
// h.clk.Advance, and after each timer fire every goroutine has handled it.
// The fake network delivers at once. Nothing sleeps.

var (
	addrA  = netip.MustParseAddr("192.0.2.1")
	addrB  = netip.MustParseAddr("192.0.2.2")
	addrC  = netip.MustParseAddr("192.0.2.3")
	addr6  = netip.MustParseAddr("2001:db8::1")
	addr6B = netip.MustParseAddr("2001:db8::2")

	epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	eqAddr = cmpopts.EquateComparable(netip.Addr{})
)

// recorder collects the changes of one session.
type recorder struct {
	mu      sync.Mutex
	changes []bfd.Change
}

func (r *recorder) add(c bfd.Change) {
	r.mu.Lock()
	r.changes = append(r.changes, c)
	r.mu.Unlock()
}

func (r *recorder) all() []bfd.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.changes)
}

// path returns the states the session went through, from the first From.
func (r *recorder) path() []string {
	cs := r.all()
	if len(cs) == 0 {
		return nil
	}
	p := []string{cs[0].From.String()}
	for _, c := range cs {
		p = append(p, c.To.String())
	}
	return p
}

type node struct {
	addr netip.Addr
	conn *bfdtest.Conn
	mux  *bfd.Mux
}

type peer struct {
	s      *bfd.Session
	rec    *recorder
	cancel context.CancelFunc
	done   chan struct{}
}

type harness struct {
	t     *testing.T
	clk   *vrrptest.Clock
	net   *bfdtest.Network
	log   *slog.Logger
	stops []func()
}

func newHarness(t *testing.T) *harness {
	clk := vrrptest.NewClock(epoch)
	clk.SetSettle(synctest.Wait)
	w := io.Discard
	if testing.Verbose() {
		w = t.Output()
	}
	return &harness{t: t, clk: clk, net: bfdtest.NewNetwork(clk),
		log: slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))}
}

// node starts a Mux on a Conn owning addrs.
func (h *harness) node(addrs ...netip.Addr) *node {
	h.t.Helper()
	c, err := h.net.NewConn(1, addrs...)
	if err != nil {
		h.t.Fatal(err)
	}
	m, err := bfd.NewMux(c, nil, h.log.With("node", addrs[0]), h.clk)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := m.Run(ctx); err != nil {
			h.t.Errorf("mux Run: %v", err)
		}
	}()
	h.stops = append(h.stops, func() { cancel(); <-done; c.Close() })
	return &node{addr: addrs[0], conn: c, mux: m}
}

// session starts a session of n to peer with interval × mult.
func (h *harness) session(n *node, local, remote netip.Addr, interval time.Duration, mult uint8) *peer {
	h.t.Helper()
	return h.sessionCfg(n, bfd.Config{Local: local, Peer: remote, DesiredMinTx: interval, RequiredMinRx: interval, DetectMult: mult})
}

func (h *harness) sessionCfg(n *node, cfg bfd.Config) *peer {
	h.t.Helper()
	rec := new(recorder)
	s, err := n.mux.NewSession(cfg, rec.add)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &peer{s: s, rec: rec, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		if err := s.Run(ctx); err != nil {
			h.t.Errorf("session Run: %v", err)
		}
	}()
	h.stops = append([]func(){func() { cancel(); h.waitDone(p) }}, h.stops...)
	synctest.Wait()
	return p
}

// waitDone advances the clock until p's Run returned: a session that was
// Up keeps sending AdminDown for up to DetectMult intervals.
func (h *harness) waitDone(p *peer) {
	h.t.Helper()
	for range 100 {
		synctest.Wait()
		select {
		case <-p.done:
			return
		default:
		}
		h.clk.Advance(10 * time.Millisecond)
	}
	h.t.Fatal("session did not stop within 1s")
}

func (h *harness) close() {
	for _, f := range h.stops {
		f()
	}
}

// pair starts sessions a→b and b→a with interval × mult and waits until
// both are Up with the fast interval agreed.
func (h *harness) pair(interval time.Duration, mult uint8) (na, nb *node, a, b *peer) {
	h.t.Helper()
	na, nb = h.node(addrA), h.node(addrB)
	a = h.session(na, addrA, addrB, interval, mult)
	b = h.session(nb, addrB, addrA, interval, mult)
	h.clk.Advance(2 * time.Second)
	for _, p := range []*peer{a, b} {
		if st := p.s.Status(); st.State != bfd.Up || st.TxInterval != interval {
			h.t.Fatalf("after 2s: %+v, want Up with tx interval %v", st, interval)
		}
	}
	return na, nb, a, b
}

// controls returns the packets c sent (parsed) from since on.
func controls(t *testing.T, c *bfdtest.Conn, since time.Time) []sentControl {
	t.Helper()
	var out []sentControl
	for _, s := range c.Sent() {
		if s.At.Before(since) {
			continue
		}
		ctl, err := bfd.Parse(s.Packet.Payload)
		if err != nil {
			t.Fatalf("sent an invalid packet %x: %v", s.Packet.Payload, err)
		}
		out = append(out, sentControl{At: s.At, Lost: s.Lost, Control: ctl})
	}
	return out
}

type sentControl struct {
	At      time.Time
	Lost    bool
	Control bfd.Control
}

func TestThreeWayHandshake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		na, nb := h.node(addrA), h.node(addrB)
		a := h.session(na, addrA, addrB, 50*time.Millisecond, 3)
		// Alone, a stays Down and sends at the slow rate.
		h.clk.Advance(5 * time.Second)
		if got := a.s.State(); got != bfd.Down {
			t.Fatalf("alone: %v, want Down", got)
		}
		b := h.session(nb, addrB, addrA, 50*time.Millisecond, 3)
		// b sends Down at once; a: Down→Init; b: Down→Up on Init; a: Init→Up.
		for _, p := range []*peer{a, b} {
			if got := p.s.State(); got != bfd.Up {
				t.Errorf("%v: %v, want Up", p.s.Config().Peer, got)
			}
		}
		if diff := cmp.Diff([]string{"Down", "Init", "Up"}, a.rec.path()); diff != "" {
			t.Errorf("a's path (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"Down", "Up"}, b.rec.path()); diff != "" {
			t.Errorf("b's path (-want +got):\n%s", diff)
		}
		for _, c := range a.rec.all() {
			if c.Peer != addrB || c.Diag != bfd.DiagNone || !c.At.Equal(epoch.Add(5*time.Second)) {
				t.Errorf("a's change %+v: want peer %v, no diag, at 5s", c, addrB)
			}
		}
		st := a.s.Status()
		if st.RemoteDiscr != b.s.Discriminator() || st.LocalDiscr != a.s.Discriminator() || st.DetectionTime != 150*time.Millisecond {
			t.Errorf("a's status %+v: want discriminators %d/%d and detection time 150ms", st, a.s.Discriminator(), b.s.Discriminator())
		}
	})
}

// While not Up a session advertises and uses a Desired Min TX Interval of
// 1 s (RFC 5880 §6.8.3), jittered to 75–100 %.
func TestSlowTransmitWhileDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		na := h.node(addrA)
		h.session(na, addrA, addrB, 50*time.Millisecond, 3)
		h.clk.Advance(30 * time.Second)
		sent := controls(t, na.conn, epoch)
		if len(sent) < 30 || len(sent) > 41 {
			t.Fatalf("sent %d packets in 30s at 0.75–1s, want 31..41", len(sent))
		}
		if !sent[0].At.Equal(epoch) {
			t.Errorf("first packet at %v, want at once", sent[0].At.Sub(epoch))
		}
		for i, s := range sent {
			c := s.Control
			if c.State != bfd.Down || c.DesiredMinTx != time.Second || c.RequiredMinRx != 50*time.Millisecond ||
				c.YourDiscr != 0 || c.DetectMult != 3 {
				t.Fatalf("packet %d: %+v, want Down, tx 1s, rx 50ms, your discriminator 0", i, c)
			}
			if i > 0 {
				if gap := s.At.Sub(sent[i-1].At); gap < 750*time.Millisecond || gap > time.Second {
					t.Errorf("gap %d = %v, want 750ms..1s", i, gap)
				}
			}
		}
	})
}

func TestPollFinalAndFastInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		na, nb, _, _ := h.pair(50*time.Millisecond, 3)
		for _, n := range []*node{na, nb} {
			sent := controls(t, n.conn, epoch)
			// Up is reached at 0; the first Up packet that answers no Poll
			// asks with Poll for the fast interval, and the other side
			// answers with Final at once, which ends the Poll Sequence.
			firstUp, final, polls := -1, -1, 0
			for i, s := range sent {
				c := s.Control
				if c.Poll && c.Final {
					t.Fatalf("packet %d has P and F", i)
				}
				if c.State == bfd.Up && !c.Final && firstUp < 0 {
					firstUp = i
				}
				if c.Poll && c.State == bfd.Up {
					polls++
				}
				if c.Final && final < 0 {
					final = i
				}
			}
			if firstUp < 0 || !sent[firstUp].Control.Poll || sent[firstUp].Control.DesiredMinTx != 50*time.Millisecond {
				t.Fatalf("%v: first Up packet %+v, want Poll with tx 50ms", n.addr, sent[firstUp])
			}
			if final < 0 {
				t.Fatalf("%v: never sent Final", n.addr)
			}
			if polls != 1 {
				t.Errorf("%v: sent %d Up packets with Poll, want 1: the Final ends the sequence", n.addr, polls)
			}
			// Once Up, packets go every 37.5–50 ms.
			up := sent[firstUp].At
			fast := controls(t, n.conn, up.Add(time.Millisecond))
			if len(fast) < 39 || len(fast) > 54 {
				t.Errorf("%v: %d packets in the 2s after Up, want 39..54", n.addr, len(fast))
			}
			for i := 1; i < len(fast); i++ {
				if fast[i].Control.Final || fast[i-1].Control.Final {
					continue // a Final answers a Poll outside the schedule
				}
				if gap := fast[i].At.Sub(fast[i-1].At); gap < 37500*time.Microsecond || gap > 50*time.Millisecond {
					t.Errorf("%v: gap %v, want 37.5–50ms", n.addr, gap)
				}
			}
		}
	})
}

// The Detection Time is the peer's Detect Mult times the agreed interval;
// the session goes Down exactly then after the last packet, with diag 1.
func TestDetectionTime(t *testing.T) {
	tests := []struct {
		name           string
		interval       time.Duration
		multA, multB   uint8
		rxA            time.Duration // a's RequiredMinRx (0: interval)
		wantDetectionA time.Duration
	}{
		{"50ms x 3", 50 * time.Millisecond, 3, 3, 0, 150 * time.Millisecond},
		{"peer's multiplier counts", 50 * time.Millisecond, 3, 5, 0, 250 * time.Millisecond},
		{"slower required min rx wins", 50 * time.Millisecond, 3, 3, 200 * time.Millisecond, 600 * time.Millisecond},
		{"detect mult 1", 10 * time.Millisecond, 1, 1, 0, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t)
				defer h.close()
				na, nb := h.node(addrA), h.node(addrB)
				rx := tt.rxA
				if rx == 0 {
					rx = tt.interval
				}
				a := h.sessionCfg(na, bfd.Config{Local: addrA, Peer: addrB, DesiredMinTx: tt.interval, RequiredMinRx: rx, DetectMult: tt.multA})
				b := h.session(nb, addrB, addrA, tt.interval, tt.multB)
				h.clk.Advance(2 * time.Second)
				if a.s.State() != bfd.Up || b.s.State() != bfd.Up {
					t.Fatalf("not Up: %v %v", a.s.State(), b.s.State())
				}
				if got := a.s.Status().DetectionTime; got != tt.wantDetectionA {
					t.Errorf("a's detection time %v, want %v", got, tt.wantDetectionA)
				}
				if got, want := b.s.Status().TxInterval, rx; got != want {
					t.Errorf("b's tx interval %v, want %v (a's required min rx)", got, want)
				}
				h.net.Drop(addrB)
				h.clk.Advance(5 * time.Second)
				var last time.Time
				for _, s := range controls(t, nb.conn, epoch) {
					if !s.Lost {
						last = s.At
					}
				}
				if got := a.s.Status().LastRx; !got.Equal(last) {
					t.Errorf("a's LastRx %v, want %v", got, last)
				}
				cs := a.rec.all()
				got := cs[len(cs)-1]
				want := bfd.Change{Peer: addrB, From: bfd.Up, To: bfd.Down, Diag: bfd.DiagTimeExpired, RemoteState: bfd.Down,
					At: last.Add(tt.wantDetectionA)}
				if diff := cmp.Diff(want, got, eqAddr); diff != "" {
					t.Errorf("a's last change (-want +got):\n%s", diff)
				}
				// b hears nothing either (Drop is both ways) and goes Down.
				if b.s.State() != bfd.Down {
					t.Errorf("b is %v, want Down", b.s.State())
				}
				// After the link heals both come back Up.
				h.net.Heal()
				h.clk.Advance(3 * time.Second)
				if a.s.State() != bfd.Up || b.s.State() != bfd.Up {
					t.Errorf("after heal: %v %v, want Up", a.s.State(), b.s.State())
				}
			})
		})
	}
}

// A stopped session says AdminDown; the peer goes Down with diag 3 and sees
// the remote AdminDown (RFC 5882 §3.2: not a forwarding failure).
func TestPeerAdminDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		_, nb, a, b := h.pair(50*time.Millisecond, 3)
		stopAt := h.clk.Now()
		b.cancel()
		h.waitDone(b)
		// b sent AdminDown DetectMult times, one interval apart.
		var admin []time.Duration
		for _, s := range controls(t, nb.conn, stopAt) {
			if s.Control.State == bfd.AdminDown {
				admin = append(admin, s.At.Sub(stopAt))
				if s.Control.Diag != bfd.DiagAdminDown || s.Control.Poll {
					t.Errorf("AdminDown packet %+v: want diag 7, no Poll", s.Control)
				}
			}
		}
		if diff := cmp.Diff([]time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond}, admin); diff != "" {
			t.Errorf("b's AdminDown packets after stop (-want +got):\n%s", diff)
		}
		cs := a.rec.all()
		want := bfd.Change{Peer: addrB, From: bfd.Up, To: bfd.Down, Diag: bfd.DiagNeighborDown, RemoteState: bfd.AdminDown,
			At: epoch.Add(2 * time.Second)}
		if diff := cmp.Diff(want, cs[len(cs)-1], eqAddr); diff != "" {
			t.Errorf("a's last change (-want +got):\n%s", diff)
		}
		bc := b.rec.all()
		if got := bc[len(bc)-1]; got.To != bfd.AdminDown || got.Diag != bfd.DiagAdminDown {
			t.Errorf("b's last change %+v, want AdminDown", got)
		}
		// a stays Down (it only hears nothing now) and keeps sending slowly.
		h.clk.Advance(3 * time.Second)
		if a.s.State() != bfd.Down {
			t.Errorf("a is %v, want Down", a.s.State())
		}
	})
}

// A peer that says Down while we are Up takes us Down with diag 3.
func TestNeighborSignalsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		_, nb, a, b := h.pair(50*time.Millisecond, 3)
		// Inject a Down from b's discriminator, as if b had expired.
		if err := nb.conn.Send(context.Background(), bfd.Packet{Src: addrB, Dst: addrA, Payload: bfd.Append(nil, bfd.Control{
			Diag: bfd.DiagTimeExpired, State: bfd.Down, DetectMult: 3, MyDiscr: b.s.Discriminator(),
			YourDiscr: a.s.Discriminator(), DesiredMinTx: time.Second, RequiredMinRx: 50 * time.Millisecond})}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		// a goes Down (diag 3) and tells b, which goes Down too; the
		// handshake then brings both Up again at once (the fake network has
		// no delay).
		cs := a.rec.all()
		if diff := cmp.Diff([]string{"Down", "Init", "Up", "Down", "Init", "Up"}, a.rec.path()); diff != "" {
			t.Fatalf("a's path (-want +got):\n%s", diff)
		}
		if got := cs[2]; got.Diag != bfd.DiagNeighborDown || got.RemoteState != bfd.Down {
			t.Errorf("a's change to Down %+v, want neighbor signaled, remote Down", got)
		}
		if diff := cmp.Diff([]string{"Down", "Up", "Down", "Up"}, b.rec.path()); diff != "" {
			t.Errorf("b's path (-want +got):\n%s", diff)
		}
	})
}

// Packets with a TTL below 255 are discarded (GTSM).
func TestGTSM(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		h.net.SetTTL(254)
		na, nb := h.node(addrA), h.node(addrB)
		a := h.session(na, addrA, addrB, 50*time.Millisecond, 3)
		h.session(nb, addrB, addrA, 50*time.Millisecond, 3)
		h.clk.Advance(5 * time.Second)
		if a.s.State() != bfd.Down {
			t.Errorf("a is %v with TTL 254, want Down", a.s.State())
		}
		if got := na.mux.Counters().Snapshot(); got["ttl"] < 5 || len(got) != 1 {
			t.Errorf("a's drops %v, want only ttl ≥ 5", got)
		}
	})
}

// One Mux carries sessions to several peers, of both families, and
// discards what belongs to none.
func TestDemux(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		na := h.node(addrA, addr6)
		nb, nc := h.node(addrB, addr6B), h.node(addrC)
		ab := h.session(na, addrA, addrB, 50*time.Millisecond, 3)
		ab6 := h.session(na, addr6, addr6B, 20*time.Millisecond, 3)
		ac := h.session(na, addrA, addrC, 100*time.Millisecond, 3)
		h.session(nb, addrB, addrA, 50*time.Millisecond, 3)
		h.session(nb, addr6B, addr6, 20*time.Millisecond, 3)
		h.session(nc, addrC, addrA, 100*time.Millisecond, 3)
		h.clk.Advance(2 * time.Second)
		for _, p := range []*peer{ab, ab6, ac} {
			if st := p.s.Status(); st.State != bfd.Up {
				t.Errorf("session to %v: %v, want Up", st.Peer, st.State)
			}
		}
		if got := ab6.s.Status().DetectionTime; got != 60*time.Millisecond {
			t.Errorf("IPv6 session detection time %v, want 60ms", got)
		}
		if got := na.mux.Counters().Snapshot(); len(got) != 0 {
			t.Errorf("drops %v, want none", got)
		}
		// A stranger, and b using c's session's discriminator.
		inject := func(src netip.Addr, your uint32) {
			na.mux.Deliver(bfd.Packet{Src: src, Dst: addrA, TTL: 255, IfIndex: 1, Payload: bfd.Append(nil, bfd.Control{
				State: bfd.Up, DetectMult: 3, MyDiscr: 77, YourDiscr: your, DesiredMinTx: time.Second, RequiredMinRx: time.Second})})
		}
		inject(netip.MustParseAddr("192.0.2.99"), 12345)
		inject(addrB, ac.s.Discriminator())
		na.mux.Deliver(bfd.Packet{Src: addrB, Dst: addrA, TTL: 255, Payload: []byte{1, 2, 3}})
		want := map[string]int64{"no_session": 1, "wrong_peer": 1, "malformed": 1}
		if diff := cmp.Diff(want, na.mux.Counters().Snapshot()); diff != "" {
			t.Errorf("drops (-want +got):\n%s", diff)
		}
		if ac.s.State() != bfd.Up {
			t.Errorf("c's session %v after b's packet, want Up", ac.s.State())
		}
		if _, err := na.mux.NewSession(bfd.Config{Peer: addrB, DesiredMinTx: time.Second, RequiredMinRx: time.Second, DetectMult: 3}, nil); err == nil {
			t.Error("a second session to b: no error")
		}
	})
}

func TestJitter(t *testing.T) {
	tests := []struct {
		name string
		mult uint8
		r    float64
		want time.Duration
	}{
		{"least, mult 3", 3, 0, 75 * time.Millisecond},
		{"most, mult 3", 3, 0.999999, 99999975 * time.Nanosecond},
		{"half, mult 3", 3, 0.5, 87500 * time.Microsecond},
		{"least, mult 1", 1, 0, 75 * time.Millisecond},
		{"most, mult 1 stays below 90%", 1, 0.999999, 89999985 * time.Nanosecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bfd.Jitter(100*time.Millisecond, tt.mult, tt.r); got != tt.want {
				t.Errorf("Jitter = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	ok := bfd.Config{Local: addrA, Peer: addrB, DesiredMinTx: 50 * time.Millisecond, RequiredMinRx: 50 * time.Millisecond, DetectMult: 3}
	tests := []struct {
		name    string
		mod     func(*bfd.Config)
		wantErr bool
	}{
		{"valid", func(*bfd.Config) {}, false},
		{"no local", func(c *bfd.Config) { c.Local = netip.Addr{} }, false},
		{"no peer", func(c *bfd.Config) { c.Peer = netip.Addr{} }, true},
		{"mixed families", func(c *bfd.Config) { c.Peer = addr6 }, true},
		{"zero tx", func(c *bfd.Config) { c.DesiredMinTx = 0 }, true},
		{"zero rx", func(c *bfd.Config) { c.RequiredMinRx = 0 }, true},
		{"zero mult", func(c *bfd.Config) { c.DetectMult = 0 }, true},
		{"huge interval", func(c *bfd.Config) { c.DesiredMinTx = 2 * time.Hour }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			if err := c.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

// A peer whose Required Min RX Interval is 0 gets no periodic packets
// (RFC 5880 §6.8.7) until it asks for some again.
func TestRemoteMinRxZero(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		na, nb := h.node(addrA), h.node(addrB)
		a := h.session(na, addrA, addrB, 50*time.Millisecond, 3)
		send := func(rx time.Duration) {
			t.Helper()
			if err := nb.conn.Send(context.Background(), bfd.Packet{Src: addrB, Dst: addrA, Payload: bfd.Append(nil, bfd.Control{
				State: bfd.Down, DetectMult: 3, MyDiscr: 99, DesiredMinTx: time.Second, RequiredMinRx: rx})}); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
		}
		send(0)
		if a.s.State() != bfd.Init {
			t.Fatalf("a is %v, want Init", a.s.State())
		}
		since := h.clk.Now().Add(time.Nanosecond)
		h.clk.Advance(2 * time.Second) // a's detection time is 3s
		if got := controls(t, na.conn, since); len(got) != 0 {
			t.Errorf("a sent %d packets to a peer with Required Min RX 0, want none", len(got))
		}
		send(time.Second)
		since = h.clk.Now().Add(time.Nanosecond)
		h.clk.Advance(time.Second)
		if got := controls(t, na.conn, since); len(got) != 1 {
			t.Errorf("a sent %d packets in the 1s after the peer asked again, want 1", len(got))
		}
	})
}

// FuzzMuxDeliver checks that the Mux never panics on a received datagram and
// either hands it to the session or counts exactly one drop.
func FuzzMuxDeliver(f *testing.F) {
	f.Add([]byte{0x20, 0x40, 3, 24, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40, 0, 0, 0xc3, 0x50, 0, 0, 0, 0})
	f.Add([]byte{0x20, 0xc4, 3, 26, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0x0f, 0x42, 0x40, 0, 0, 0xc3, 0x50, 0, 0, 0, 0, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		net := bfdtest.NewNetwork(vrrptest.NewClock(epoch))
		c, err := net.NewConn(1, addrA)
		if err != nil {
			t.Fatal(err)
		}
		m, err := bfd.NewMux(c, nil, slog.New(slog.DiscardHandler), nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.NewSession(bfd.Config{Local: addrA, Peer: addrB, DesiredMinTx: time.Second, RequiredMinRx: time.Second, DetectMult: 3}, nil)
		if err != nil {
			t.Fatal(err)
		}
		m.Deliver(bfd.Packet{Src: addrB, Dst: addrA, IfIndex: 1, TTL: bfd.TTL, Payload: b})
		var drops int64
		for _, n := range m.Counters().Snapshot() {
			drops += n
		}
		ctl, err := bfd.Parse(b)
		accept := err == nil && !ctl.AuthPresent && (ctl.YourDiscr == 0 || ctl.YourDiscr == s.Discriminator())
		if want := map[bool]int64{true: 0, false: 1}[accept]; drops != want {
			t.Fatalf("drops %v for %x, want %d", m.Counters().Snapshot(), b, want)
		}
	})
}
