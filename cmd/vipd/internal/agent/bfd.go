package agent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/vipd/vipd/vrrp"
	"github.com/vipd/vipd/vrrp/bfd"
)

// bfdPeers runs one BFD session per (peer, interface) and tells the routers
// of the instances that use it when the peer dies: a session that goes from
// Up to Down (but not because the peer stopped it: AdminDown, whose
// priority-0 advert already hands over) is Master_Down for a backup whose
// master is that peer (vrrp.Router.PeerDown), with the skew time on the BFD
// interval's scale.
type bfdPeers struct {
	a   *agent
	mux *bfd.Mux

	mu    sync.Mutex
	peers map[bfdKey]*bfdPeer
}

type bfdKey struct {
	peer    netip.Addr
	ifIndex int
}

type bfdPeer struct {
	session *bfd.Session
	subs    []bfdSub
}

type bfdSub struct {
	r    *vrrp.Router
	base time.Duration
}

// openBFD starts the BFD transport and its receive loop, once.
func (a *agent) openBFD() error {
	if a.bfd != nil {
		return nil
	}
	conn, err := a.host.BFD()
	if err != nil {
		return fmt.Errorf("bfd socket: %w", err)
	}
	m, err := bfd.NewMux(conn, nil, a.log.With("part", "bfd"), a.host.Clock)
	if err != nil {
		_ = conn.Close()
		return err
	}
	a.bfd = &bfdPeers{a: a, mux: m, peers: map[bfdKey]*bfdPeer{}}
	a.aux.Go(func() error {
		if err := m.Run(a.auxCtx); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("bfd receive loop ended", "err", err)
		}
		_ = conn.Close()
		return nil
	})
	return nil
}

// watch starts (or joins) the sessions of router r's peers; the returned
// func leaves them.
func (bp *bfdPeers) watch(in *instance, r *vrrp.Router) func() {
	b := in.currentPlan().BFD
	rc := r.Config()
	sub := bfdSub{r: r, base: b.Interval}
	var keys []bfdKey
	bp.mu.Lock()
	defer bp.mu.Unlock()
	for _, peer := range rc.Peers {
		k := bfdKey{peer, rc.IfIndex}
		p := bp.peers[k]
		if p == nil {
			p = &bfdPeer{}
			s, err := bp.mux.NewSession(bfd.Config{Local: rc.Src, Peer: peer, IfIndex: rc.IfIndex,
				DesiredMinTx: b.Interval, RequiredMinRx: b.Interval, DetectMult: b.Multiplier},
				func(c bfd.Change) { bp.changed(k, c) })
			if err != nil {
				in.log.Error("bfd session not started", "peer", peer, "err", err)
				continue
			}
			p.session = s
			bp.peers[k] = p
			bp.a.aux.Go(func() error {
				if err := s.Run(bp.a.auxCtx); err != nil && !errors.Is(err, context.Canceled) {
					in.log.Error("bfd session ended", "peer", peer, "err", err)
				}
				return nil
			})
		}
		p.subs = append(p.subs, sub)
		keys = append(keys, k)
	}
	return func() {
		bp.mu.Lock()
		defer bp.mu.Unlock()
		for _, k := range keys {
			if p := bp.peers[k]; p != nil {
				p.subs = slices.DeleteFunc(p.subs, func(s bfdSub) bool { return s.r == r })
			}
		}
	}
}

func (bp *bfdPeers) changed(k bfdKey, c bfd.Change) {
	bp.a.log.Info("bfd session changed", "peer", c.Peer, "from", c.From.String(), "to", c.To.String(),
		"diag", c.Diag.String(), "remote", c.RemoteState.String())
	if c.From != bfd.Up || c.To != bfd.Down || c.RemoteState == bfd.AdminDown {
		return
	}
	bp.mu.Lock()
	var subs []bfdSub
	if p := bp.peers[k]; p != nil {
		subs = slices.Clone(p.subs)
	}
	bp.mu.Unlock()
	for _, s := range subs {
		s.r.PeerDown(k.peer, s.base)
	}
}
