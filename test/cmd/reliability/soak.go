package main

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vipd/vipd/test/harness"
)

// Soak: two nodes with 50 instances each at 100 ms adverts (192.0.2.100 to
// .149, unicast), 200 health checks per node and a failover a minute. This
// host's kernel has no IP_VS, so the checks run as track scripts (a TCP
// connect to one of 200 loopback echo servers in the node's namespace, every
// 10 s; each instance tracks 4) rather than as real-server checks of virtual
// servers, which vipd can only program with IP_VS. The failover: a "drain"
// script that all 50 of n1's instances track (weight -100, every 1 s) fails
// at 25 s past each minute and passes again a minute later. RSS, goroutines
// and fds of both daemons are sampled every 10 s; the report gives their
// least-squares slope per hour.
const (
	soakInstances = 50
	soakChecks    = 200
	soakEchoBase  = 7000
	soakMetrics   = "127.0.0.1:9121"
	soakEvery     = 10 * time.Second
	soakWarmup    = 12 * time.Second // longer than the checks' interval
)

func soakConfig(b *harness.Bed, n *harness.NS, sock, dir string, drain bool) string {
	var s strings.Builder
	fmt.Fprintf(&s, "global:\n  node: %s\n  log_level: info\n  status_socket: %s\n  metrics_listen: %s\n", n.Role, sock, soakMetrics)
	s.WriteString("scripts:\n")
	check := filepath.Join(dir, "tcpcheck.sh")
	for i := 0; i < soakChecks; i++ {
		fmt.Fprintf(&s, "  - {name: chk_%d, command: \"%s %d\", interval: 10s, timeout: 5s, weight: 2, rise: 1, fall: 2}\n", i, check, soakEchoBase+i)
	}
	if drain {
		fmt.Fprintf(&s, "  - {name: drain, command: \"test ! -f %s\", interval: 1s, weight: -100, rise: 1, fall: 1}\n", filepath.Join(dir, "drain"))
	}
	prio := 150
	if n.Role != "n1" {
		prio = 100
	}
	s.WriteString("instances:\n")
	for i := 0; i < soakInstances; i++ {
		fmt.Fprintf(&s, "  - name: VI_%d\n    interface: eth0\n    vrid: %d\n    version: 3\n    priority: %d\n    advert_interval: 100ms\n    preempt: true\n", i, i+1, prio)
		fmt.Fprintf(&s, "    unicast_src_ip: %s\n    unicast_peers: [%s]\n", n.IPv4, b.PeersOf(n, false)[0])
		fmt.Fprintf(&s, "    vips: [\"192.0.2.%d/24\"]\n    track_scripts: [", 100+i)
		for k := 0; k < 4; k++ {
			fmt.Fprintf(&s, "{name: chk_%d}, ", 4*i+k)
		}
		if drain {
			s.WriteString("{name: drain}")
		}
		s.WriteString("]\n")
	}
	return s.String()
}

// heldVIPs counts the soak VIPs configured in ns.
func heldVIPs(ns *harness.NS) int {
	out, err := ns.IP("-4", "-o", "addr", "show", "dev", "eth0")
	if err != nil {
		return -1
	}
	n := 0
	for _, f := range strings.Fields(out) {
		if p, err := netip.ParsePrefix(f); err == nil {
			a := p.Addr().As4()
			if a[0] == 192 && a[1] == 0 && a[2] == 2 && a[3] >= 100 && a[3] < 100+soakInstances {
				n++
			}
		}
	}
	return n
}

type soakSample struct {
	at              time.Duration
	rss, goroutines float64
	fds             float64
}

