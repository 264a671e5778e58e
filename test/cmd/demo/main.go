// Command demo is vipd's live demo: two vipd nodes and a client in network
// namespaces on one bridge. The client probes the VIP (UDP, every 10 ms)
// while the demo kills the master (kill -9), brings it back, stops it with
// SIGTERM and brings it back again; every 250 ms it prints who holds the VIP,
// who answers the client, and each node's state from `vipd status`.
//
// Run as root: make demo   (or: go run ./test/cmd/demo)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vipd/vipd/test/harness"
)

var vip = netip.MustParsePrefix("192.0.2.100/24")

const port = 7777

func main() {
	bin := flag.String("vipd", "", "vipd binary (default: build ./cmd/vipd)")
	adv := flag.Duration("advert", 200*time.Millisecond, "VRRP advert interval")
	flag.Parse()
	if err := harness.RequireRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(2)
	}
	s := harness.NewStandalone()
	defer s.Close()
	if *bin == "" {
		*bin = filepath.Join(s.TempDir(), "vipd")
		fmt.Println("building vipd …")
		if out, err := exec.Command("go", "build", "-o", *bin, "./cmd/vipd").CombinedOutput(); err != nil {
			s.Fatalf("build vipd: %v\n%s", err, out)
		}
	}
	b := harness.New(s, 2)
	dir := s.TempDir()
	fmt.Printf("test bed %s: n1 %s (priority 150), n2 %s (priority 100), client %s, VIP %s, advert %v\n",
		b.Prefix, b.Node(1).IPv4, b.Node(2).IPv4, b.Client.IPv4, vip.Addr(), *adv)
	instance := func(n *harness.NS, prio int) harness.Instance {
		return harness.Instance{Name: "VI_1", VRID: 51, Version: 3, Priority: prio, AdvertInterval: *adv,
			Src: n.IPv4, Peers: b.PeersOf(n, false), VIPs: []netip.Prefix{vip}}
	}
	procs := map[string]*harness.Proc{}
	start := func(role string) {
		n := map[string]*harness.NS{"n1": b.Node(1), "n2": b.Node(2)}[role]
		prio := map[string]int{"n1": 150, "n2": 100}[role]
		procs[role] = n.StartVipd(s, *bin, dir, instance(n, prio))
	}
	for _, n := range b.Nodes {
		n.StartUDPEcho(s, port)
	}
	start("n1")
	start("n2")

	pr, err := b.Client.StartProbe(vip.Addr(), port, 10*time.Millisecond)
	if err != nil {
		s.Fatalf("probe: %v", err)
	}
	defer pr.Stop()

	show := func(title string, d time.Duration) { //nolint:unparam // each step spells its duration
		fmt.Printf("\n== %s\n", title)
		fmt.Printf("%-12s %-10s %-10s %-8s %-8s\n", "time", "VIP on", "answers", "n1", "n2")
		t0 := time.Now()
		for end := t0.Add(d); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
			h := strings.Join(b.Holders(vip.Addr()), "+")
			if h == "" {
				h = "-"
			}
			ans := "-"
			if rs := pr.Replies(); len(rs) > 0 && time.Since(rs[len(rs)-1].At) < 100*time.Millisecond {
				ans = rs[len(rs)-1].From
			}
			fmt.Printf("%-12s %-10s %-10s %-8s %-8s\n", time.Now().Format("15:04:05.000"), h, ans,
				state(*bin, b.Node(1).StatusSocket(dir)), state(*bin, b.Node(2).StatusSocket(dir)))
		}
		g := pr.LongestGap(t0, time.Now())
		fmt.Printf("longest silence seen by the client: %v\n", g.Length.Round(time.Millisecond))
	}

	show("election (n1 has the higher priority)", 2*time.Second)
	procs["n1"].Kill9()
	show("kill -9 of vipd on n1: n2 takes over after Master_Down_Interval and announces the VIP; a killed\n"+
		"   process cannot remove its address, so n1 keeps a stale copy", 2*time.Second)
	// What the systemd unit's ExecStopPost= does after any exit, SIGKILL included.
	if out, err := b.Node(1).Command(context.Background(), *bin, "cleanup", "-c", filepath.Join(dir, "n1-vipd.yaml")).CombinedOutput(); err != nil {
		s.Fatalf("vipd cleanup: %v\n%s", err, out)
	}
	show("vipd cleanup on n1 (the unit's ExecStopPost=): the stale VIP is gone, n2 alone holds it", time.Second)
	start("n1")
	show("n1 restarts and preempts", 2*time.Second)
	procs["n1"].Signal(syscall.SIGTERM)
	show("SIGTERM to n1: priority-0 advert, n1 keeps the VIP until n2 is master (no gap)", 2*time.Second)
	start("n1")
	show("n1 back", 2*time.Second)
	fmt.Println("\ndemo done; namespaces removed.")
}

// state asks a node's agent for its instance state ("down" if not running).
func state(bin, sock string) string {
	out, err := exec.Command(bin, "status", "--json", "--socket", sock).Output()
	if err != nil {
		return "down"
	}
	var st struct {
		Instances []struct{ State string } `json:"instances"`
	}
	if json.Unmarshal(out, &st) != nil || len(st.Instances) == 0 {
		return "?"
	}
	return st.Instances[0].State
}
