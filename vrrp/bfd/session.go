package bfd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// slowTxInterval is the least bfd.DesiredMinTxInterval while the session is
// not Up (RFC 5880 §6.8.3).
const slowTxInterval = time.Second

// inboxSize is the number of received packets a Session buffers; a healthy
// session receives one per interval.
const inboxSize = 16

// sendTimeout bounds one Send.
const sendTimeout = time.Second

// Config is the configuration of one session to a directly connected peer.
type Config struct {
	// Local is the source address of our packets and the address the peer
	// sends to; invalid means the kernel picks the source and any local
	// address is accepted.
	Local netip.Addr
	// Peer is the neighbour's address (required).
	Peer netip.Addr
	// IfIndex pins the session to one interface: packets are sent out of it
	// and accepted only from it. 0 with Interface "" means any interface.
	IfIndex int
	// Interface is resolved to IfIndex by NewSession when IfIndex is 0.
	Interface string
	// DesiredMinTx is bfd.DesiredMinTxInterval while Up: how often we would
	// like to send (the peer's RequiredMinRx may slow us down). While not Up
	// at least 1 s is advertised and used (RFC 5880 §6.8.3).
	DesiredMinTx time.Duration
	// RequiredMinRx is bfd.RequiredMinRxInterval: the fastest we accept the
	// peer's packets.
	RequiredMinRx time.Duration
	// DetectMult is bfd.DetectMult: the peer declares us down after this
	// many of our intervals without a packet.
	DetectMult uint8
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if !c.Peer.IsValid() {
		errs = append(errs, errors.New("peer address is required"))
	}
	if c.Local.IsValid() && c.Peer.IsValid() && c.Local.Unmap().Is4() != c.Peer.Unmap().Is4() {
		errs = append(errs, fmt.Errorf("local %v and peer %v are of different families", c.Local, c.Peer))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"desired min tx", c.DesiredMinTx}, {"required min rx", c.RequiredMinRx}} {
		if d.v < time.Microsecond || d.v > maxInterval {
			errs = append(errs, fmt.Errorf("%s %v out of range 1µs..%v", d.name, d.v, maxInterval))
		}
	}
	if c.DetectMult == 0 {
		errs = append(errs, errors.New("detect multiplier must be at least 1"))
	}
	if c.IfIndex < 0 {
		errs = append(errs, fmt.Errorf("negative interface index %d", c.IfIndex))
	}
	return errors.Join(errs...)
}

// Change is one state change of a Session.
type Change struct {
	Peer     netip.Addr
	From, To State
	// Diag is the local diagnostic: DiagTimeExpired (no packet for the
	// detection time) or DiagNeighborDown (the peer said Down or AdminDown)
	// on To == Down, DiagAdminDown on To == AdminDown (Run stopped),
	// DiagNone otherwise.
	Diag Diag
	// RemoteState is the peer's state as last received. A Down with
	// RemoteState AdminDown means the peer disabled the session on purpose
	// (e.g. it is shutting down): RFC 5882 §3.2 says not to treat that as a
	// forwarding failure.
	RemoteState State
	At          time.Time // Clock time of the change
}

// Status is a snapshot of a Session.
type Status struct {
	Local, Peer             netip.Addr
	State, RemoteState      State
	Diag                    Diag // local diagnostic
	LocalDiscr, RemoteDiscr uint32
	// TxInterval is the interval between our packets before jitter: the
	// greater of our DesiredMinTx in effect and the peer's RequiredMinRx.
	TxInterval time.Duration
	// DetectionTime is the peer's Detect Mult times the agreed interval of
	// its packets (RFC 5880 §6.8.4); 0 until a packet was received.
	DetectionTime time.Duration
	Since         time.Time // time of the last change
	LastRx        time.Time // when the last valid packet was received; zero if never
}

// Session is one BFD session in asynchronous mode (RFC 5880 §6.8) with a
// single-hop peer (RFC 5881). Run drives it from one goroutine; State and
// Status may be called from any goroutine.
type Session struct {
	cfg      Config
	mux      *Mux
	log      *slog.Logger
	clk      Clock
	onChange func(Change)
	discr    uint32 // bfd.LocalDiscr, fixed for the life of the session

	inbox   chan Control
	running atomic.Bool
	state   atomic.Uint32 // State, for State()

	mu sync.Mutex // guards st
	st Status

	// Owned by the Run goroutine: the state variables of RFC 5880 §6.8.1.
	sessState          State         // bfd.SessionState
	remoteState        State         // bfd.RemoteSessionState
	remoteDiscr        uint32        // bfd.RemoteDiscr
	localDiag          Diag          // bfd.LocalDiag
	desiredMinTx       time.Duration // bfd.DesiredMinTxInterval in effect
	remoteMinRx        time.Duration // bfd.RemoteMinRxInterval
	remoteDesiredMinTx time.Duration // last received Desired Min TX Interval
	remoteDetectMult   uint8         // last received Detect Mult
	poll               bool          // a Poll Sequence is in progress
	txTimer            Timer
	nextTx             time.Time // when txTimer fires (zero: not armed)
	detectTimer        Timer
	sendFailing        bool // the last Send failed (log once per streak)
}

