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

// recvResult is one scripted Recv outcome of fakeConn.
type recvResult struct {
	p   Packet
	err error
}

// fakeConn replays scripted Recv results; once they are used up and the
// script is closed, Recv fails with net.ErrClosed.
type fakeConn struct{ in chan recvResult }

var _ Conn = (*fakeConn)(nil)

func (f *fakeConn) Send(context.Context, int, netip.Addr, netip.Addr, Advert) error { return nil }
func (f *fakeConn) JoinGroup(int) error                                             { return nil }
func (f *fakeConn) Close() error                                                    { return nil }
func (f *fakeConn) Recv(ctx context.Context) (Packet, error) {
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

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func pkt(src string, ifIndex int, vrid uint8) Packet {
	return Packet{Src: netip.MustParseAddr(src), IfIndex: ifIndex, TTL: 255,
		Advert: Advert{Version: 3, VRID: vrid, Priority: 100, AdvertInterval: time.Second}}
}

// recorder collects delivered packets per handler name.
type recorder struct {
	mu  sync.Mutex
	got map[string][]Packet
}

func (r *recorder) handler(name string) func(Packet) {
	return func(p Packet) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got[name] = append(r.got[name], p)
	}
}

// runScript runs a Mux over the scripted results until the script is
// exhausted (Run returns the net.ErrClosed error).
func runScript(t *testing.T, m *Mux, f *fakeConn, results []recvResult) {
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
	f := &fakeConn{in: make(chan recvResult, 32)}
	var c Counters
	m := NewMux(f, &c, discard())
	rec := &recorder{got: map[string][]Packet{}}
	m.Register(1, 10, 4, rec.handler("v4-if1-vrid10"))
	m.Register(2, 10, 4, rec.handler("v4-if2-vrid10"))
	m.Register(1, 10, 6, rec.handler("v6-if1-vrid10"))
	m.Register(0, 20, 4, rec.handler("v4-any-vrid20"))
	m.Register(3, 20, 4, rec.handler("v4-if3-vrid20"))
	unreg := m.Register(1, 30, 4, rec.handler("v4-if1-vrid30"))
	unreg()
	unreg() // twice is fine

	a, b := pkt("192.0.2.1", 1, 10), pkt("192.0.2.1", 2, 10)
	v6 := pkt("fe80::1", 1, 10)
	mapped := pkt("::ffff:192.0.2.9", 1, 10)
	any1, any2, exact3 := pkt("192.0.2.2", 1, 20), pkt("192.0.2.2", 7, 20), pkt("192.0.2.2", 3, 20)
	results := []recvResult{
		{p: a}, {p: b}, {p: v6}, {p: mapped}, {p: any1}, {p: any2}, {p: exact3},
		{p: pkt("192.0.2.1", 1, 30)},   // unregistered: vrid_unknown
		{p: pkt("192.0.2.1", 3, 10)},   // vrid 10 not on if 3: vrid_unknown
		{p: pkt("2001:db8::1", 2, 10)}, // vrid 10 on if 2 is v4 only: vrid_unknown
		{p: pkt("192.0.2.1", 1, 10), err: &DropError{Reason: DropTTL}},
		{err: dropf(DropChecksum, "x")},
		{err: fmt.Errorf("wrapped: %w", &DropError{Reason: DropMalformed})},
		{err: io.ErrUnexpectedEOF}, // transient: logged, retried
	}
	runScript(t, m, f, results)

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
	f := &fakeConn{in: make(chan recvResult, 8)}
	var c Counters
	m := NewMux(f, &c, discard())
	rec := &recorder{got: map[string][]Packet{}}
	unregOld := m.Register(1, 5, 4, rec.handler("old"))
	m.Register(1, 5, 4, rec.handler("new"))
	unregOld() // must not remove the newer registration
	p := pkt("192.0.2.1", 1, 5)
	runScript(t, m, f, []recvResult{{p: p}})
	if diff := cmp.Diff(map[string][]Packet{"new": {p}}, rec.got, addrComparer); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
}

func TestMuxRunStops(t *testing.T) {
	t.Run("context", func(t *testing.T) {
		m := NewMux(&fakeConn{in: make(chan recvResult)}, nil, discard())
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
		f := &fakeConn{in: make(chan recvResult, maxRecvErrors)}
		for range maxRecvErrors {
			f.in <- recvResult{err: io.ErrUnexpectedEOF}
		}
		m := NewMux(f, nil, discard())
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := m.Run(ctx); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("Run = %v, want the receive error after %d failures", err, maxRecvErrors)
		}
	})
}
