// Command benchfailover measures how long a VIP is unreachable during a
// failover, for vipd and for keepalived on the same network-namespace bed, in
// one run: a client sends a UDP probe to the VIP every millisecond and the
// longest gap between answers is reported after kill -9 of the master (with
// its service: a node crash), SIGTERM of the master (its service stays up:
// maintenance), the master's link going down, and a split brain healing
// (the master's bridge port detached for 6 s, multicast adverts, the gap
// measured from the heal; see harness.SplitBrainHeal). It also reports vipd's and
// keepalived's idle resident memory and CPU with 10 instances.
//
// Run as root: go run ./test/cmd/benchfailover [-runs 3] [-vipd bin/vipd]
package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/vipd/vipd/test/harness"
)

const echoPort = 7777

// settle is how long the probe runs before the event. It is longer than the
// kernel's neighbour locktime (1 s): a client's ARP entry for a VIP is older
// than that in real life, and a younger one ignores gratuitous ARPs.
var settle = 1500 * time.Millisecond

var vip = netip.MustParsePrefix("192.0.2.100/24")

type daemon string

const (
	vipdD       daemon = "vipd"
	keepalivedD daemon = "keepalived"
)

type event string

const (
	kill9    event = "kill -9"
	sigterm  event = "SIGTERM"
	linkDown event = "link down"
	// splitHeal: the longest gap after a 6 s split brain heals.
	splitHeal event = "split heal"
	// kill9BFD and linkDownBFD: vipd with bfd {interval: 50ms,
	// multiplier: 3} between the nodes; keepalived as it is (its
	// track_bfd puts the tracking backup in FAULT, it cannot speed up a
	// takeover), so the ratio is against keepalived's best.
	kill9BFD    event = "kill -9 bfd"
	linkDownBFD event = "link down bfd"
)

// bfdExtra is the vipd instance setting of the BFD events.
const bfdExtra = "bfd: {interval: 50ms, multiplier: 3}"

func main() {
	runs := flag.Int("runs", 3, "measurements per line (the median is reported)")
	bin := flag.String("vipd", "", "vipd binary (default: build ./cmd/vipd)")
	idle := flag.Duration("idle", 10*time.Second, "idle time for the memory/CPU figure")
	flag.DurationVar(&settle, "settle", settle, "probe time before each event")
	only := flag.String("only", "", "measure only this daemon (vipd or keepalived); no ratio")
	events := flag.String("events", "", `comma-separated events to measure (default all), e.g. "split heal"`)
	noIdle := flag.Bool("no-idle", false, "skip the idle memory/CPU figure")
	flag.Parse()
	evs := []event{kill9, sigterm, linkDown, splitHeal, kill9BFD, linkDownBFD}
	if *events != "" {
		evs = nil
		for _, e := range strings.Split(*events, ",") {
			evs = append(evs, event(strings.TrimSpace(e)))
		}
	}
	daemons := []daemon{vipdD, keepalivedD}
	if *only != "" {
		daemons = []daemon{daemon(*only)}
	}
	if err := harness.RequireRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "benchfailover:", err)
		os.Exit(2)
	}
	if _, err := exec.LookPath("keepalived"); err != nil {
		fmt.Fprintln(os.Stderr, "benchfailover: keepalived not installed (apt-get install keepalived)")
		os.Exit(2)
	}
	s := harness.NewStandalone()
	defer s.Close()
	if *bin == "" && *only != string(keepalivedD) {
		*bin = filepath.Join(s.TempDir(), "vipd")
		if out, err := exec.Command("go", "build", "-o", *bin, "./cmd/vipd").CombinedOutput(); err != nil {
			s.Fatalf("build vipd: %v\n%s", err, out)
		}
	}

	fmt.Printf("failover gap: longest interval without a UDP answer from the VIP (probe every 1 ms), median of %d\n", *runs)
	fmt.Printf("%-13s %-7s %14s %14s %8s\n", "event", "advert", "vipd", "keepalived", "ratio")
	for _, adv := range []time.Duration{time.Second, 100 * time.Millisecond} {
		for _, ev := range evs {
			med := map[daemon]time.Duration{}
			for _, d := range daemons {
				var gaps []time.Duration
				for i := 0; i < *runs; i++ {
					gaps = append(gaps, measure(*bin, d, ev, adv))
				}
				med[d] = median(gaps)
			}
			fmt.Printf("%-13s %-7s %14s %14s %8.3f\n", ev, adv, round(med[vipdD]), round(med[keepalivedD]),
				float64(med[vipdD])/float64(max(med[keepalivedD], time.Microsecond)))
		}
	}
	if *noIdle {
		return
	}
	fmt.Println()
	fmt.Printf("idle with 10 instances for %v (one node, peers silent):\n", *idle)
	fmt.Printf("%-11s %10s %12s\n", "daemon", "RSS", "CPU")
	for _, d := range daemons {
		rss, cpu := idleCost(*bin, d, *idle)
		fmt.Printf("%-11s %7d KiB %11.2f%%\n", d, rss, cpu)
	}
}

func round(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }

func median(xs []time.Duration) time.Duration {
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	return xs[len(xs)/2]
}

