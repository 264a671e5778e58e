package main

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vipd/vipd/test/harness"
)

// Flapping (vipd, then keepalived): on both nodes a track script whose result flips every 0.5 s
// (interval 200 ms, rise = fall = 5: a state lasts 0.5 s, so at most 3
// samples, and 5 in a row need 0.8 s — a margin of 0.3 s for scheduling
// delays; a script that respects rise/fall never changes state), and the master's
// link flapping every 0.5 s (tracked: down means FAULT). The VIP must never
// be on two nodes in two consecutive samples 50 ms apart; goroutines
// (go_goroutines), fds and child processes are counted before and after.
const (
	flapHalf      = 500 * time.Millisecond
	flapScriptInt = 200 * time.Millisecond
	flapRiseFall  = 5
	metricsAddr   = "127.0.0.1:9120"
)

var flapVIP = netip.MustParsePrefix("192.0.2.100/24")

type leakSample struct{ goroutines, fds, children int }

// sampleLeak counts goroutines (vipd only), the fds of pid and its
// descendants, and the descendants (keepalived's include its VRRP child).
func sampleLeak(ns *harness.NS, pid int, vipd bool) leakSample {
	// The minimum of a few samples: a script may be running at any instant.
	s := leakSample{1 << 30, 1 << 30, 1 << 30}
	for i := 0; i < 5; i++ {
		if vipd {
			if g, err := metric(ns, metricsAddr, "go_goroutines"); err == nil {
				s.goroutines = min(s.goroutines, int(g))
			}
		} else {
			s.goroutines = 0
		}
		kids := harness.Descendants(pid)
		fds := countFDs(pid)
		for _, k := range kids {
			fds += countFDs(k)
		}
		s.fds = min(s.fds, fds)
		s.children = min(s.children, len(kids))
		time.Sleep(150 * time.Millisecond)
	}
	return s
}

func runFlap(t *caseTB, c *config) {
	flapOne(t, c, "vipd")
	if c.ka {
		flapOne(t, c, "keepalived")
	}
}

// keepalived's script interval is whole seconds: 1 s with rise = fall = 5
// never sees a 0.5 s state 5 times in a row either.
const kaScriptInt = time.Second

