// Command tcpbench measures vipd's check scheduler with N TCP checks
// against local listeners (run in a child process, so their CPU is not
// counted), and helps compare with keepalived's checker:
//
//	tcpbench -n 5000 -interval 1s -window 30s         # vipd figures
//	tcpbench -serve -n 5000 -base 20000 &              # listeners only
//	tcpbench -conf k.conf -n 5000 -base 20000          # keepalived.conf with the same real servers
//	tcpbench -pid 123 -window 30s                      # CPU and RSS of another process (keepalived's checker)
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vipd/vipd/checks/internal/bench"
)

func main() {
	var (
		n        = flag.Int("n", 5000, "number of checks / listeners")
		addr     = flag.String("addr", "127.0.0.1", "listener address")
		base     = flag.Int("base", 20000, "first listener port")
		interval = flag.Duration("interval", time.Second, "check interval")
		warmup   = flag.Duration("warmup", 5*time.Second, "time before measuring")
		window   = flag.Duration("window", 30*time.Second, "measured time")
		workers  = flag.Int("workers", 0, "scheduler workers (0: default)")
		serve    = flag.Bool("serve", false, "only run the listeners until stdin closes or a signal")
		external = flag.Bool("external", false, "listeners already run (tcpbench -serve); do not start them")
		conf     = flag.String("conf", "", "write a keepalived.conf for the same targets to this file and exit")
		vip      = flag.String("vip", "192.0.2.100:80", "virtual server for -conf")
		pid      = flag.String("pid", "", "measure CPU share and RSS of this process over -window and exit")
		countF   = flag.String("count-file", "", "with -serve: write the number of accepted connections here every second")
		cpuprof  = flag.String("cpuprofile", "", "write a CPU profile of the measurement")
	)
	flag.Parse()
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tcpbench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "tcpbench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *n, *addr, *base, *interval, *warmup, *window, *workers, *serve, *external, *conf, *vip, *pid, *countF); err != nil {
		fmt.Fprintln(os.Stderr, "tcpbench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(ctx context.Context, n int, addr string, base int, interval, warmup, window time.Duration, workers int,
	serve, external bool, conf, vip, pid, countFile string) error {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return err
	}
	targets := make([]netip.AddrPort, n)
	for i := range targets {
		targets[i] = netip.AddrPortFrom(ip, uint16(base+i))
	}
	switch {
	case pid != "":
		return measurePID(ctx, pid, window)
	case conf != "":
		f, err := os.Create(conf)
		if err != nil {
			return err
		}
		if err := bench.KeepalivedConf(f, netip.MustParseAddrPort(vip), targets, interval); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	case serve:
		listenAddr := ip
		var accepted atomic.Int64
		if _, err := bench.Serve(ctx, listenAddr, base, n, &accepted); err != nil {
			return err
		}
		fmt.Println("ready")
		if countFile != "" {
			go func() {
				for {
					select {
					case <-ctx.Done():
						return
					case <-time.After(time.Second):
						_ = os.WriteFile(countFile, fmt.Appendf(nil, "%d\n", accepted.Load()), 0o644)
					}
				}
			}()
		}
		done := make(chan struct{})
		go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
		select {
		case <-ctx.Done():
		case <-done:
		}
		return nil
	}
	if !external {
		child := exec.CommandContext(ctx, os.Args[0], "-serve", "-n", fmt.Sprint(n), "-addr", addr, "-base", fmt.Sprint(base))
		stdin, err := child.StdinPipe()
		if err != nil {
			return err
		}
		out, err := child.StdoutPipe()
		if err != nil {
			return err
		}
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			return err
		}
		defer func() { stdin.Close(); _ = child.Wait() }()
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "ready" {
			return fmt.Errorf("listener child: %q %v", line, err)
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := bench.Measure(ctx, log, targets, interval, warmup, window, workers)
	fmt.Println("vipd:", st)
	return err
}

// measurePID samples another process's CPU and RSS over window.
func measurePID(ctx context.Context, pid string, window time.Duration) error {
	c0, err := bench.ProcCPU(pid)
	if err != nil {
		return err
	}
	t0 := time.Now()
	select {
	case <-time.After(window):
	case <-ctx.Done():
		return ctx.Err()
	}
	c1, err := bench.ProcCPU(pid)
	if err != nil {
		return err
	}
	el := time.Since(t0)
	fmt.Printf("pid %s: window=%v cpu=%.1f%% of one core rss=%.1fMiB hwm=%.1fMiB\n", pid, el.Round(time.Millisecond),
		100*float64(c1-c0)/float64(el), float64(bench.ProcStatus(pid, "VmRSS:"))/(1<<20), float64(bench.ProcStatus(pid, "VmHWM:"))/(1<<20))
	return nil
}
