// Package bench measures the checks Scheduler with many TCP checks against
// local listeners: CPU share of one core, resident memory and the spread
// of actual check intervals. It backs BenchmarkScheduler5000TCP and the
// tcpbench program (which also runs inside the kernel VM next to
// keepalived for a like-for-like comparison).
package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vipd/vipd/checks"
)

// Serve listens on addr:base .. addr:base+n-1 (base 0: n random ports) and
// accepts and closes connections until ctx ends. It returns the addresses.
// accepted (may be nil) counts accepted connections.
func Serve(ctx context.Context, addr netip.Addr, base, n int, accepted *atomic.Int64) ([]netip.AddrPort, error) {
	out := make([]netip.AddrPort, 0, n)
	lc := net.ListenConfig{}
	for i := range n {
		port := 0
		if base > 0 {
			port = base + i
		}
		ln, err := lc.Listen(ctx, "tcp", netip.AddrPortFrom(addr, uint16(port)).String())
		if err != nil {
			return nil, fmt.Errorf("bench: listen %d of %d: %w", i, n, err)
		}
		out = append(out, ln.Addr().(*net.TCPAddr).AddrPort())
		context.AfterFunc(ctx, func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
				if accepted != nil {
					accepted.Add(1)
				}
			}
		}()
	}
	return out, nil
}

// Stats are one measurement.
type Stats struct {
	Checks     int           // number of checks
	Interval   time.Duration // nominal interval
	Window     time.Duration // measured wall time (after warm-up)
	Attempts   int           // attempts started in the window
	Failures   int           // failed attempts in the window
	CPUShare   float64       // user+sys CPU / wall, 1.0 = one core
	RSSBytes   int64         // VmRSS at the end
	HWMBytes   int64         // VmHWM (peak RSS)
	DriftP50   time.Duration // |actual interval - nominal|, median
	DriftP99   time.Duration
	DriftMax   time.Duration
	Abandoned  int64
	Goroutines int
}

func (s Stats) String() string {
	return fmt.Sprintf("checks=%d interval=%v window=%v attempts=%d (%.0f/s) failures=%d cpu=%.1f%% of one core rss=%.1fMiB hwm=%.1fMiB drift p50=%v p99=%v max=%v",
		s.Checks, s.Interval, s.Window.Round(time.Millisecond), s.Attempts, float64(s.Attempts)/s.Window.Seconds(), s.Failures,
		100*s.CPUShare, float64(s.RSSBytes)/(1<<20), float64(s.HWMBytes)/(1<<20),
		s.DriftP50.Round(time.Microsecond), s.DriftP99.Round(time.Microsecond), s.DriftMax.Round(time.Microsecond))
}

// recorder wraps a checker and records interval drift once measuring is on.
type recorder struct {
	checks.Checker
	mu       sync.Mutex
	on       func() bool // measuring?
	last     time.Time
	drift    []int32 // |interval - nominal| in µs
	fails    int
	attempts int
	nominal  time.Duration
}

func (r *recorder) Check(ctx context.Context) checks.Result {
	now := time.Now()
	res := r.Checker.Check(ctx)
	r.mu.Lock()
	if r.on() {
		if !r.last.IsZero() {
			d := now.Sub(r.last) - r.nominal
			if d < 0 {
				d = -d
			}
			r.drift = append(r.drift, int32(d/time.Microsecond))
		}
		r.attempts++
		if !res.OK {
			r.fails++
		}
		r.last = now
	} else {
		r.last = now
	}
	r.mu.Unlock()
	return res
}

// Measure runs one TCP check per target at interval for warmup+window and
// reports the window.
func Measure(ctx context.Context, log *slog.Logger, targets []netip.AddrPort, interval, warmup, window time.Duration, workers int) (Stats, error) {
	var mu sync.Mutex
	measuring := false
	on := func() bool { mu.Lock(); defer mu.Unlock(); return measuring }
	s := checks.NewScheduler(log, checks.WithWorkers(workers))
	recs := make([]*recorder, len(targets))
	perCheck := int(window/interval) + 4
	for i, t := range targets {
		c := checks.NewTCPChecker(t)
		c.Timeout = interval
		recs[i] = &recorder{Checker: c, on: on, nominal: interval, drift: make([]int32, 0, perCheck)}
		s.Add(fmt.Sprintf("rs%d", i), recs[i], checks.Params{Interval: interval, InitialUp: true}, nil)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(rctx) }()

	select {
	case <-time.After(warmup):
	case <-ctx.Done():
		cancel()
		<-done //nolint:errcheck // canceled: ctx.Err() is the answer
		return Stats{}, ctx.Err()
	}
	mu.Lock()
	measuring = true
	mu.Unlock()
	ru0, t0 := rusage(), time.Now()
	select {
	case <-time.After(window):
	case <-ctx.Done():
	}
	ru1, t1 := rusage(), time.Now()
	mu.Lock()
	measuring = false
	mu.Unlock()
	st := Stats{Checks: len(targets), Interval: interval, Window: t1.Sub(t0), Abandoned: s.Abandoned()}
	st.CPUShare = float64(ru1-ru0) / float64(t1.Sub(t0))
	st.RSSBytes, st.HWMBytes = procStatus("VmRSS:"), procStatus("VmHWM:")
	st.Goroutines = runtime.NumGoroutine()
	cancel()
	if err := <-done; err != nil {
		return st, err
	}
	var all []int32
	for _, r := range recs {
		r.mu.Lock()
		all = append(all, r.drift...)
		st.Attempts += r.attempts
		st.Failures += r.fails
		r.mu.Unlock()
	}
	if len(all) == 0 {
		return st, fmt.Errorf("bench: no intervals recorded")
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		return time.Duration(all[min(len(all)-1, int(p*float64(len(all))))]) * time.Microsecond
	}
	st.DriftP50, st.DriftP99, st.DriftMax = pct(0.50), pct(0.99), time.Duration(all[len(all)-1])*time.Microsecond
	return st, ctx.Err()
}

// rusage is this process's user+sys CPU time.
func rusage() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStatus reads a "kB" field of /proc/self/status in bytes (0 if absent).
func procStatus(key string) int64 { return ProcStatus("self", key) }

// ProcStatus reads a "kB" field of /proc/PID/status in bytes.
func ProcStatus(pid, key string) int64 {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, found := strings.CutPrefix(sc.Text(), key); found {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// ProcCPU is utime+stime of /proc/PID/stat, assuming USER_HZ 100.
func ProcCPU(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("bench: bad stat for %s", pid)
	}
	f := strings.Fields(s[i+2:])
	// fields after ')' start at state (field 3); utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("bench: short stat for %s", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	stt, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+stt) * 10 * time.Millisecond, nil
}

// KeepalivedConf writes a keepalived.conf with one virtual server whose
// real servers are the targets, each with a TCP_CHECK, at delay_loop
// interval (whole seconds, keepalived's minimum resolution here).
func KeepalivedConf(w io.Writer, vip netip.AddrPort, targets []netip.AddrPort, interval time.Duration) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "global_defs {\n  router_id vc-bench\n}\n")
	fmt.Fprintf(bw, "virtual_server %s %d {\n  delay_loop %d\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n",
		vip.Addr(), vip.Port(), max(1, int(interval/time.Second)))
	for _, t := range targets {
		fmt.Fprintf(bw, "  real_server %s %d {\n    weight 1\n    TCP_CHECK {\n      connect_timeout %d\n    }\n  }\n",
			t.Addr(), t.Port(), max(1, int(interval/time.Second)))
	}
	fmt.Fprintf(bw, "}\n")
	return bw.Flush()
}
