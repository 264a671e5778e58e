package tencent

import (
	"testing"
	"time"

	"github.com/vipd/vipd/providers/cloudtest"
)

// BenchmarkFailover measures one failover as the agent runs it (see
// cloudtest.BenchFailover); for havip the emulated GARP binds the HAVIP
// right after Acquire; private-ip includes one RUNNING task poll.
// Run: `go test -run '^$' -bench Failover -benchtime 5x ./providers/tencent/`.
func BenchmarkFailover(b *testing.B) {
	cloudtest.BenchFailover(b, testVIP, []cloudtest.FailoverCase{
		benchMode(Options{Mode: ModeHaVip, HaVipID: havipID}, func(f *fakeCloud) { f.havip.instance, f.havip.eni = peerInst, peerENI },
			func(f *fakeCloud) { f.havip.instance, f.havip.eni = ourInst, ourENI }),
		benchMode(Options{Mode: ModePrivateIP, ENIID: ourENI, TaskPoll: TaskPoll{Initial: 50 * time.Millisecond, Max: time.Second, Attempts: 20}}, func(f *fakeCloud) {
			f.enis[ourENI].secondary, f.enis[peerENI].secondary, f.taskRunning = nil, []string{vipIP}, 1
		}, nil),
		benchMode(Options{Mode: ModeRoute, ENIID: ourENI, RouteTableIDs: []string{"rtb-1"}}, func(f *fakeCloud) {
			f.tables["rtb-1"] = []*fakeRoute{{id: 7, dst: vipDst, gwType: gatewayType, gwID: peerIP}}
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
