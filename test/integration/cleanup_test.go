package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipd/vipd/test/harness"
)

// runCleanup runs `vipd cleanup -c cfg` inside ns and returns its output and
// error (non-nil on a non-zero exit).
func runCleanup(t *testing.T, ns *harness.NS, cfg string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := ns.Command(ctx, vipd(t), "cleanup", "-c", cfg).CombinedOutput()
	return string(out), err
}

// TestCleanupAfterKill9 (issue 11): kill -9 leaves the master's VIP on its
// interface while the peer takes over, so both nodes hold it. `vipd
// cleanup` (the unit's ExecStopPost=) removes it, and the peer then holds
// it alone and the client reaches it. While vipd runs, cleanup refuses.
func TestCleanupAfterKill9(t *testing.T) {
	b := harness.New(t, 2)
	dir := t.TempDir()
	startEcho(t, b)
	p1, p2 := startPair(t, b, dir, fast, nil)
	n1, n2 := b.Node(1), b.Node(2)
	cfg1, cfg2 := filepath.Join(dir, "n1-vipd.yaml"), filepath.Join(dir, "n2-vipd.yaml")

	// Refused while the agent runs, on the master and on the backup.
	for _, c := range []struct {
		ns  *harness.NS
		cfg string
	}{{n1, cfg1}, {n2, cfg2}} {
		out, err := runCleanup(t, c.ns, c.cfg)
		if err == nil || !strings.Contains(out, "refusing: vipd is running") {
			t.Fatalf("%s: cleanup while vipd runs: %v, output %q; want a refusal", c.ns.Role, err, out)
		}
	}
	mustHolder(t, b, vip4.Addr(), "n1", 0, p1, p2)

	p1.Kill9()
	if err := p1.Wait(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	mustState(t, n2, dir, "VI_1", "MASTER", 3*time.Second, p2)
	if !n1.HasAddr(vip4.Addr()) {
		t.Fatal("after kill -9 n1 no longer holds the VIP: the stale-VIP case this test is about did not happen")
	}

	// The config with a virtual server too: cleanup must skip IPVS cleanly
	// where it is not loaded (and remove vipd's services where it is).
	body, err := os.ReadFile(cfg1)
	if err != nil {
		t.Fatal(err)
	}
	withLVS := harness.WriteFile(t, dir, "n1-vipd-lvs.yaml", string(body)+
		"virtual_servers:\n  - address: 192.0.2.100:80\n    protocol: TCP\n    real_servers:\n      - address: 192.0.2.11:80\n")
	out, err := runCleanup(t, n1, withLVS)
	if err != nil {
		t.Fatalf("cleanup after kill -9: %v\n%s", err, out)
	}
	t.Logf("cleanup output:\n%s", out)
	mustHolder(t, b, vip4.Addr(), "n2", time.Second, p2)
	mustReach(t, b, vip4.Addr(), "n2")
	// Idempotent: a second run finds nothing and succeeds.
	if out, err := runCleanup(t, n1, cfg1); err != nil {
		t.Fatalf("second cleanup: %v\n%s", err, out)
	}
	mustState(t, n2, dir, "VI_1", "MASTER", 0, p2)
}
