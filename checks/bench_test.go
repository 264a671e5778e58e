package checks_test

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/vipd/vipd/checks/internal/bench"
)

// BenchmarkScheduler5000TCP runs 5,000 TCP checks at a 1 s interval
// against in-process loopback listeners and reports CPU share of one core
// (listeners included; checks/internal/bench/tcpbench runs them in another
// process), RSS and interval drift. One iteration takes ~12 s:
//
//	go test -run '^$' -bench Scheduler5000TCP -benchtime 1x ./checks/
func BenchmarkScheduler5000TCP(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	targets, err := bench.Serve(ctx, netip.MustParseAddr("127.0.0.1"), 0, 5000, nil)
	if err != nil {
		b.Skipf("listeners: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.ResetTimer()
	for range b.N {
		st, err := bench.Measure(ctx, log, targets, time.Second, 2*time.Second, 10*time.Second, 0)
		if err != nil {
			b.Fatal(err)
		}
		if st.Failures > 0 {
			b.Errorf("%d failed attempts against healthy listeners", st.Failures)
		}
		b.ReportMetric(100*st.CPUShare, "cpu%")
		b.ReportMetric(float64(st.RSSBytes)/(1<<20), "rss-MiB")
		b.ReportMetric(float64(st.DriftP50.Microseconds())/1000, "drift-p50-ms")
		b.ReportMetric(float64(st.DriftP99.Microseconds())/1000, "drift-p99-ms")
		b.ReportMetric(float64(st.Attempts)/st.Window.Seconds(), "checks/s")
		b.Log(st)
	}
}
