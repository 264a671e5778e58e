package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Transient receive errors (not drops, not Close) are retried after
// recvRetryDelay; after maxRecvErrors in a row Run gives up.
const (
	recvRetryDelay = 10 * time.Millisecond
	maxRecvErrors  = 100
)

// Mux reads advertisements from one Conn (one per address family per agent)
// and dispatches each to the instance registered for its family, receiving
// interface and VRID.
//
// Counting: the Mux counts, in the Counters given to NewMux (agent-wide),
// every packet the wire layer drops (malformed, version, type, checksum,
// ttl, own_packet: the *DropError reasons of Recv) and every packet no
// instance is registered for (vrid_unknown). Per-instance reasons
// (not_peer, auth, advert_interval, addr_count, queue_full, ...) are counted
// by the instance in its own Counters after delivery.
type Mux struct {
	conn     Conn
	counters *Counters
	log      *slog.Logger

	mu       sync.RWMutex
	handlers map[muxKey]*muxHandler
}

// muxKey identifies an instance on the wire. ifIndex 0 matches packets from
// any interface.
type muxKey struct {
	family  int
	ifIndex int
	vrid    uint8
}

type muxHandler struct{ deliver func(Packet) }

// NewMux returns a Mux reading from c. counters may be nil (nothing is
// counted); log must not be nil.
func NewMux(c Conn, counters *Counters, log *slog.Logger) *Mux {
	return &Mux{conn: c, counters: counters, log: log, handlers: map[muxKey]*muxHandler{}}
}

// Register routes packets of family (4 or 6) and vrid received on ifIndex
// to deliver; ifIndex 0 means any interface (an exact ifIndex registration
// is preferred). deliver runs on the Mux goroutine, so it must not block:
// hand the packet to a buffered channel and drop it when full, as
// Router.Deliver does. A second registration of the same key replaces the
// first (and is logged); the returned unregister removes this registration
// only and may be called more than once.
func (m *Mux) Register(ifIndex int, vrid uint8, family int, deliver func(Packet)) (unregister func()) {
	k := muxKey{family: family, ifIndex: ifIndex, vrid: vrid}
	h := &muxHandler{deliver: deliver}
	m.mu.Lock()
	if _, dup := m.handlers[k]; dup {
		m.log.Warn("vrid registered twice, replacing", "vrid", vrid, "iface", ifIndex)
	}
	m.handlers[k] = h
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		if m.handlers[k] == h {
			delete(m.handlers, k)
		}
		m.mu.Unlock()
	}
}

// lookup returns the handler for p, or nil.
func (m *Mux) lookup(p Packet) *muxHandler {
	k := muxKey{family: p.Family(), ifIndex: p.IfIndex, vrid: p.Advert.VRID}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if h, ok := m.handlers[k]; ok {
		return h
	}
	k.ifIndex = 0
	return m.handlers[k]
}

// Run receives and dispatches until ctx is done (it then returns nil) or the
// Conn fails for good: it returns an error wrapping net.ErrClosed once the
// Conn is closed, or the last error after maxRecvErrors consecutive
// transient failures. Run does not close the Conn.
func (m *Mux) Run(ctx context.Context) error {
	failures := 0
	for {
		p, err := m.conn.Recv(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			var de *DropError
			switch {
			case errors.As(err, &de):
				failures = 0
				m.counters.Inc(de.Reason)
				m.log.Debug("packet dropped", "reason", de.Reason.String(), "peer", p.Src, "err", err)
				continue
			case errors.Is(err, net.ErrClosed):
				return fmt.Errorf("vrrp: mux: %w", err)
			}
			failures++
			if failures >= maxRecvErrors {
				return fmt.Errorf("vrrp: mux: %d receive errors in a row: %w", failures, err)
			}
			m.log.Warn("receive failed", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(recvRetryDelay):
			}
			continue
		}
		failures = 0
		h := m.lookup(p)
		if h == nil {
			m.counters.Inc(DropVRIDUnknown)
			m.log.Debug("packet dropped", "reason", DropVRIDUnknown.String(), "vrid", p.Advert.VRID, "peer", p.Src, "iface", p.IfIndex)
			continue
		}
		h.deliver(p)
	}
}
