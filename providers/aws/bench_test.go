package aws

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vipd/vipd/providers/aws/awstest"
)

// BenchmarkFailover measures, against the fake EC2 with injected latency,
// the time from Acquire start (master decided) to Verify confirming the VIP
// here, and the API calls that takes. Run:
//
//	go test -run '^$' -bench Failover -benchtime 5x ./providers/aws/
func BenchmarkFailover(b *testing.B) {
	modes := []struct {
		name  string
		opts  Options
		reset func(e *env) // put the VIP on the peer
	}{
		{"secondary-ip", Options{Mode: ModeSecondaryIP}, func(e *env) {
			e.ec2.AddENI(awstest.ENI{ID: ourENI, InstanceID: "i-aaa", PrimaryIP: "10.0.0.10"})
			e.ec2.AddENI(awstest.ENI{ID: peerENI, InstanceID: "i-bbb", PrimaryIP: "10.0.0.11", Secondary: []string{"10.0.0.100"}})
		}},
		{"route-table-2", Options{Mode: ModeRouteTable, RouteTableIDs: []string{"rtb-1", "rtb-2"}}, func(e *env) {
			e.ec2.AddRouteTable("rtb-1", awstest.Route{Destination: "10.0.0.100/32", Target: peerENI})
			e.ec2.AddRouteTable("rtb-2", awstest.Route{Destination: "10.0.0.100/32", Target: peerENI})
		}},
		{"eip", Options{Mode: ModeEIP, AllocationID: "eipalloc-1"}, func(e *env) {
			e.ec2.AddAddress(awstest.Address{AllocationID: "eipalloc-1", PublicIP: "203.0.113.10", AssociationID: "eipassoc-1", ENI: peerENI, PrivateIP: "10.0.0.11"})
		}},
	}
	for _, m := range modes {
		for _, lat := range []time.Duration{0, 200 * time.Millisecond} {
			b.Run(fmt.Sprintf("%s/latency=%s", m.name, lat), func(b *testing.B) {
				e := newEnv(b, "")
				p := e.provider(b, m.opts)
				e.ec2.SetLatency(lat)
				ctx := context.Background()
				var failoverCalls, verifyCalls int
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					m.reset(e)
					e.ec2.Reset()
					b.StartTimer()
					if err := p.Acquire(ctx, vip); err != nil {
						b.Fatal(err)
					}
					confirmed := false
					for try := 0; try < 10 && !confirmed; try++ {
						own, err := p.Verify(ctx, vip)
						if err != nil {
							b.Fatal(err)
						}
						confirmed = own.Here
					}
					if !confirmed {
						b.Fatal("not confirmed after 10 verifies")
					}
					b.StopTimer()
					failoverCalls += len(e.ec2.Requests())
					// Steady state: one drift check.
					e.ec2.Reset()
					if _, err := p.Verify(ctx, vip); err != nil {
						b.Fatal(err)
					}
					verifyCalls += len(e.ec2.Requests())
					b.StartTimer()
				}
				b.ReportMetric(float64(failoverCalls)/float64(b.N), "calls/failover")
				b.ReportMetric(float64(verifyCalls)/float64(b.N), "calls/drift-check")
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/failover")
			})
		}
	}
}
