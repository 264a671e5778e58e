package integration

import (
	"testing"
	"time"

	"github.com/vipd/vipd/test/harness"
)

// TestKeepalivedPairBaseline checks the test bed itself with two keepalived
// nodes: if this fails, the bed (not vipd) is broken.
func TestKeepalivedPairBaseline(t *testing.T) {
	requireKeepalived(t)
	b := harness.New(t, 2)
	dir := t.TempDir()
	n1, n2 := b.Node(1), b.Node(2)
	for _, n := range b.Nodes {
		n.StartUDPEcho(t, 7777)
	}
	k1 := n1.StartKeepalived(t, dir, pairInstance(b, n1, 150, 3, 100*time.Millisecond, false))
	n2.StartKeepalived(t, dir, pairInstance(b, n2, 100, 3, 100*time.Millisecond, false))
	if h, err := b.WaitHolder(vip4.Addr(), "n1", 5*time.Second); err != nil {
		t.Fatalf("election: %v (holders %v)\n%s", err, h, k1.Output())
	}
	if got, err := b.Client.AskUDP(vip4.Addr(), 7777, time.Second); err != nil || got != "n1" {
		t.Fatalf("client via VIP: got %q, %v; want n1", got, err)
	}
	k1.Kill9()
	if h, err := b.WaitHolder(vip4.Addr(), "n2", 5*time.Second); err != nil {
		// kill -9 leaves the VIP on n1 (keepalived's known behaviour): n2 must hold it.
		if len(h) == 0 || !contains(h, "n2") {
			t.Fatalf("failover: %v", err)
		}
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
