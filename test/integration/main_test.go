package integration

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vipd/vipd/test/harness"
)

// vipdBin is the vipd binary built once for every test of the package.
var vipdBin string

func TestMain(m *testing.M) {
	if err := harness.RequireRoot(); err != nil {
		fmt.Println("skip: integration tests:", err)
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "vipd-it-")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

// vipd builds the vipd binary once per package run and returns its path.
func vipd(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		vipdBin = filepath.Join(binDir, "vipd")
		out, err := exec.Command("go", "build", "-o", vipdBin, "../../cmd/vipd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build vipd: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return vipdBin
}

var (
	vip4 = netip.MustParsePrefix("192.0.2.100/24")
	vip6 = netip.MustParsePrefix("2001:db8::100/64")
)

// pairInstance returns the instance for node self of bed b, unicast to the others.
func pairInstance(b *harness.Bed, self *harness.NS, prio int, version int, adv time.Duration, v6 bool) harness.Instance {
	in := harness.Instance{Name: "VI_1", VRID: 51, Version: version, Priority: prio, AdvertInterval: adv,
		Src: self.IPv4, Peers: b.PeersOf(self, v6), VIPs: []netip.Prefix{vip4}}
	if v6 {
		in.Src, in.VIPs = self.IPv6, []netip.Prefix{vip6}
	}
	return in
}

func requireKeepalived(t *testing.T) {
	if _, err := exec.LookPath("keepalived"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("keepalived is not installed (CI must install it): %v", err)
		}
		t.Skip("keepalived not installed")
	}
}
