package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipd/vipd/cmd/vipd/internal/director"
	"github.com/vipd/vipd/cmd/vipd/internal/plan"
	"github.com/vipd/vipd/configs"
	"github.com/vipd/vipd/lvs"
	"github.com/vipd/vipd/lvs/lvstest"
	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/providertest"
	"github.com/vipd/vipd/vrrp"
	"github.com/vipd/vipd/vrrp/vrrptest"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// node is one agent on a fake host: VRRP over a vrrptest.Network, the VIP
// on a providertest.Fake, IPVS on an lvstest.Fake.
type node struct {
	addr  netip.Addr
	local *providertest.Fake
	ipvs  *lvstest.Fake
	a     *agent
	stop  context.CancelFunc
	done  chan error
}

func nodeConfig(self, peer string, prio int) string {
	return fmt.Sprintf(`global: {status_socket: ""}
instances:
  - name: VI_1
    interface: eth0
    vrid: 51
    priority: %d
    advert_interval: 1s
    unicast_src_ip: %s
    unicast_peers: [%s]
    vips: [192.0.2.100/24]
virtual_servers:
  - address: 192.0.2.100:80
    scheduler: rr
    vrrp_instance: VI_1
    real_servers: [{address: 192.0.2.11:80}]
`, prio, self, peer)
}

func fakeHost(t *testing.T, net *vrrptest.Network, n *node) Host {
	return Host{
		Listen: func(family int) (vrrp.Conn, error) { return net.NewConn(n.addr, 2) },
		Clock:  vrrp.RealClock(), // synctest's
		Interface: func(name string) (Interface, error) {
			if name != "eth0" {
				return Interface{}, fmt.Errorf("interface %s: no such interface", name)
			}
			return Interface{Index: 2, Addrs: []netip.Addr{n.addr}}, nil
		},
		WatchLinks: func(ctx context.Context, _ *slog.Logger, names []string, changed func(string, bool)) error {
			for _, name := range names {
				changed(name, true)
			}
			return nil
		},
		Providers: func(context.Context, plan.Instance, *slog.Logger) (providers.Provider, providers.Provider, func(), error) {
			return n.local, nil, func() {}, nil
		},
		IPVS:       func(cfg lvs.Config) (*lvs.Reconciler, error) { return lvs.NewReconciler(n.ipvs, cfg), nil },
		SyncDaemon: func() (director.SyncDaemon, error) { return nil, fmt.Errorf("no sync daemon here") },
	}
}

func startNode(t *testing.T, net *vrrptest.Network, self, peer string, prio int) *node {
	t.Helper()
	cfg, err := configs.LoadBytes([]byte(nodeConfig(self, peer, prio)), nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{addr: netip.MustParseAddr(self), local: providertest.New("local"), ipvs: lvstest.New(), done: make(chan error, 1)}
	n.a = newAgent(p, discard.With("node", self), fakeHost(t, net, n))
	ctx, cancel := context.WithCancel(context.Background())
	n.stop = cancel
	go func() { n.done <- n.a.run(ctx) }()
	return n
}

func (n *node) state() string {
	st := n.a.status()
	if len(st.Instances) == 0 {
		return ""
	}
	return st.Instances[0].State
}

func (n *node) programmed() bool {
	ss, err := n.ipvs.GetServices()
	return err == nil && len(ss) == 1
}

var vip = providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.100/24"), Interface: "eth0"}

// TestAgentElectionHoldsVIPAndProgramsLVS runs two whole agents on fake
// hosts: the higher priority becomes master, holds the VIP and programs the
// linked service; on stop the other takes over and the first releases.
func TestAgentElectionHoldsVIPAndProgramsLVS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := vrrptest.NewNetwork(nil)
		n1 := startNode(t, net, "192.0.2.1", "192.0.2.2", 150)
		n2 := startNode(t, net, "192.0.2.2", "192.0.2.1", 100)
		// Both start as backup; n1's Master_Down_Interval (3 s + skew) ends first.
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if s1, s2 := n1.state(), n2.state(); s1 != "MASTER" || s2 != "BACKUP" {
			t.Fatalf("states %s, %s; want MASTER, BACKUP", s1, s2)
		}
		if !n1.local.Held(vip) || n2.local.Held(vip) {
			t.Fatalf("vip held by n1 %v, n2 %v; want n1 only", n1.local.Held(vip), n2.local.Held(vip))
		}
		if !n1.programmed() || n2.programmed() {
			t.Fatalf("service programmed on n1 %v, n2 %v; want n1 only", n1.programmed(), n2.programmed())
		}
		if st := n1.a.status().Instances[0]; st.ProviderState != "confirmed" || st.Provider != "netlink" {
			t.Errorf("n1 provider state %q (%s), want confirmed (netlink)", st.ProviderState, st.Provider)
		}

		// Stop n1: priority 0, n2 takes over after its skew time, n1 releases.
		n1.stop()
		if err := <-n1.done; err != nil {
			t.Fatalf("n1 run: %v", err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if s2 := n2.state(); s2 != "MASTER" {
			t.Fatalf("n2 state %s after n1 stopped, want MASTER", s2)
		}
		if n1.local.Held(vip) || !n2.local.Held(vip) {
			t.Fatalf("vip held by n1 %v, n2 %v; want n2 only", n1.local.Held(vip), n2.local.Held(vip))
		}
		if n1.programmed() || !n2.programmed() {
			t.Fatalf("service programmed on n1 %v, n2 %v; want n2 only", n1.programmed(), n2.programmed())
		}
		n2.stop()
		if err := <-n2.done; err != nil {
			t.Fatalf("n2 run: %v", err)
		}
	})
}