func flapOne(t *caseTB, c *config, daemon string) {
	dur := c.scale(20*time.Second, 2*time.Minute)
	b := harness.New(t, 2)
	dir := t.TempDir()
	var procs []*harness.Proc
	for i, n := range b.Nodes {
		flag := filepath.Join(dir, n.Role+".up")
		if err := os.WriteFile(flag, nil, 0o644); err != nil {
			t.Fatalf("%v", err)
		}
		in := harness.Instance{Name: "VI_1", VRID: 51, Version: 3, Priority: 150 - 50*i, AdvertInterval: 100 * time.Millisecond,
			Src: n.IPv4, Peers: b.PeersOf(n, false), VIPs: []netip.Prefix{flapVIP},
			TrackScript: "test -f " + flag, TrackWeight: -100, TrackInterval: flapScriptInt, TrackInterface: true}
		if daemon != "vipd" {
			in.TrackInterval = kaScriptInt
			cfg := harness.KeepalivedConfig(n, in)
			cfg = strings.Replace(cfg, "rise 1\n  fall 1", fmt.Sprintf("rise %d\n  fall %d", flapRiseFall, flapRiseFall), 1)
			path := harness.WriteFile(t, dir, n.Role+"-keepalived.conf", cfg)
			pre := filepath.Join(dir, n.Role+"-ka")
			procs = append(procs, n.Start(t, n.Role+"-keepalived", dir, "keepalived", "--vrrp", "-n", "-l", "-D", "-f", path,
				"-p", pre+".pid", "-r", pre+"-vrrp.pid", "-c", pre+"-chk.pid", "-i", n.Role))
			continue
		}
		cfg := harness.VipdConfig(n, n.StatusSocket(dir), in)
		cfg = strings.Replace(cfg, "rise: 1\n    fall: 1", fmt.Sprintf("rise: %d\n    fall: %d", flapRiseFall, flapRiseFall), 1)
		cfg = withGlobal(cfg, "  metrics_listen: "+metricsAddr+"\n")
		procs = append(procs, startVipd(t, n, c.vipd, dir, n.Role+"-vipd", cfg))
	}
	if _, err := b.WaitHolder(flapVIP.Addr(), "n1", 10*time.Second); err != nil {
		t.Fatalf("election: %v\n%s", err, tail(procs[0].Output(), 20))
	}
	time.Sleep(2 * time.Second)
	var before []leakSample
	for i, n := range b.Nodes {
		before = append(before, sampleLeak(n, procs[i].Pid(), daemon == "vipd"))
	}

	w := b.WatchHolders(flapVIP.Addr(), 50*time.Millisecond)
	t0 := time.Now()
	off := map[string]int{}
	for _, p := range procs {
		off[p.Name] = len(p.Output())
	}
	linkFlaps := 0
	n1 := b.Node(1)
	restore := func() {
		_ = n1.LinkUp()
		for _, n := range b.Nodes {
			_ = os.WriteFile(filepath.Join(dir, n.Role+".up"), nil, 0o644)
		}
	}
	t.Cleanup(restore)
	up := true
	for k := 1; time.Since(t0) < dur; k++ {
		time.Sleep(time.Until(t0.Add(time.Duration(k) * flapHalf))) // anchored: no drift
		up = !up
		for _, n := range b.Nodes {
			f := filepath.Join(dir, n.Role+".up")
			if up {
				_ = os.WriteFile(f, nil, 0o644)
			} else {
				_ = os.Remove(f)
			}
		}
		if up {
			_ = n1.LinkUp()
		} else {
			_ = n1.LinkDown()
			linkFlaps++
		}
	}
	restore()
	// A handover overlaps by design (the new master adds the VIP, then
	// advertises; the old one releases on hearing it): longer than one
	// advert (100 ms) plus 250 ms of scheduling margin is two masters.
	dual, werr := w.Stop(100*time.Millisecond + 250*time.Millisecond)
	if werr != nil {
		t.Fatalf("holder watch: %v", werr)
	}
	if _, err := b.WaitHolder(flapVIP.Addr(), "n1", 10*time.Second); err != nil {
		t.Fatalf("after flapping: %v", err)
	}
	time.Sleep(3 * time.Second)
	var after []leakSample
	for i, n := range b.Nodes {
		after = append(after, sampleLeak(n, procs[i].Pid(), daemon == "vipd"))
	}

	cs := fmt.Sprintf("flap %v (script+link every %v)", dur, flapHalf)
	hard := c.rep.Check // invariants are vipd's; keepalived's rows compare
	if daemon != "vipd" {
		hard = c.rep.Goal
	}
	scriptChanges := 0
	interval := flapScriptInt
	for _, p := range procs {
		if daemon == "vipd" {
			scriptChanges += countLog(p.Output(), t0, "check state changed")
		} else {
			out := p.Output()[off[p.Name]:]
			scriptChanges += strings.Count(out, "VRRP_Script(chk_VI_1) failed") + strings.Count(out, "VRRP_Script(chk_VI_1) succeeded")
			interval = kaScriptInt
		}
	}
	hard(cs, daemon, fmt.Sprintf("track-script state changes (rise=fall=%d, interval %v)", flapRiseFall, interval),
		fmt.Sprint(scriptChanges), "0", scriptChanges == 0)
	var entries []string
	for _, p := range procs {
		out := p.Output()[off[p.Name]:]
		entries = append(entries, fmt.Sprint(masterEntries(out)))
	}
	c.rep.Info(cs, daemon, "link flaps / MASTER entries n1, n2", fmt.Sprintf("%d / %s", linkFlaps, strings.Join(entries, ", ")))
	hard(cs, daemon, "VIP on two nodes longer than a handover (advert + 250 ms)", fmt.Sprint(len(dual)), "0", len(dual) == 0)
	for _, d := range dual[:min(3, len(dual))] {
		c.rep.Note("flap %s: %s", daemon, d)
	}
	for i, n := range b.Nodes {
		bf, af := before[i], after[i]
		if daemon == "vipd" {
			hard(cs, daemon, n.Role+" goroutines before → after", fmt.Sprintf("%d → %d", bf.goroutines, af.goroutines),
				"≤ before+2", af.goroutines <= bf.goroutines+2)
		}
		hard(cs, daemon, n.Role+" fds before → after", fmt.Sprintf("%d → %d", bf.fds, af.fds), "≤ before", af.fds <= bf.fds)
		hard(cs, daemon, n.Role+" child processes before → after", fmt.Sprintf("%d → %d", bf.children, af.children),
			"≤ before", af.children <= bf.children)
	}
}

// masterEntries counts entries into MASTER in a daemon's output: vipd's
// JSON "transition" lines to MASTER, keepalived's "Entering MASTER STATE".
func masterEntries(out string) int {
	n := strings.Count(out, "Entering MASTER STATE")
	for _, l := range parseLog(out) {
		if l.Msg == "transition" && l.Attr["to"] == "MASTER" {
			n++
		}
	}
	return n
}