func runSoak(t *caseTB, c *config) {
	dur := c.scale(2*time.Minute, time.Hour)
	b := harness.New(t, 2)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tcpcheck.sh"), []byte("#!/bin/bash\nexec 3<>/dev/tcp/127.0.0.1/$1\n"), 0o755); err != nil {
		t.Fatalf("%v", err)
	}
	var procs []*harness.Proc
	for i, n := range b.Nodes {
		for p := 0; p < soakChecks; p++ {
			n.StartTCPEcho(t, soakEchoBase+p)
		}
		cfg := soakConfig(b, n, n.StatusSocket(dir), dir, i == 0)
		procs = append(procs, startVipd(t, n, c.vipd, dir, n.Role+"-vipd", cfg))
	}
	deadline := time.Now().Add(30 * time.Second)
	for heldVIPs(b.Node(1)) != soakInstances || heldVIPs(b.Node(2)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("soak election: n1 holds %d, n2 %d\n%s", heldVIPs(b.Node(1)), heldVIPs(b.Node(2)), tail(procs[0].Output(), 20))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Warm-up: the first round of the 200 checks, the metrics endpoint.
	time.Sleep(soakWarmup)
	drain := filepath.Join(dir, "drain")
	t.Cleanup(func() { _ = os.Remove(drain) })
	samples := make([][]soakSample, 2)
	t0 := time.Now()
	cpu0 := []int{harness.CPUTicks(procs[0].Pid()), harness.CPUTicks(procs[1].Pid())}
	failovers, wrong := 0, 0
	var wrongNotes []string
	nextFail := 25 * time.Second // between two samples: the check 5 s later lands on the next
	for k := 0; ; k++ {
		el := time.Since(t0)
		for i, n := range b.Nodes {
			g := math.Inf(1) // the least of 3: a check may be in flight
			for range 3 {
				if v, err := metric(n, soakMetrics, "go_goroutines"); err == nil {
					g = min(g, v)
				}
				time.Sleep(100 * time.Millisecond)
			}
			samples[i] = append(samples[i], soakSample{at: el, rss: float64(harness.RSSKiB(procs[i].Pid())), goroutines: g, fds: float64(countFDs(procs[i].Pid()))})
		}
		if el >= dur {
			break
		}
		// Until the next sample: the failover, if one is due, then a check
		// 5 s later that all 50 VIPs moved.
		next := t0.Add(time.Duration(k+1) * soakEvery)
		if nextFail < time.Duration(k+1)*soakEvery {
			time.Sleep(time.Until(t0.Add(nextFail)))
			draining := failovers%2 == 0
			if draining {
				_ = os.WriteFile(drain, nil, 0o644)
			} else {
				_ = os.Remove(drain)
			}
			failovers++
			nextFail += time.Minute
			time.Sleep(5 * time.Second)
			h1, h2 := heldVIPs(b.Node(1)), heldVIPs(b.Node(2))
			want1, want2 := soakInstances, 0
			if draining {
				want1, want2 = 0, soakInstances
			}
			if h1 != want1 || h2 != want2 {
				wrong++
				wrongNotes = append(wrongNotes, fmt.Sprintf("failover %d: 5 s after, n1 holds %d, n2 %d (want %d, %d)", failovers, h1, h2, want1, want2))
			}
		}
		time.Sleep(time.Until(next))
	}
	el := time.Since(t0)
	cs := fmt.Sprintf("soak %v: %d instances × 100 ms, %d checks/node, a failover a minute", dur, soakInstances, soakChecks)
	c.rep.Check(cs, "vipd", "failovers with all VIPs moved within 5 s", fmt.Sprintf("%d of %d", failovers-wrong, failovers), "all", wrong == 0)
	for _, n := range wrongNotes {
		c.rep.Note("soak: %s", n)
	}
	for i, n := range b.Nodes {
		ss := samples[i]
		var xs, rss, gs, fds []float64
		for _, s := range ss {
			xs = append(xs, s.at.Hours())
			rss = append(rss, s.rss/1024)
			gs = append(gs, s.goroutines)
			fds = append(fds, s.fds)
		}
		first, last := ss[0], ss[len(ss)-1]
		cpu := 100 * float64(harness.CPUTicks(procs[i].Pid())-cpu0[i]) / 100 / el.Seconds()
		c.rep.Info(cs, "vipd", n.Role+" CPU (% of one core)", fmt.Sprintf("%.1f", cpu))
		row := func(fig string, f, l, sl float64, unit string, limit float64) {
			val := fmt.Sprintf("%.1f → %.1f %s, slope %+.2f %s/h (%d samples)", f, l, unit, sl, unit, len(ss))
			if c.short {
				c.rep.Info(cs, "vipd", n.Role+" "+fig, val)
				return
			}
			c.rep.Goal(cs, "vipd", n.Role+" "+fig, val, fmt.Sprintf("|slope| ≤ %g %s/h", limit, unit), sl <= limit && sl >= -limit)
		}
		row("RSS", first.rss/1024, last.rss/1024, slope(xs, rss), "MiB", 2)
		row("goroutines", first.goroutines, last.goroutines, slope(xs, gs), "", 5)
		row("fds", first.fds, last.fds, slope(xs, fds), "", 2)
	}
	if c.short {
		c.rep.Note("soak: the short form (2 min) reports slopes only; the full form (1 h) holds them to flat")
	}
}
