package aliyun

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkFailover measures one failover as the agent runs it: Acquire,
// then Verify until the cloud confirms (for havip the emulated GARP moves the
// master right after Acquire). It reports API calls per Acquire and per
// Verify. Run: go test -run '^$' -bench Failover -benchtime 5x ./providers/aliyun/
func BenchmarkFailover(b *testing.B) {
	modes := []struct {
		opts  Options
		reset func(*fakeCloud) // put the VIP back on the peer
		garp  func(*fakeCloud)
	}{
		{Options{Mode: ModeHaVip, HaVipID: havipID}, func(f *fakeCloud) {
			f.havip.master, f.havip.associated = peerInst, []string{ourInst, peerInst}
		}, func(f *fakeCloud) { f.havip.master = ourInst }},
		{Options{Mode: ModeRouteEntry, RouteTableIDs: []string{table}}, func(f *fakeCloud) {
			f.routes["192.0.2.100/32"] = &fakeRoute{id: "rte-1", table: table, hopType: "Instance", hopID: peerInst, status: "Available"}
		}, nil},
		{Options{Mode: ModeSecondaryIP}, func(f *fakeCloud) {
			f.enis = map[string][]string{peerENI: {"192.0.2.100"}}
		}, nil},
	}
	for _, lat := range []time.Duration{0, 200 * time.Millisecond} {
		for _, m := range modes {
			b.Run(fmt.Sprintf("%s/latency=%s", m.opts.Mode, lat), func(b *testing.B) {
				ctx := context.Background()
				p, srv, f := setup(b, m.opts, m.reset)
				srv.SetLatency(lat)
				var acq, ver, verifies int
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					f.mu.Lock()
					m.reset(f)
					f.mu.Unlock()
					srv.Reset()
					b.StartTimer()
					if err := p.Acquire(ctx, testVIP); err != nil {
						b.Fatal(err)
					}
					acq += len(srv.Requests())
					if m.garp != nil {
						f.mu.Lock()
						m.garp(f)
						f.mu.Unlock()
					}
					for j := 0; ; j++ {
						o, err := p.Verify(ctx, testVIP)
						verifies++
						if err != nil {
							b.Fatal(err)
						}
						if o.Here {
							break
						}
						if j == 20 {
							b.Fatal("never confirmed")
						}
					}
					ver += len(srv.Requests())
				}
				ver -= acq
				b.ReportMetric(float64(acq)/float64(b.N), "calls/acquire")
				b.ReportMetric(float64(ver)/float64(verifies), "calls/verify")
			})
		}
	}
}