// TestStatusDuringStartup polls status (as `vipd status` and the metrics
// scraper do) while the agent starts and stops; run with -race.
func TestStatusDuringStartup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := vrrptest.NewNetwork(nil)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var n *node
		ready := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = n.a.status()
				collectAll(n.a)
				time.Sleep(time.Millisecond)
			}
		}()
		n = startNode(t, net, "192.0.2.1", "192.0.2.2", 150)
		close(ready)
		time.Sleep(5 * time.Second)
		n.stop()
		if err := <-n.done; err != nil {
			t.Error(err)
		}
		close(stop)
		wg.Wait()
	})
}

func collectAll(a *agent) {
	_, _ = a.metrics.reg.Gather()
}

func buildPlan(t *testing.T, yaml string) *plan.Plan {
	t.Helper()
	cfg, err := configs.LoadBytes([]byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReloadLeastDisruption: an unchanged reload changes nothing; a VIP and
// a real server added and removed on the master are added and removed in
// place, without a transition; a change that cannot apply live is refused
// and the old configuration stays.
func TestReloadLeastDisruption(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := vrrptest.NewNetwork(nil)
		n1 := startNode(t, net, "192.0.2.1", "192.0.2.2", 150)
		n2 := startNode(t, net, "192.0.2.2", "192.0.2.1", 100)
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if n1.state() != "MASTER" {
			t.Fatalf("n1 is %s, want MASTER", n1.state())
		}
		transitions := func() int { return len(n1.local.Calls()) }
		since := n1.a.status().Instances[0].Since
		ctx := context.Background()

		// Unchanged: nothing happens.
		before := transitions()
		n1.ipvs.ResetCalls()
		sum, err := n1.a.Reload(ctx, buildPlan(t, nodeConfig("192.0.2.1", "192.0.2.2", 150)))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		writes := slices.DeleteFunc(n1.ipvs.Calls(), func(c lvstest.Call) bool { return strings.HasPrefix(c.Op, "Get") })
		if transitions() != before || len(writes) != 0 || n1.a.status().Instances[0].Since != since {
			t.Fatalf("an unchanged reload did something: provider calls %d→%d, ipvs %v, since %v→%v (%s)",
				before, transitions(), n1.ipvs.Calls(), since, n1.a.status().Instances[0].Since, sum)
		}

		// A VIP and a real server added.
		more := strings.Replace(nodeConfig("192.0.2.1", "192.0.2.2", 150), "vips: [192.0.2.100/24]", "vips: [192.0.2.100/24, 192.0.2.101/32]", 1)
		more = strings.Replace(more, "real_servers: [{address: 192.0.2.11:80}]", "real_servers: [{address: 192.0.2.11:80}, {address: 192.0.2.12:80}]", 1)
		if sum, err = n1.a.Reload(ctx, buildPlan(t, more)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		vip2 := providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.101/32"), Interface: "eth0"}
		if !n1.local.Held(vip) || !n1.local.Held(vip2) || n1.local.Count(providertest.OpRelease) != 0 {
			t.Fatalf("after adding a vip: held %v %v, releases %d (%s)", n1.local.Held(vip), n1.local.Held(vip2), n1.local.Count(providertest.OpRelease), sum)
		}
		var ops []string
		for _, c := range n1.ipvs.Calls() {
			if !strings.HasPrefix(c.Op, "Get") {
				ops = append(ops, c.Op+" "+c.Dest)
			}
		}
		if len(ops) != 1 || ops[0] != "NewDestination 192.0.2.12:80" {
			t.Fatalf("ipvs calls %q, want one NewDestination 192.0.2.12:80", ops)
		}
		if n1.state() != "MASTER" || n1.a.status().Instances[0].Since != since {
			t.Fatal("adding a vip caused a transition")
		}

		// Removed again.
		if _, err = n1.a.Reload(ctx, buildPlan(t, nodeConfig("192.0.2.1", "192.0.2.2", 150))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if !n1.local.Held(vip) || n1.local.Held(vip2) {
			t.Fatalf("after removing a vip: held %v %v", n1.local.Held(vip), n1.local.Held(vip2))
		}

		// A sync group cannot be added live: refused, nothing changes.
		grouped := nodeConfig("192.0.2.1", "192.0.2.2", 150) + "sync_groups: [{name: G, instances: [VI_1]}]\n"
		if _, err = n1.a.Reload(ctx, buildPlan(t, grouped)); !errors.Is(err, ErrRestartNeeded) {
			t.Fatalf("reload adding a sync group: %v, want ErrRestartNeeded", err)
		}
		if n1.state() != "MASTER" {
			t.Fatal("a refused reload changed the state")
		}

		if r := n1.a.status().Reloads; r != 3 {
			t.Errorf("status counts %d reloads applied, want 3", r)
		}
		// The instance removed: it resigns, n2 takes over, n1 releases.
		none := "global: {status_socket: \"\"}\nvirtual_servers:\n  - address: 192.0.2.100:80\n    scheduler: rr\n    real_servers: [{address: 192.0.2.11:80}]\n"
		if _, err = n1.a.Reload(ctx, buildPlan(t, none)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if n2.state() != "MASTER" || n1.local.Held(vip) || len(n1.a.status().Instances) != 0 {
			t.Fatalf("after removing the instance: n2 %s, n1 holds %v, n1 instances %d", n2.state(), n1.local.Held(vip), len(n1.a.status().Instances))
		}
		n1.stop()
		n2.stop()
		if err := errors.Join(<-n1.done, <-n2.done); err != nil {
			t.Error(err)
		}
	})
}

func mustAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }
func newFakeLocal() *providertest.Fake { return providertest.New("local") }
func newFakeIPVS() *lvstest.Fake       { return lvstest.New() }
