package vrrp_test

import (
	"bytes"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipd/vipd/vrrp"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines(substr string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

// TestDroppedAdvertLogged: an advert the router drops (here from a
// stranger) is logged with its reason and sender, at most once a minute
// per reason, while every packet is counted.
func TestDroppedAdvertLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		defer h.close()
		var buf lockedBuffer
		h.log = slog.New(slog.NewTextHandler(&buf, nil))
		ca, cb := unicastPair(100, 50)
		ca.Version, cb.Version = 2, 2
		ca.AuthPass, cb.AuthPass = "pw", "pw"
		_, b := h.electA(ca, cb)
		stranger, err := h.net.NewConn(addrX, 1)
		if err != nil {
			t.Fatal(err)
		}
		send := func(pass string) {
			ad := vrrp.Advert{Version: 2, VRID: 51, Priority: 254, AdvertInterval: time.Second,
				AuthType: vrrp.AuthTypeSimple, AuthData: vrrp.AuthPassword(pass), Addrs: []netip.Addr{vip}}
			if err := stranger.Send(t.Context(), 1, addrX, addrB, ad); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			send("pw")
		}
		synctest.Wait()
		if got := b.counters.Get(vrrp.DropNotPeer); got != 3 {
			t.Fatalf("counted %d not_peer drops, want 3", got)
		}
		got := buf.lines("advert dropped")
		if len(got) != 1 || !strings.Contains(got[0], "reason=not_peer") || !strings.Contains(got[0], "peer="+addrX.String()) {
			t.Fatalf("log lines after 3 drops:\n%s\nwant one naming reason=not_peer and peer=%v", strings.Join(got, "\n"), addrX)
		}
		h.advance(30 * time.Second)
		send("pw")
		synctest.Wait()
		if got := len(buf.lines("advert dropped")); got != 1 {
			t.Errorf("%d drop lines 30s later, want still 1", got)
		}
		h.advance(31 * time.Second)
		send("pw")
		synctest.Wait()
		if got := len(buf.lines("reason=not_peer")); got != 2 {
			t.Errorf("%d not_peer lines after a minute, want 2", got)
		}
		if got := b.counters.Get(vrrp.DropNotPeer); got != 5 {
			t.Errorf("counted %d not_peer drops, want 5", got)
		}
	})
}
