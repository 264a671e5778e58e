package vrrp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// muxRecv is one scripted Recv outcome of muxFakeConn.
type muxRecv struct {
	p   Packet
	err error
}

// muxFakeConn replays scripted Recv results; once they are used up and the
// script is closed, Recv fails with net.ErrClosed.
type muxFakeConn struct{ in chan muxRecv }

var _ Conn = (*muxFakeConn)(nil)

func (f *muxFakeConn) Send(context.Context, int, netip.Addr, netip.Addr, Advert) error { return nil }
func (f *muxFakeConn) JoinGroup(int) error                                             { return nil }
func (f *muxFakeConn) Close() error                                                    { return nil }
func (f *muxFakeConn) Recv(ctx context.Context) (Packet, error) {
	select {
	case <-ctx.Done():
		return Packet{}, ctx.Err()
	case r, ok := <-f.in:
		if !ok {
			return Packet{}, fmt.Errorf("fake: %w", net.ErrClosed)
		}
		return r.p, r.err
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func muxPkt(src string, ifIndex int, vrid uint8) Packet {
	return Packet{Src: netip.MustParseAddr(src), IfIndex: ifIndex, TTL: 255,
		Advert: Advert{Version: 3, VRID: vrid, Priority: 100, AdvertInterval: time.Second}}
}

// muxRecorder collects delivered packets per handler name.
type muxRecorder struct {
	mu  sync.Mutex
	got map[string][]Packet
}

func (r *muxRecorder) handler(name string) func(Packet) {
	return func(p Packet) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got[name] = append(r.got[name], p)
	}
}

// runMuxScript runs a Mux over the scripted results until the script is
// exhausted (Run returns the net.ErrClosed error).
func runMuxScript(t *testing.T, m *Mux, f *muxFakeConn, results []muxRecv) {
	t.Helper()
	for _, r := range results {
		f.in <- r
	}
	close(f.in)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := m.Run(ctx); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Run = %v, want net.ErrClosed at the end of the script", err)
	}
}

func TestMuxDispatch(t *testing.T) {
	f := &muxFakeConn{in: make(chan muxRecv, 32)}
	var c Counters
	m := NewMux(f, &c, discardLogger())
	rec := &muxRecorder{got: map[string][]Packet{}}
	m.Register(1, 10, 4, rec.handler("v4-if1-vrid10"))
	m.Register(2, 10, 4, rec.handler("v4-if2-vrid10"))
	m.Register(1, 10, 6, rec.handler("v6-if1-vrid10"))
	m.Register(0, 20, 4, rec.handler("v4-any-vrid20"))
	m.Register(3, 20, 4, rec.handler("v4-if3-vrid20"))
	unreg := m.Register(1, 30, 4, rec.handler("v4-if1-vrid30"))
	unreg()
	unreg() // twice is fine

	a, b := muxPkt("192.0.2.1", 1, 10), muxPkt("192.0.2.1", 2, 10)
	v6 := muxPkt("fe80::1", 1, 10)
	mapped := muxPkt("::ffff:192.0.2.9", 1, 10)
	any1, any2, exact3 := muxPkt("192.0.2.2", 1, 20), muxPkt("192.0.2.2", 7, 20), muxPkt("192.0.2.2", 3, 20)
	results := []muxRecv{
		{p: a}, {p: b}, {p: v6}, {p: mapped}, {p: any1}, {p: any2}, {p: exact3},
		{p: muxPkt("192.0.2.1", 1, 30)},   // unregistered: vrid_unknown
		{p: muxPkt("192.0.2.1", 3, 10)},   // vrid 10 not on if 3: vrid_unknown
		{p: muxPkt("2001:db8::1", 2, 10)}, // vrid 10 on if 2 is v4 only: vrid_unknown
		{p: muxPkt("192.0.2.1", 1, 10), err: &DropError{Reason: DropTTL}},
		{err: dropf(DropChecksum, "x")},
		{err: fmt.Errorf("wrapped: %w", &DropError{Reason: DropMalformed})},
		{err: io.ErrUnexpectedEOF}, // transient: logged, retried
	}
	runMuxScript(t, m, f, results)

	want := map[string][]Packet{
		"v4-if1-vrid10": {a, mapped},
		"v4-if2-vrid10": {b},
		"v6-if1-vrid10": {v6},
		"v4-any-vrid20": {any1, any2},
		"v4-if3-vrid20": {exact3},
	}
	if diff := cmp.Diff(want, rec.got, addrComparer); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	wantDrops := map[string]int64{"vrid_unknown": 3, "ttl": 1, "checksum": 1, "malformed": 1}
	for r, n := range c.Snapshot() {
		if n != wantDrops[r] {
			t.Errorf("drops[%s] = %d, want %d", r, n, wantDrops[r])
		}
	}
}

func TestMuxReplaceRegistration(t *testing.T) {
	f := &muxFakeConn{in: make(chan muxRecv, 8)}
	var c Counters
	m := NewMux(f, &c, discardLogger())
	rec := &muxRecorder{got: map[string][]Packet{}}
	unregOld := m.Register(1, 5, 4, rec.handler("old"))
	m.Register(1, 5, 4, rec.handler("new"))
	unregOld() // must not remove the newer registration
	p := muxPkt("192.0.2.1", 1, 5)
	runMuxScript(t, m, f, []muxRecv{{p: p}})
	if diff := cmp.Diff(map[string][]Packet{"new": {p}}, rec.got, addrComparer); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
}

func TestMuxRunStops(t *testing.T) {
	t.Run("context", func(t *testing.T) {
		m := NewMux(&muxFakeConn{in: make(chan muxRecv)}, nil, discardLogger())
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	})
	t.Run("persistent errors", func(t *testing.T) {
		f := &muxFakeConn{in: make(chan muxRecv, maxRecvErrors)}
		for range maxRecvErrors {
			f.in <- muxRecv{err: io.ErrUnexpectedEOF}
		}
		m := NewMux(f, nil, discardLogger())
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := m.Run(ctx); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("Run = %v, want the receive error after %d failures", err, maxRecvErrors)
		}
	})
}
