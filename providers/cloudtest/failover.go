package cloudtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vipd/vipd/providers"
)

// CloudProvider is a provider whose state lives at the cloud.
type CloudProvider interface {
	providers.Provider
	providers.Verifier
}

// Failover is one mode under BenchFailover: a provider, the emulator it
// talks to, and how to move the VIP back to the peer.
type Failover struct {
	Provider CloudProvider
	Server   *Server
	// Reset puts the VIP back on the peer (not timed).
	Reset func()
	// GARP, when set, runs right after Acquire: what the new master's
	// gratuitous ARP does at the cloud (havip modes).
	GARP func()
}

// FailoverCase names a mode of BenchFailover and builds its Failover.
type FailoverCase struct {
	Name  string
	Setup func(b *testing.B) Failover
}

// BenchFailover measures one failover per iteration as the agent runs it:
// Acquire, then Verify until the cloud confirms (at most 21 Verify calls),
// for every case at 0 and 200ms of emulated API latency. It reports the API
// calls per Acquire and per Verify.
func BenchFailover(b *testing.B, vip providers.VIP, cases []FailoverCase) {
	for _, lat := range []time.Duration{0, 200 * time.Millisecond} {
		for _, c := range cases {
			b.Run(fmt.Sprintf("%s/latency=%s", c.Name, lat), func(b *testing.B) {
				ctx := context.Background()
				f := c.Setup(b)
				p, srv := f.Provider, f.Server
				srv.SetLatency(lat)
				var acq, ver, verifies int
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					f.Reset()
					srv.Reset()
					b.StartTimer()
					if err := p.Acquire(ctx, vip); err != nil {
						b.Fatal(err)
					}
					acq += len(srv.Requests())
					if f.GARP != nil {
						f.GARP()
					}
					for j := 0; ; j++ {
						o, err := p.Verify(ctx, vip)
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
