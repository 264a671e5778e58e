package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vipd/vipd/test/harness"
)

// TestTrackBFD: keepalived's bfd_instance + track_bfd. n1 (master) tracks a
// BFD session to n2 with weight 0; n2 runs its side through its instance's
// bfd setting. When n2's link goes down the session expires (3 × 100 ms) and
// n1 goes to FAULT naming the track, as keepalived's track_bfd does.
func TestTrackBFD(t *testing.T) {
	b := harness.New(t, 2)
	dir := t.TempDir()
	n1, n2 := b.Node(1), b.Node(2)
	in1 := pairInstance(b, n1, 150, 3, 100*time.Millisecond, false)
	in1.Extra = "track_bfd: [bfd_n2]"
	cfg1 := harness.VipdConfig(n1, n1.StatusSocket(dir), in1) + fmt.Sprintf(
		"bfd_instances:\n  - {name: bfd_n2, neighbor_ip: %s, source_ip: %s, min_rx: 100ms, min_tx: 100ms, multiplier: 3}\n", n2.IPv4, n1.IPv4)
	path := harness.WriteFile(t, dir, "n1-vipd.yaml", cfg1)
	p1 := n1.Start(t, "n1-vipd", dir, vipd(t), "run", "-c", path)
	in2 := pairInstance(b, n2, 100, 3, 100*time.Millisecond, false)
	in2.Extra = "bfd: {interval: 100ms, multiplier: 3}"
	p2 := n2.StartVipd(t, vipd(t), dir, in2)
	if _, err := b.WaitHolder(vip4.Addr(), "n1", 10*time.Second); err != nil {
		t.Fatalf("election: %v\n%s", err, p1.Output())
	}
	waitBFDSteady(t, p1, p2)
	faults := strings.Count(p1.Output(), "to=FAULT")
	deadline := time.Now().Add(10 * time.Second)
	if err := n2.LinkDown(); err != nil {
		t.Fatal(err)
	}
	for strings.Count(p1.Output(), "to=FAULT") == faults {
		if time.Now().After(deadline) {
			t.Fatalf("n1 did not go to FAULT when its tracked BFD session went down:\n%s", p1.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(p1.Output(), "track bfd bfd_n2 fault") {
		t.Fatalf("the FAULT does not name the track:\n%s", p1.Output())
	}
}