// State returns the current session state. It never blocks.
func (s *Session) State() State { return State(s.state.Load()) }

// Discriminator returns bfd.LocalDiscr, our My Discriminator.
func (s *Session) Discriminator() uint32 { return s.discr }

// Config returns the configuration of the session (IfIndex resolved).
func (s *Session) Config() Config { return s.cfg }

// Status returns a snapshot of the session.
func (s *Session) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// deliver hands a validated packet to the session without blocking; when
// the inbox is full the packet is dropped and counted.
func (s *Session) deliver(c Control) {
	select {
	case s.inbox <- c:
	default:
		s.mux.counters.Inc(DropQueueFull)
	}
}

// Run runs the session until ctx is done. It sends a first packet at once,
// then periodically. When ctx is done it reports the change to AdminDown and
// tells the peer (see stop: up to DetectMult packets over at most 1 s when
// the session was Up), then leaves the Mux and returns. It returns an error
// only if the session was already run.
func (s *Session) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return fmt.Errorf("bfd: run session to %v: already run", s.cfg.Peer)
	}
	defer s.mux.remove(s)
	if ctx.Err() != nil {
		return nil
	}
	s.txTimer = s.clk.NewTimer(time.Hour)
	s.txTimer.Stop()
	defer s.txTimer.Stop()
	s.detectTimer = s.clk.NewTimer(time.Hour)
	s.detectTimer.Stop()
	defer s.detectTimer.Stop()

	s.send(ctx, false)
	s.armTx()
	for {
		select {
		case <-ctx.Done():
			s.stop(context.WithoutCancel(ctx))
			return nil
		case c := <-s.inbox:
			s.receive(ctx, c)
		case <-s.txTimer.C():
			s.nextTx = time.Time{}
			s.send(ctx, false)
			s.armTx()
		case <-s.detectTimer.C():
			s.expire(ctx)
		}
	}
}

// maxStopTime bounds how long stop keeps telling the peer AdminDown.
const maxStopTime = time.Second

// stop moves the session to AdminDown (RFC 5880 §6.8.16). A session that
// was Up sends AdminDown DetectMult times at its interval (within
// maxStopTime), so that the peer hears it unless it would have detected a
// failure anyway; otherwise one packet is sent.
func (s *Session) stop(ctx context.Context) {
	n, gap := 1, s.txInterval()
	if s.sessState == Up {
		n = int(s.cfg.DetectMult)
	}
	if n > 1 && gap*time.Duration(n-1) > maxStopTime {
		gap = maxStopTime / time.Duration(n-1)
	}
	s.setState(AdminDown, DiagAdminDown)
	s.detectTimer.Stop()
	for i := range n {
		if i > 0 {
			s.txTimer.Reset(gap)
			<-s.txTimer.C()
		}
		s.send(ctx, false)
	}
}

// receive is the reception of a Control packet (RFC 5880 §6.8.6), after the
// Mux has validated it and found the session.
func (s *Session) receive(ctx context.Context, c Control) {
	s.remoteDiscr = c.MyDiscr
	s.remoteState = c.State
	s.remoteMinRx = c.RequiredMinRx
	s.remoteDesiredMinTx = c.DesiredMinTx
	s.remoteDetectMult = c.DetectMult
	if c.Final {
		s.poll = false // the Poll Sequence is over
	}

	from := s.sessState
	switch {
	case c.State == AdminDown:
		if s.sessState != Down {
			s.setState(Down, DiagNeighborDown)
		}
	case s.sessState == Down:
		switch c.State {
		case Down:
			s.setState(Init, DiagNone)
		case Init:
			s.setState(Up, DiagNone)
		}
	case s.sessState == Init:
		if c.State == Init || c.State == Up {
			s.setState(Up, DiagNone)
		}
	case s.sessState == Up:
		if c.State == Down {
			s.setState(Down, DiagNeighborDown)
		}
	}

	// A Poll is answered with a Final at once, outside the schedule
	// (§6.8.7); a state change is sent at once too, so the handshake takes
	// one round trip per step, not one slow interval.
	if c.Poll || s.sessState != from {
		s.send(ctx, c.Poll)
		if s.sessState != from {
			s.armTx()
		}
	}
	// A lower interval takes effect now, not at the next slow packet; a
	// peer that asked for no packets (Required Min RX 0) and now asks for
	// some gets them again.
	if d := s.txInterval(); s.nextTx.IsZero() && s.remoteMinRx != 0 || !s.nextTx.IsZero() && s.clk.Now().Add(d).Before(s.nextTx) {
		s.armTx()
	}
	s.detectTimer.Reset(s.detectionTime())
	s.mu.Lock()
	s.st.LastRx = s.clk.Now()
	s.mu.Unlock()
	s.updateStatus()
}

