// Command reliability runs vipd's reliability suite (issue 15) and writes a
// Markdown report of its figures, with keepalived beside vipd where the case
// applies to it:
//
//   - loss:  10 % and 30 % random loss of VRRP (netem, inside the kernel VM
//     through test/vm/run.sh) at 1 s and 0.1 s adverts: transitions,
//     dual-master time, time to one holder after the loss ends.
//   - flap:  a track script and a link flapping every 0.5 s: rise/fall
//     respected, the VIP never on two nodes, no goroutine/fd/child leak.
//   - cloud: the AWS emulator behind a fault-injecting proxy: 30 % of calls
//     failing, then a full outage during a failover.
//   - soak:  50 instances at 100 ms adverts, 200 checks, a failover a minute:
//     RSS, goroutines, fds sampled every 10 s and their slope.
//   - flood: a stranger floods the VRRP group at 10,000 packets/s, then a
//     GARP storm: advert jitter, CPU, drops by reason, the VIP stays.
//
// Every loop and fault is bounded in time and removed on exit; addresses are
// only 192.0.2.0/24 and 2001:db8::/32.
//
// Run as root from the repository root:
//
//	go run ./test/cmd/reliability            # full form (about 1 h 20 min)
//	go run ./test/cmd/reliability -short     # CI form (about 6 min; the soak runs 2 min)
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vipd/vipd/test/harness"
)

// config is what every case gets.
type config struct {
	short bool
	vipd  string // static vipd binary
	ka    bool   // keepalived is installed
	rep   *Report
}

// scale picks the short or the full duration.
func (c *config) scale(short, full time.Duration) time.Duration {
	if c.short {
		return short
	}
	return full
}

type caseFn func(t *caseTB, c *config)

var cases = []struct {
	name string
	fn   caseFn
}{
	{"loss", runLoss},
	{"flap", runFlap},
	{"cloud", runCloud},
	{"soak", runSoak},
	{"flood", runFlood},
}

func main() {
	short := flag.Bool("short", false, "the bounded CI form")
	only := flag.String("only", "", "comma-separated cases to run (loss, flap, cloud, soak, flood)")
	out := flag.String("out", "", "also write the Markdown report to this file")
	bin := flag.String("vipd", "", "static vipd binary (default: build ./cmd/vipd)")
	flag.Parse()
	if err := harness.RequireRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(2)
	}
	c := &config{short: *short, rep: &Report{}}
	_, err := exec.LookPath("keepalived")
	c.ka = err == nil
	if !c.ka {
		c.rep.Note("keepalived is not installed: its columns are missing (apt-get install keepalived)")
	}
	tmp, err := os.MkdirTemp("", "vipd-reliab-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(tmp)
	if *bin == "" {
		if *bin, err = buildVipd(tmp); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	c.vipd = *bin
	var want []string
	if *only != "" {
		want = strings.Split(*only, ",")
	}
	start := time.Now()
	for _, cs := range cases {
		if want != nil && !slices.Contains(want, cs.name) {
			continue
		}
		t0 := time.Now()
		fmt.Fprintf(os.Stderr, "reliability: %s ...\n", cs.name)
		runCase(cs.name, cs.fn, c)
		fmt.Fprintf(os.Stderr, "reliability: %s done in %v\n", cs.name, time.Since(t0).Round(time.Second))
	}
	form := "full"
	if c.short {
		form = "short"
	}
	c.rep.Note("form: %s; total %v; %s", form, time.Since(start).Round(time.Second), time.Now().UTC().Format(time.RFC3339))
	title := "vipd reliability report (" + form + " form)"
	c.rep.Markdown(os.Stdout, title)
	if *out != "" {
		f, err := os.Create(*out)
		if err == nil {
			c.rep.Markdown(f, title)
			f.Close()
		}
	}
	if n := c.rep.Failed(); n > 0 {
		fmt.Fprintf(os.Stderr, "reliability: %d figure(s) out of bounds\n", n)
		os.Exit(1)
	}
}

// caseTB is a harness.TB whose Fatalf ends the case (not the program): the
// case's cleanups run and the failure becomes a row of the report.
type caseTB struct {
	mu       sync.Mutex
	name     string
	dir      string
	cleanups []func()
}

type caseFatal struct{ msg string }

func (t *caseTB) Helper() {}
func (t *caseTB) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, t.name+": "+format+"\n", args...)
}
func (t *caseTB) Fatalf(format string, args ...any) {
	panic(caseFatal{fmt.Sprintf(format, args...)})
}
func (t *caseTB) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}
func (t *caseTB) TempDir() string { return t.dir }

func (t *caseTB) close() {
	t.mu.Lock()
	cs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

func runCase(name string, fn caseFn, c *config) {
	dir, err := os.MkdirTemp("", "vipd-reliab-"+name+"-")
	if err != nil {
		c.rep.Check(name, "-", "setup", err.Error(), "runs", false)
		return
	}
	t := &caseTB{name: name, dir: dir}
	t.Cleanup(func() { os.RemoveAll(dir) })
	defer t.close()
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprint(r)
			if f, ok := r.(caseFatal); ok {
				msg = f.msg
			} else {
				msg += "\n" + string(debug.Stack())
			}
			fmt.Fprintf(os.Stderr, "reliability: %s failed: %s\n", name, msg)
			first := strings.SplitN(msg, "\n", 2)[0]
			if len(first) > 160 {
				first = first[:160] + "…"
			}
			c.rep.Check(name, "-", "case completed", first, "completes", false)
		}
	}()
	fn(t, c)
}
