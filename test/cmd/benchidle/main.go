// Command benchidle measures the steady-state cost of vipd and of keepalived
// side by side, in one run, each on its own network-namespace bed and
// measured over the same window: two nodes run N VRRP instances each (unicast, v3, one VIP per instance), n1 master of all
// (priority 150), n2 backup (100). After the elections and the gratuitous-ARP
// bursts have settled, it samples every daemon over one window and reports,
// for master and backup:
//
//   - wake-ups/s: voluntary context switches of every thread
//     (/proc/PID/task/*/status): each is a sleep that ended in a wake-up, a
//     count that does not depend on the machine's load (involuntary
//     switches, preemptions by other processes, do and are left out),
//     beside the adverts/s the protocol itself needs (N / advert interval
//     sent by the master, received by the backup);
//   - CPU %: run time of every thread (/proc/PID/task/*/schedstat) over the
//     window, as a share of one core. On a busy machine only the ratio
//     vipd/keepalived of the same run is meaningful;
//   - memory from /proc/PID/smaps_rollup: RSS, private (clean + dirty: what
//     the process alone costs), anonymous and file-backed (RSS - anonymous).
//     keepalived's figures add its parent and its VRRP child.
//
// Run as root: go run ./test/cmd/benchidle [-n 10,250] [-advert 100ms] [-window 20s]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vipd/vipd/test/harness"
)

type daemon string

var (
	hold    time.Duration
	vipdEnv string
)

const (
	vipdD       daemon = "vipd"
	keepalivedD daemon = "keepalived"
)

func main() {
	ns := flag.String("n", "10,250", "instance counts, comma-separated (at most 255)")
	adverts := flag.String("advert", "1s,100ms", "advert intervals, comma-separated")
	window := flag.Duration("window", 20*time.Second, "measurement window")
	settle := flag.Duration("settle", 8*time.Second, "wait after convergence before measuring (covers vipd's garp master_delay of 5s)")
	bin := flag.String("vipd", "", "vipd binary (default: build ./cmd/vipd as `make build` does)")
	tags := flag.String("tags", "", "build tags for the default vipd build (e.g. onprem)")
	only := flag.String("only", "", "measure only this daemon (vipd or keepalived); no ratio")
	verbose := flag.Bool("v", false, "log bed set-up")
	flag.StringVar(&vipdEnv, "vipd-env", "", "extra environment for vipd, comma-separated (e.g. GOMAXPROCS=1)")
	flag.DurationVar(&hold, "hold", 0, "print the daemons' pids and wait this long before measuring (to attach a profiler)")
	flag.Parse()
	daemons := []daemon{vipdD, keepalivedD}
	if *only != "" {
		daemons = []daemon{daemon(*only)}
	}
	if err := harness.RequireRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "benchidle:", err)
		os.Exit(2)
	}
	if _, err := exec.LookPath("keepalived"); err != nil && *only != string(vipdD) {
		fmt.Fprintln(os.Stderr, "benchidle: keepalived not installed (apt-get install keepalived)")
		os.Exit(2)
	}
	s := harness.NewStandalone()
	s.Verbose = *verbose
	defer s.Close()
	if *bin == "" && *only != string(keepalivedD) {
		*bin = filepath.Join(s.TempDir(), "vipd")
		args := []string{"build", "-trimpath", "-ldflags", "-s -w", "-o", *bin}
		if *tags != "" {
			args = append(args, "-tags", *tags)
		}
		cmd := exec.Command("go", append(args, "./cmd/vipd")...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			s.Fatalf("build vipd: %v\n%s", err, out)
		}
	}
	if *bin != "" {
		if fi, err := os.Stat(*bin); err == nil {
			fmt.Printf("vipd binary: %s, %.1f MB\n", *bin, float64(fi.Size())/1e6)
		}
	}
	var counts []int
	for _, f := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 255 {
			s.Fatalf("-n: bad count %q", f)
		}
		counts = append(counts, n)
	}
	var advs []time.Duration
	for _, f := range strings.Split(*adverts, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d < 10*time.Millisecond {
			s.Fatalf("-advert: bad interval %q", f)
		}
		advs = append(advs, d)
	}
	idleTable(*bin, daemons, counts, advs, *window, *settle, *verbose)
}

// sample is one daemon's cost over the window.
type sample struct {
	wakeups float64 // per second
	cpu     float64 // % of one core
	mem     memory
	flaps   int // state transitions during the window (should be 0)
}

