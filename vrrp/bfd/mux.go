package bfd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Mux runs the sessions of one agent over one Conn: it receives every
// packet on port 3784, checks the TTL (GTSM) and the wire format, and hands
// each packet to its session, found by Your Discriminator or, while the peer
// does not know our discriminator yet (it is 0), by the addresses and
// interface.
type Mux struct {
	conn     Conn
	counters *Counters
	log      *slog.Logger
	clk      Clock

	mu       sync.Mutex
	sessions map[uint32]*Session // by bfd.LocalDiscr
}

// NewMux returns a Mux over conn. counters may be nil; clk nil means the
// real clock.
func NewMux(conn Conn, counters *Counters, log *slog.Logger, clk Clock) (*Mux, error) {
	if conn == nil {
		return nil, errors.New("bfd: new mux: nil conn")
	}
	if log == nil {
		return nil, errors.New("bfd: new mux: nil logger")
	}
	if counters == nil {
		counters = new(Counters)
	}
	if clk == nil {
		clk = realClock()
	}
	return &Mux{conn: conn, counters: counters, log: log, clk: clk, sessions: make(map[uint32]*Session)}, nil
}

// Counters returns the drop counters of the Mux and its sessions.
func (m *Mux) Counters() *Counters { return m.counters }

// NewSession adds a session for cfg; onChange (may be nil) is called on the
// session's goroutine after every state change and must not block. The
// session receives packets once it is added, and leaves the Mux when its
// Run returns. Two sessions to the same peer on the same interface are an
// error.
func (m *Mux) NewSession(cfg Config, onChange func(Change)) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bfd: new session to %v: %w", cfg.Peer, err)
	}
	cfg.Local, cfg.Peer = cfg.Local.Unmap().WithZone(""), cfg.Peer.Unmap().WithZone("")
	if cfg.IfIndex == 0 && cfg.Interface != "" {
		ifi, err := net.InterfaceByName(cfg.Interface)
		if err != nil {
			return nil, fmt.Errorf("bfd: new session to %v: %w", cfg.Peer, err)
		}
		cfg.IfIndex = ifi.Index
	}
	s := &Session{
		cfg:          cfg,
		mux:          m,
		log:          m.log.With("peer", cfg.Peer),
		clk:          m.clk,
		onChange:     onChange,
		inbox:        make(chan Control, inboxSize),
		sessState:    Down,
		remoteState:  Down,
		desiredMinTx: max(cfg.DesiredMinTx, slowTxInterval),
		remoteMinRx:  time.Microsecond, // §6.8.1
	}
	s.state.Store(uint32(Down))
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.sessions {
		if o.cfg.Peer == cfg.Peer && (o.cfg.IfIndex == cfg.IfIndex || o.cfg.IfIndex == 0 || cfg.IfIndex == 0) {
			return nil, fmt.Errorf("bfd: new session to %v: a session to this peer exists", cfg.Peer)
		}
	}
	for s.discr == 0 || m.sessions[s.discr] != nil {
		s.discr = rand.Uint32()
	}
	m.sessions[s.discr] = s
	s.st = Status{Local: cfg.Local, Peer: cfg.Peer, State: Down, RemoteState: Down, LocalDiscr: s.discr,
		TxInterval: s.txInterval()}
	return s, nil
}

func (m *Mux) remove(s *Session) {
	m.mu.Lock()
	if m.sessions[s.discr] == s {
		delete(m.sessions, s.discr)
	}
	m.mu.Unlock()
}

// Run receives packets until ctx is done (it then returns nil) or the Conn
// fails.
func (m *Mux) Run(ctx context.Context) error {
	for {
		p, err := m.conn.Recv(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, net.ErrClosed):
			return fmt.Errorf("bfd: receive: %w", err)
		case err != nil:
			m.log.Warn("bfd receive failed", "err", err)
			continue
		}
		m.Deliver(p)
	}
}

// Deliver validates one received packet and hands it to its session; a
// packet that is discarded is counted under one DropReason. Run calls it;
// it never blocks.
func (m *Mux) Deliver(p Packet) {
	if r, ok := m.route(p); !ok {
		m.counters.Inc(r)
	}
}

func (m *Mux) route(p Packet) (DropReason, bool) {
	if p.TTL != TTL {
		return DropTTL, false
	}
	c, err := Parse(p.Payload)
	if err != nil {
		return DropMalformed, false
	}
	src, dst := p.Src.Unmap().WithZone(""), p.Dst.Unmap().WithZone("")
	m.mu.Lock()
	var s *Session
	if c.YourDiscr != 0 {
		s = m.sessions[c.YourDiscr]
		if s != nil && !s.matches(src, dst, p.IfIndex) {
			m.mu.Unlock()
			return DropWrongPeer, false
		}
	} else {
		for _, o := range m.sessions {
			if o.matches(src, dst, p.IfIndex) {
				s = o
				break
			}
		}
	}
	m.mu.Unlock()
	if s == nil {
		return DropNoSession, false
	}
	if c.AuthPresent {
		return DropAuth, false
	}
	c.Auth = nil // aliases the receive buffer
	s.deliver(c)
	return 0, true
}

// matches reports whether a packet from src to dst received on ifIndex
// belongs to the session.
func (s *Session) matches(src, dst netip.Addr, ifIndex int) bool {
	c := &s.cfg
	return src == c.Peer && (!c.Local.IsValid() || dst == c.Local) && (c.IfIndex == 0 || ifIndex == c.IfIndex)
}
