package aliyun

import (
	"testing"

	"github.com/vipd/vipd/providers/cloudtest"
)

// BenchmarkFailover measures one failover as the agent runs it (see
// cloudtest.BenchFailover); for havip the emulated GARP moves the master
// right after Acquire. Run: `go test -run '^$' -bench Failover -benchtime 5x ./providers/aliyun/`.
func BenchmarkFailover(b *testing.B) {
	cloudtest.BenchFailover(b, testVIP, []cloudtest.FailoverCase{
		benchMode(Options{Mode: ModeHaVip, HaVipID: havipID}, func(f *fakeCloud) {
			f.havip.master, f.havip.associated = peerInst, []string{ourInst, peerInst}
		}, func(f *fakeCloud) { f.havip.master = ourInst }),
		benchMode(Options{Mode: ModeRouteEntry, RouteTableIDs: []string{table}}, func(f *fakeCloud) {
			f.routes["192.0.2.100/32"] = &fakeRoute{id: "rte-1", table: table, hopType: "Instance", hopID: peerInst, status: "Available"}
		}, nil),
		benchMode(Options{Mode: ModeSecondaryIP}, func(f *fakeCloud) {
			f.enis = map[string][]string{peerENI: {"192.0.2.100"}}
		}, nil),
	})
}

// benchMode is a BenchFailover case: reset puts the VIP back on the peer,
// garp (may be nil) is what the new master's GARP does at the cloud.
func benchMode(opts Options, reset, garp func(*fakeCloud)) cloudtest.FailoverCase {
	return cloudtest.FailoverCase{Name: opts.Mode, Setup: func(b *testing.B) cloudtest.Failover {
		p, srv, f := setup(b, opts, reset)
		return cloudtest.Failover{Provider: p, Server: srv, Reset: cloudtest.Locked(&f.mu, f, reset), GARP: cloudtest.Locked(&f.mu, f, garp)}
	}}
}
