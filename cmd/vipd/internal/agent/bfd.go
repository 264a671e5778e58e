package agent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/vrrp"
	"github.com/vipd/vipd/vrrp/bfd"
)

// bfdPeers runs one BFD session per peer and tells its users when it
// changes. For the routers of instances with bfd: a session that goes from
// Up to Down (but not because the peer stopped it: AdminDown, whose
// priority-0 advert already hands over) is Master_Down for a backup whose
// master is that peer (vrrp.Router.PeerDown), with the skew time on the BFD
// interval's scale. For track_bfd (keepalived bfd_instance): the session's
// state is a track's state, up until it has been Up and went down.
type bfdPeers struct {
	a   *agent
	mux *bfd.Mux

	mu    sync.Mutex
	peers map[bfdKey]*bfdPeer
}

type bfdKey struct {
	peer netip.Addr
}

type bfdPeer struct {
	session *bfd.Session
	subs    []bfdSub
	tracks  []string // bfd_instances tracking this session
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
		k := bfdKey{peer.Unmap()}
		p := bp.session(k, bfd.Config{Local: rc.Src, Peer: peer, IfIndex: rc.IfIndex,
			DesiredMinTx: b.Interval, RequiredMinRx: b.Interval, DetectMult: b.Multiplier})
		if p == nil {
			continue
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

// session returns the peer's session, starting it with cfg if there is
// none (a session to the peer that exists is shared, with its settings).
// bp.mu is held.
func (bp *bfdPeers) session(k bfdKey, cfg bfd.Config) *bfdPeer {
	if p := bp.peers[k]; p != nil {
		return p
	}
	p := &bfdPeer{}
	s, err := bp.mux.NewSession(cfg, func(c bfd.Change) { bp.changed(k, c) })
	if err != nil {
		bp.a.log.Error("bfd session not started", "peer", cfg.Peer, "err", err)
		return nil
	}
	p.session = s
	bp.peers[k] = p
	bp.a.aux.Go(func() error {
		if err := s.Run(bp.a.auxCtx); err != nil && !errors.Is(err, context.Canceled) {
			bp.a.log.Error("bfd session ended", "peer", cfg.Peer, "err", err)
		}
		return nil
	})
	return p
}

// track makes the bfd_instance t a track of the instances naming it.
func (bp *bfdPeers) track(t plan.BFDTrack) {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	k := bfdKey{t.Session.Peer.Unmap()}
	if p := bp.session(k, t.Session); p != nil && !slices.Contains(p.tracks, t.Name) {
		p.tracks = append(p.tracks, t.Name)
	}
}

func (bp *bfdPeers) changed(k bfdKey, c bfd.Change) {
	bp.a.log.Info("bfd session changed", "peer", c.Peer, "from", c.From.String(), "to", c.To.String(),
		"diag", c.Diag.String(), "remote", c.RemoteState.String())
	bp.mu.Lock()
	var subs []bfdSub
	var tracks []string
	if p := bp.peers[k]; p != nil {
		subs, tracks = slices.Clone(p.subs), slices.Clone(p.tracks)
	}
	bp.mu.Unlock()
	if c.To == bfd.Up || c.From == bfd.Up {
		for _, name := range tracks {
			bp.a.tracks.set(plan.TrackBFD, name, c.To == bfd.Up)
		}
	}
	if c.From != bfd.Up || c.To != bfd.Down || c.RemoteState == bfd.AdminDown {
		return
	}
	for _, s := range subs {
		s.r.PeerDown(k.peer, s.base)
	}
}