func idleTable(bin string, daemons []daemon, counts []int, advs []time.Duration, window, settle time.Duration, verbose bool) {
	fmt.Printf("idle cost, 2 nodes (n1 master, n2 backup), unicast v3, one VIP per instance, window %v\n", window)
	fmt.Printf("%5s %6s %-6s %-10s %9s %9s %8s %10s %10s %10s %10s %6s\n",
		"inst", "advert", "role", "daemon", "adverts/s", "wakeups/s", "CPU%", "RSS KiB", "priv KiB", "anon KiB", "file KiB", "flaps")
	type key struct {
		n    int
		adv  time.Duration
		role string
	}
	res := map[key]map[daemon]sample{}
	for _, adv := range advs {
		for _, n := range counts {
			run := idleRun(bin, daemons, n, adv, window, settle, verbose)
			for _, d := range daemons {
				for role, sm := range map[string]sample{"master": run[d][0], "backup": run[d][1]} {
					k := key{n, adv, role}
					if res[k] == nil {
						res[k] = map[daemon]sample{}
					}
					res[k][d] = sm
				}
				for _, role := range []string{"master", "backup"} {
					sm := res[key{n, adv, role}][d]
					fmt.Printf("%5d %6s %-6s %-10s %9.0f %9.1f %8.2f %10d %10d %10d %10d %6d\n", n, adv, role, d,
						float64(n)/adv.Seconds(), sm.wakeups, sm.cpu, sm.mem.rss, sm.mem.private, sm.mem.anon, sm.mem.rss-sm.mem.anon, sm.flaps)
				}
			}
			if len(daemons) == 2 {
				for _, role := range []string{"master", "backup"} {
					v, k := res[key{n, adv, role}][vipdD], res[key{n, adv, role}][keepalivedD]
					fmt.Printf("%5d %6s %-6s %-10s %9s %9.2f %8.2f %10.2f %10.2f %10.2f %10s\n", n, adv, role, "ratio", "",
						ratio(v.wakeups, k.wakeups), ratio(v.cpu, k.cpu), ratio(float64(v.mem.rss), float64(k.mem.rss)),
						ratio(float64(v.mem.private), float64(k.mem.private)), ratio(float64(v.mem.anon), float64(k.mem.anon)), "")
				}
			}
		}
	}
	fmt.Println("ratio = vipd / keepalived, measured side by side over the same window; keepalived = parent + VRRP child;")
	fmt.Println("wake-ups = voluntary context switches of every thread (involuntary ones depend on the machine's load)")
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// pair is one daemon's master and backup on their own bed.
type pair struct {
	d      daemon
	s      *harness.Standalone
	p1, p2 *harness.Proc
	pm, pb []int // process trees
}

// idleRun starts every daemon's pair on its own bed at once (side by side),
// waits until each master holds its n VIPs, then samples all of them over
// the same window, so a load spike of the shared machine hits all alike.
func idleRun(bin string, daemons []daemon, n int, adv, window, settle time.Duration, verbose bool) map[daemon][2]sample {
	var pairs []*pair
	defer func() {
		for _, p := range pairs {
			p.s.Close()
		}
	}()
	for _, d := range daemons {
		s := harness.NewStandalone()
		s.Verbose = verbose
		pr := &pair{d: d, s: s}
		pairs = append(pairs, pr)
		b := harness.New(s, 2)
		n1, n2 := b.Node(1), b.Node(2)
		mk := func(node *harness.NS, prio int) []harness.Instance {
			var ins []harness.Instance
			for i := 1; i <= n; i++ {
				ins = append(ins, harness.Instance{Name: fmt.Sprintf("VI_%d", i), VRID: i, Version: 3, Priority: prio,
					AdvertInterval: adv, Src: node.IPv4, Peers: b.PeersOf(node, false),
					VIPs: []netip.Prefix{idleVIP(i)}})
			}
			return ins
		}
		pr.p1 = start(s, n1, bin, d, mk(n1, 150))
		pr.p2 = start(s, n2, bin, d, mk(n2, 100))
		t0 := time.Now()
		if err := waitAddrs(n1, "eth0", n, 4, 60*time.Second); err != nil {
			s.Fatalf("%s %d instances: %v\n%s", d, n, err, tail(pr.p1.Log))
		}
		s.Logf("%s %d instances converged in %v", d, n, time.Since(t0))
	}
	time.Sleep(settle)
	for _, p := range pairs {
		if p.p1.Exited() || p.p2.Exited() {
			p.s.Fatalf("%s exited:\n%s\n%s", p.d, tail(p.p1.Log), tail(p.p2.Log))
		}
		p.pm, p.pb = tree(p.p1.Pid()), tree(p.p2.Pid())
		if hold > 0 {
			fmt.Printf("%s %d instances: master pids %v, backup pids %v\n", p.d, n, p.pm, p.pb)
		}
	}
	if hold > 0 {
		fmt.Printf("holding %v\n", hold)
		time.Sleep(hold)
	}
	type snap struct {
		l1, l2 int64
		m, b   count
	}
	before := map[daemon]snap{}
	for _, p := range pairs {
		before[p.d] = snap{logSize(p.p1.Log), logSize(p.p2.Log), counters(p.pm), counters(p.pb)}
	}
	t0 := time.Now()
	time.Sleep(window)
	el := time.Since(t0).Seconds()
	res := map[daemon][2]sample{}
	for _, p := range pairs {
		m1, b1 := counters(p.pm), counters(p.pb)
		s0 := before[p.d]
		res[p.d] = [2]sample{
			{wakeups: float64(m1.ctxsw-s0.m.ctxsw) / el, cpu: 100 * float64(m1.cpuNs-s0.m.cpuNs) / 1e9 / el,
				mem: mem(p.pm), flaps: transitions(p.p1.Log, s0.l1, p.d)},
			{wakeups: float64(b1.ctxsw-s0.b.ctxsw) / el, cpu: 100 * float64(b1.cpuNs-s0.b.cpuNs) / 1e9 / el,
				mem: mem(p.pb), flaps: transitions(p.p2.Log, s0.l2, p.d)},
		}
	}
	return res
}

func logSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// transitions counts the state transitions d logged after offset from.
func transitions(path string, from int64, d daemon) int {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < from {
		return 0
	}
	marker := "msg=transition"
	if d == keepalivedD {
		marker = "Entering "
	}
	return strings.Count(string(b[from:]), marker)
}

// idleVIP is instance i's VIP (1..255).
func idleVIP(i int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 32)
}

