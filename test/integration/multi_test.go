package integration

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vipd/vipd/test/harness"
)

// TestMultiInstanceSyncGroup: one agent per node runs two instances (VRID
// 51 IPv4, VRID 52 IPv6, two VIPs each) in one sync group. Only the IPv4
// instance of n1 tracks a script; when it fails, both instances move to n2
// and when it recovers both come back. With weight 0 the failing member is
// in FAULT and the group follows (keepalived's behaviour: it ignores track
// weights inside sync groups unless sync_group_tracking_weight is set);
// with a weight the failing member only loses priority.
func TestMultiInstanceSyncGroup(t *testing.T) {
	for _, tt := range []struct {
		name    string
		weight  int
		n1State string // state of n1's members while the track fails
	}{
		{name: "weight0_fault", weight: 0, n1State: "FAULT"},
		// keepalived (and vipd) ignore the weight inside a sync group: the
		// failure is a FAULT, and the group moves to n2 and stays there.
		{name: "weight-60", weight: -60, n1State: "FAULT"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			testSyncGroup(t, tt.weight, tt.n1State)
		})
	}
}

func testSyncGroup(t *testing.T, weight int, n1State string) {
	b := harness.New(t, 2)
	dir := t.TempDir()
	startEcho(t, b)
	flag := uniqueFile(t, b, "ok")
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(flag) })

	v4 := []netip.Prefix{vip4, netip.MustParsePrefix("192.0.2.101/24")}
	v6 := []netip.Prefix{vip6, netip.MustParsePrefix("2001:db8::101/64")}
	var ps []*harness.Proc
	for i, prio := range []int{150, 100} {
		n := b.Node(i + 1)
		i4 := harness.Instance{Name: "VI_4", VRID: 51, Version: 3, Priority: prio, AdvertInterval: fast,
			Src: n.IPv4, Peers: b.PeersOf(n, false), VIPs: v4}
		i6 := harness.Instance{Name: "VI_6", VRID: 52, Version: 3, Priority: prio, AdvertInterval: fast,
			Src: n.IPv6, Peers: b.PeersOf(n, true), VIPs: v6}
		if n.Role == "n1" {
			i4.TrackScript, i4.TrackWeight, i4.TrackInterval = "test -f "+flag, weight, 200*time.Millisecond
		}
		cfg := harness.VipdConfig(n, n.StatusSocket(dir), i4, i6) +
			"sync_groups:\n  - name: G1\n    instances: [VI_4, VI_6]\n"
		path := harness.WriteFile(t, dir, n.Role+"-vipd.yaml", cfg)
		ps = append(ps, n.Start(t, n.Role+"-vipd", dir, vipd(t), "run", "-c", path))
	}
	all := append(append([]netip.Prefix{}, v4...), v6...)
	holdAll := func(want string, timeout time.Duration) {
		t.Helper()
		for _, v := range all {
			mustHolder(t, b, v.Addr(), want, timeout, ps...)
		}
		for _, v := range all {
			mustReach(t, b, v.Addr(), want)
		}
	}
	holdAll("n1", 10*time.Second)
	st, err := statusOf(t, b.Node(1), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"VI_4", "VI_6"} {
		if in, ok := st.instance(name); !ok || in.State != "MASTER" || in.SyncGroup != "G1" {
			t.Fatalf("n1 %s: %+v, want MASTER in sync group G1", name, in)
		}
	}

	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	holdAll("n2", 5*time.Second)
	// VI_6 of n1 has no track of its own but follows its group.
	for _, name := range []string{"VI_4", "VI_6"} {
		if !waitFor(time.Second, func() bool {
			st, err := statusOf(t, b.Node(1), dir)
			in, _ := st.instance(name)
			return err == nil && strings.Contains("|"+n1State+"|", "|"+in.State+"|")
		}) {
			t.Fatalf("n1 %s is not %s\n%s", name, n1State, tail(ps[0].Output(), 30))
		}
	}
	mustState(t, b.Node(2), dir, "VI_6", "MASTER", time.Second, ps[1])
	// And stays there: the group must not flap back while the track fails.
	time.Sleep(time.Second)
	for _, v := range all {
		mustHolder(t, b, v.Addr(), "n2", 0, ps...)
	}

	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	holdAll("n1", 5*time.Second)
	mustState(t, b.Node(2), dir, "VI_4", "BACKUP", time.Second, ps[1])
	mustState(t, b.Node(2), dir, "VI_6", "BACKUP", time.Second, ps[1])
}