// expire is the expiry of the Detection Time (§6.8.1 bfd.RemoteDiscr,
// §6.8.4).
func (s *Session) expire(ctx context.Context) {
	s.remoteDiscr = 0
	s.remoteState = Down
	s.remoteMinRx = time.Microsecond // the initial value of §6.8.1
	s.remoteDesiredMinTx = 0
	s.remoteDetectMult = 0
	if s.sessState == Init || s.sessState == Up {
		s.setState(Down, DiagTimeExpired)
		s.send(ctx, false)
		s.armTx()
	}
	s.updateStatus()
}

// txInterval is the interval between periodic packets before jitter
// (§6.8.7): the greater of bfd.DesiredMinTxInterval and
// bfd.RemoteMinRxInterval.
func (s *Session) txInterval() time.Duration {
	return max(s.desiredMinTx, s.remoteMinRx)
}

// detectionTime is the Detection Time of asynchronous mode (§6.8.4).
func (s *Session) detectionTime() time.Duration {
	return time.Duration(s.remoteDetectMult) * max(s.cfg.RequiredMinRx, s.remoteDesiredMinTx)
}

// armTx schedules the next periodic packet, jittered (§6.8.7). A peer whose
// Required Min RX Interval is 0 gets no periodic packets.
func (s *Session) armTx() {
	if s.remoteMinRx == 0 {
		s.txTimer.Stop()
		s.nextTx = time.Time{}
		return
	}
	d := Jitter(s.txInterval(), s.cfg.DetectMult, rand.Float64())
	s.txTimer.Reset(d)
	s.nextTx = s.clk.Now().Add(d)
}

// Jitter returns interval d reduced by a random 0–25 % (§6.8.7), or by
// 10–25 % when detectMult is 1, so the interval is never more than 90 % of
// d; r in [0, 1) picks the point in that range.
func Jitter(d time.Duration, detectMult uint8, r float64) time.Duration {
	hi := 1.0
	if detectMult == 1 {
		hi = 0.9
	}
	return time.Duration(float64(d) * (0.75 + r*(hi-0.75)))
}

// setState changes bfd.SessionState; bfd.DesiredMinTxInterval follows it
// (at least 1 s unless Up, §6.8.3) and a change of it starts a Poll
// Sequence.
func (s *Session) setState(to State, diag Diag) {
	from := s.sessState
	if from == to {
		return
	}
	s.sessState = to
	s.localDiag = diag
	s.state.Store(uint32(to))
	desired := s.cfg.DesiredMinTx
	if to != Up {
		desired = max(desired, slowTxInterval)
	}
	if desired != s.desiredMinTx {
		s.desiredMinTx = desired
		s.poll = to != AdminDown // a session that stops polls no one
	}
	now := s.clk.Now()
	s.mu.Lock()
	s.st.Since = now
	s.mu.Unlock()
	s.updateStatus()
	s.log.Info("bfd session", "from", from.String(), "to", to.String(), "reason", diag.String(),
		"remote", s.remoteState.String())
	if s.onChange != nil {
		s.onChange(Change{Peer: s.cfg.Peer, From: from, To: to, Diag: diag, RemoteState: s.remoteState, At: now})
	}
}

func (s *Session) updateStatus() {
	s.mu.Lock()
	s.st.State = s.sessState
	s.st.RemoteState = s.remoteState
	s.st.Diag = s.localDiag
	s.st.RemoteDiscr = s.remoteDiscr
	s.st.TxInterval = s.txInterval()
	s.st.DetectionTime = s.detectionTime()
	s.mu.Unlock()
}

// send transmits one Control packet with the current state; final answers
// a Poll (and then P is not set: §6.8.7 forbids both).
func (s *Session) send(ctx context.Context, final bool) {
	c := Control{
		Version:       Version,
		Diag:          s.localDiag,
		State:         s.sessState,
		Poll:          s.poll && !final,
		Final:         final,
		DetectMult:    s.cfg.DetectMult,
		MyDiscr:       s.discr,
		YourDiscr:     s.remoteDiscr,
		DesiredMinTx:  s.desiredMinTx,
		RequiredMinRx: s.cfg.RequiredMinRx,
	}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	err := s.mux.conn.Send(sctx, Packet{Src: s.cfg.Local, Dst: s.cfg.Peer, IfIndex: s.cfg.IfIndex, Payload: Append(nil, c)})
	cancel()
	switch {
	case err != nil && !s.sendFailing:
		s.sendFailing = true
		s.log.Warn("bfd send failed", "state", s.sessState.String(), "err", err)
	case err == nil && s.sendFailing:
		s.sendFailing = false
		s.log.Info("bfd send recovered", "state", s.sessState.String())
	}
}