// start runs d on node with ins, with a minimal environment. vipd logs at
// info (the harness's configs log at debug) and keepalived without -D
// (detailed logs): both log transitions only.
func start(s *harness.Standalone, node *harness.NS, bin string, d daemon, ins []harness.Instance) *harness.Proc {
	dir, err := os.MkdirTemp(s.TempDir(), string(d))
	if err != nil {
		s.Fatalf("%v", err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	if d == vipdD {
		cfg := harness.VipdConfig(node, filepath.Join(dir, node.Role+".sock"), ins...)
		cfg = strings.Replace(cfg, "log_level: debug", "log_level: info", 1)
		path := harness.WriteFile(s, dir, node.Role+"-vipd.yaml", cfg)
		if vipdEnv != "" {
			env = append(env, strings.Split(vipdEnv, ",")...)
		}
		return node.StartEnv(s, node.Role+"-vipd", dir, env, bin, "run", "-c", path)
	}
	cfg := harness.WriteFile(s, dir, node.Role+"-keepalived.conf", harness.KeepalivedConfig(node, ins...))
	pre := filepath.Join(dir, node.Role+"-ka")
	return node.StartEnv(s, node.Role+"-keepalived", dir, env, "keepalived", "--vrrp", "-n", "-l", "-f", cfg,
		"-p", pre+".pid", "-r", pre+"-vrrp.pid", "-c", pre+"-chk.pid", "-i", node.Role)
}

// waitAddrs waits until dev in node carries at least want addresses of
// family besides the node's own one.
func waitAddrs(node *harness.NS, dev string, want, family int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		got := countAddrs(node, dev, family)
		if got >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s %s: %d of %d IPv%d VIPs after %v", node.Role, dev, got, want, family, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func countAddrs(node *harness.NS, dev string, family int) int {
	out, err := node.IP("-"+strconv.Itoa(family), "-o", "addr", "show", "dev", dev)
	if err != nil {
		return 0
	}
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, " inet") && !strings.Contains(l, "scope link") {
			n++
		}
	}
	return n - 1 // the node's own address
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// tree returns pid and all its descendants (keepalived forks its VRRP child).
func tree(pid int) []int {
	res := []int{pid}
	out, _ := exec.Command("pgrep", "-P", strconv.Itoa(pid)).Output()
	for _, f := range strings.Fields(string(out)) {
		if c, err := strconv.Atoi(f); err == nil {
			res = append(res, tree(c)...)
		}
	}
	return res
}

type count struct {
	ctxsw int64 // voluntary context switches (sleeps) of every thread
	cpuNs int64 // run time of every thread
}

func counters(pids []int) count {
	var c count
	for _, pid := range pids {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
		for _, t := range tasks {
			if b, err := os.ReadFile(t + "/schedstat"); err == nil {
				if f := strings.Fields(string(b)); len(f) > 0 {
					ns, _ := strconv.ParseInt(f[0], 10, 64)
					c.cpuNs += ns
				}
			}
			c.ctxsw += statusField(t+"/status", "voluntary_ctxt_switches:")
		}
	}
	return c
}

func statusField(path, key string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, key) {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(l, key)), 10, 64)
			return n
		}
	}
	return 0
}

// memory in KiB, summed over the processes.
type memory struct {
	rss, pss, private, anon int64
}

func mem(pids []int) memory {
	var m memory
	for _, pid := range pids {
		f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 2 {
				continue
			}
			v, _ := strconv.ParseInt(fs[1], 10, 64)
			switch fs[0] {
			case "Rss:":
				m.rss += v
			case "Pss:":
				m.pss += v
			case "Private_Clean:", "Private_Dirty:":
				m.private += v
			case "Anonymous:":
				m.anon += v
			}
		}
		f.Close()
	}
	return m
}
