package tencent

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkFailover measures one failover as the agent runs it: Acquire,
// then Verify until the cloud confirms (for havip the emulated GARP binds the
// HAVIP right after Acquire; private-ip includes one RUNNING task poll). It
// reports API calls per Acquire and per Verify.
// Run: go test -run '^$' -bench Failover -benchtime 5x ./providers/tencent/
func BenchmarkFailover(b *testing.B) {
	modes := []struct {
		opts  Options
		reset func(*fakeCloud)
		garp  func(*fakeCloud)
	}{
		{Options{Mode: ModeHaVip, HaVipID: havipID}, func(f *fakeCloud) { f.havip.instance, f.havip.eni = peerInst, peerENI },
			func(f *fakeCloud) { f.havip.instance, f.havip.eni = ourInst, ourENI }},
		{Options{Mode: ModePrivateIP, ENIID: ourENI, TaskPoll: TaskPoll{Initial: 50 * time.Millisecond, Max: time.Second, Attempts: 20}}, func(f *fakeCloud) {
			f.enis[ourENI].secondary, f.enis[peerENI].secondary, f.taskRunning = nil, []string{vipIP}, 1
		}, nil},
		{Options{Mode: ModeRoute, ENIID: ourENI, RouteTableIDs: []string{"rtb-1"}}, func(f *fakeCloud) {
			f.tables["rtb-1"] = []*fakeRoute{{id: 7, dst: vipDst, gwType: gatewayType, gwID: peerIP}}
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
