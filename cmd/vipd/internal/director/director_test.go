package director

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipd/vipd/checks"
	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/lvs"
	"github.com/vipd/vipd/lvs/lvstest"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func service(instance string, reals ...string) plan.Service {
	st := lvs.ServiceState{Service: lvs.Service{Address: netip.MustParseAddrPort("192.0.2.100:80"), Protocol: lvs.TCP,
		Scheduler: "rr", Forwarding: lvs.NAT}, Quorum: 1, Instance: instance}
	svc := plan.Service{Name: "TCP 192.0.2.100:80"}
	for _, r := range reals {
		a := netip.MustParseAddrPort(r)
		st.Reals = append(st.Reals, lvs.RealState{Real: lvs.Real{Address: a, Weight: 1}, Healthy: true})
		svc.Reals = append(svc.Reals, plan.Real{Address: a})
	}
	svc.State = st
	return svc
}

func TestDesiredAppliesHealth(t *testing.T) {
	svc := service("", "192.0.2.11:80", "192.0.2.12:80")
	up := checks.NewTCPChecker(netip.MustParseAddrPort("127.0.0.1:1"))
	svc.Reals[0].Checks = []plan.Check{{ID: "up", Checker: up, Params: checks.Params{InitialUp: true}}}
	svc.Reals[1].Checks = []plan.Check{{ID: "up2", Checker: up, Params: checks.Params{InitialUp: true}},
		{ID: "down", Checker: up, Params: checks.Params{InitialUp: false}}}
	d := New(discard, lvs.NewReconciler(lvstest.New(), lvs.Config{Logger: discard}), nil, Options{Services: []plan.Service{svc}})
	got := d.desired()
	if len(got) != 1 || !got[0].Reals[0].Healthy || got[0].Reals[1].Healthy {
		t.Fatalf("health not applied: %+v", got)
	}
	if svc.State.Reals[1].Healthy != true {
		t.Fatal("desired changed the plan's state")
	}
}

// TestFollowLatestStateWins: a burst of transitions (more than any queue
// would hold) ends with the service programmed as the last one says.
func TestFollowLatestStateWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := lvstest.New()
		d := New(discard, lvs.NewReconciler(fake, lvs.Config{Logger: discard}), nil,
			Options{Services: []plan.Service{service("VI_1", "192.0.2.11:80")}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- d.Run(ctx) }()
		programmed := func() bool {
			ss, err := fake.GetServices()
			return err == nil && len(ss) == 1
		}
		synctest.Wait()
		if programmed() {
			t.Fatal("service programmed before VI_1 became master")
		}
		for i := range 1000 {
			d.Follow("VI_1", i%2 == 0)
		}
		d.Follow("VI_1", true)
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if !programmed() {
			t.Fatal("service not programmed after the last transition to master")
		}
		for range 100 {
			d.Follow("VI_1", true)
			d.Follow("VI_1", false)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if programmed() {
			t.Fatal("service still programmed after the last transition to backup")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// TestUpdateReconcilesByDifference: a reload that adds a real server adds
// exactly that destination; the unchanged one is not touched and its check
// keeps its state.
func TestUpdateReconcilesByDifference(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := lvstest.New()
		up := checks.NewTCPChecker(netip.MustParseAddrPort("127.0.0.1:1"))
		svc := service("", "192.0.2.11:80")
		svc.Reals[0].Checks = []plan.Check{{ID: "rs11", Checker: up, Params: checks.Params{Interval: time.Hour, InitialUp: true}}}
		d := New(discard, lvs.NewReconciler(fake, lvs.Config{Logger: discard}), nil, Options{Services: []plan.Service{svc}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- d.Run(ctx) }()
		synctest.Wait()
		before, _ := d.sched.State("rs11")
		fake.ResetCalls()

		svc2 := service("", "192.0.2.11:80", "192.0.2.12:80")
		svc2.Reals[0].Checks = svc.Reals[0].Checks
		if added, removed := d.Update([]plan.Service{svc2}); added != 0 || removed != 0 {
			t.Errorf("Update changed %d/%d checks, want none", added, removed)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		var ops []string
		for _, c := range fake.Calls() {
			ops = append(ops, c.Op+" "+c.Dest)
		}
		if len(ops) != 1 || ops[0] != "NewDestination 192.0.2.12:80" {
			t.Errorf("kernel calls %q, want one NewDestination of 192.0.2.12:80", ops)
		}
		after, _ := d.sched.State("rs11")
		if !after.Since.Equal(before.Since) {
			t.Errorf("the unchanged check was restarted (since %v → %v)", before.Since, after.Since)
		}
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}