func instance(b *harness.Bed, n *harness.NS, prio int, adv time.Duration, vrid int) harness.Instance {
	return harness.Instance{Name: fmt.Sprintf("VI_%d", vrid), VRID: vrid, Version: 3, Priority: prio, AdvertInterval: adv,
		Src: n.IPv4, Peers: b.PeersOf(n, false), VIPs: []netip.Prefix{vip}}
}

func start(t harness.TB, n *harness.NS, bin string, d daemon, ins harness.Instance) *harness.Proc {
	if d == vipdD {
		return n.StartVipd(t, bin, t.TempDir(), ins)
	}
	return n.StartKeepalived(t, t.TempDir(), ins)
}

// measure builds a fresh bed, elects n1, triggers ev and returns the gap.
func measure(bin string, d daemon, ev event, adv time.Duration) time.Duration {
	s := harness.NewStandalone()
	defer s.Close()
	b := harness.New(s, 2)
	n1, n2 := b.Node(1), b.Node(2)
	echo1 := startEcho(s, n1)
	startEcho(s, n2)
	in1, in2 := instance(b, n1, 150, adv, 51), instance(b, n2, 100, adv, 51)
	if (ev == kill9BFD || ev == linkDownBFD) && d == vipdD {
		in1.Extra, in2.Extra = bfdExtra, bfdExtra
	}
	if ev == splitHeal {
		// Multicast, so the heal can be timed right after n2's advert; n2
		// advertises every second (see harness.SplitBrainHeal).
		in1.Peers, in2.Peers, in2.AdvertInterval = nil, nil, time.Second
	}
	p1 := start(s, n1, bin, d, in1)
	start(s, n2, bin, d, in2)
	if _, err := b.WaitHolder(vip.Addr(), "n1", 10*time.Second); err != nil {
		s.Fatalf("%s: election: %v\n%s", d, err, p1.Output())
	}
	pr, err := b.Client.StartProbe(vip.Addr(), echoPort, time.Millisecond)
	if err != nil {
		s.Fatalf("probe: %v", err)
	}
	defer pr.Stop()
	time.Sleep(settle)
	if pr.LastFrom() != "n1" {
		s.Fatalf("%s: before the event the VIP answers from %q, want n1", d, pr.LastFrom())
	}
	if ev == splitHeal {
		aw, err := b.Client.WatchAdverts()
		if err != nil {
			s.Fatalf("advert watch: %v", err)
		}
		defer aw.Stop()
		h, err := b.SplitBrainHeal(pr, n1, n2, 6*time.Second, aw)
		if err != nil {
			fmt.Fprintf(os.Stderr, "warning: %s %s advert %v: %v (counted as 15s)\n", d, ev, adv, err)
			return 15 * time.Second
		}
		return h.Gap.Length
	}
	t0 := time.Now()
	switch ev {
	case kill9, kill9BFD:
		p1.Kill9()
		echo1.Close() // the node's service dies with it
	case sigterm:
		p1.Signal(syscall.SIGTERM)
	case linkDown, linkDownBFD:
		_ = n1.LinkDown()
	}
	// Wait (bounded) until n2 answers steadily.
	deadline := t0.Add(15 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		rs := pr.Replies()
		if len(rs) > 0 && rs[len(rs)-1].From == "n2" && time.Since(rs[len(rs)-1].At) < 20*time.Millisecond {
			// Steady for 300ms more, then stop.
			time.Sleep(300 * time.Millisecond)
			break
		}
	}
	end := time.Now()
	pr.Stop()
	g := pr.LongestGap(t0.Add(-100*time.Millisecond), end)
	if pr.LastFrom() != "n2" {
		fmt.Fprintf(os.Stderr, "warning: %s %s advert %v: n2 never answered (gap counts to the end)\n", d, ev, adv)
	}
	return g.Length
}

type closer interface{ Close() }

// startEcho starts the UDP echo on n and returns a handle that stops it.
func startEcho(s *harness.Standalone, n *harness.NS) closer {
	e := harness.NewStandalone()
	n.StartUDPEcho(e, echoPort)
	s.Cleanup(e.Close)
	return e
}

// idleCost runs 10 instances on one node (peers configured but absent, so
// the node is master of all 10 and advertises every second) and returns RSS
// in KiB and CPU share of one core over the idle period.
func idleCost(bin string, d daemon, idle time.Duration) (int, float64) {
	s := harness.NewStandalone()
	defer s.Close()
	b := harness.New(s, 2)
	n1 := b.Node(1)
	var ins []harness.Instance
	for i := 0; i < 10; i++ {
		in := instance(b, n1, 150, time.Second, 60+i)
		in.VIPs = []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(200 + i)}), 24)}
		ins = append(ins, in)
	}
	var p *harness.Proc
	if d == vipdD {
		p = n1.StartVipd(s, bin, s.TempDir(), ins...)
	} else {
		p = n1.StartKeepalived(s, s.TempDir(), ins...)
	}
	time.Sleep(5 * time.Second) // elections settle
	pids := append([]int{p.Pid()}, harness.Descendants(p.Pid())...)
	c0 := harness.CPUTicks(pids...)
	t0 := time.Now()
	time.Sleep(idle)
	c1 := harness.CPUTicks(pids...)
	el := time.Since(t0).Seconds()
	rss := 0
	for _, pid := range pids {
		rss += harness.RSSKiB(pid)
	}
	return rss, 100 * float64(c1-c0) / 100 / el // clock ticks are 1/100 s
}
