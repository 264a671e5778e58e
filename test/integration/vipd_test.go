package integration

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vipd/vipd/test/harness"
)

const echoPort = 7777

// startPair starts vipd on n1 (priority 150), waits until n1 holds the VIP,
// then starts n2 (100). n2 starts second so that the election does not
// depend on which process the machine schedules first: with nopreempt, a
// loaded machine starting n2 a skew time earlier would make n2 the master
// for good.
func startPair(t *testing.T, b *harness.Bed, dir string, adv time.Duration, mod func(self *harness.NS, in *harness.Instance)) (p1, p2 *harness.Proc) {
	t.Helper()
	procs := []*harness.Proc{}
	for i, prio := range []int{150, 100} {
		n := b.Node(i + 1)
		in := pairInstance(b, n, prio, 3, adv, false)
		if mod != nil {
			mod(n, &in)
		}
		procs = append(procs, n.StartVipd(t, vipd(t), dir, in))
		if i == 0 {
			if h, err := b.WaitHolder(vip4.Addr(), "n1", 10*time.Second); err != nil {
				t.Fatalf("election: %v (holders %v)\nn1:\n%s", err, h, procs[0].Output())
			}
		}
	}
	return procs[0], procs[1]
}

func TestElectionAndClientReachesMaster(t *testing.T) {
	b := harness.New(t, 2)
	dir := t.TempDir()
	for _, n := range b.Nodes {
		n.StartUDPEcho(t, echoPort)
		n.StartTCPEcho(t, echoPort)
	}
	p1, _ := startPair(t, b, dir, 100*time.Millisecond, nil)
	if got, err := b.Client.AskUDP(vip4.Addr(), echoPort, time.Second); err != nil || got != "n1" {
		t.Fatalf("UDP via VIP: got %q, %v; want n1", got, err)
	}
	if got, err := b.Client.AskTCP(vip4.Addr(), echoPort, time.Second); err != nil || got != "n1" {
		t.Fatalf("TCP via VIP: got %q, %v; want n1", got, err)
	}
	out, err := b.Client.Command(context.Background(), "ping", "-c", "1", "-W", "1", vip4.Addr().String()).CombinedOutput()
	if err != nil {
		t.Fatalf("ping VIP: %v\n%s", err, out)
	}
	// vipd status over the unix socket, human and JSON.
	st, err := exec.Command(vipd(t), "status", "--socket", b.Node(1).StatusSocket(dir)).CombinedOutput()
	if err != nil || !strings.Contains(string(st), "MASTER") || !strings.Contains(string(st), "VI_1") {
		t.Fatalf("vipd status: %v\n%s\nlog:\n%s", err, st, p1.Output())
	}
	js, err := exec.Command(vipd(t), "status", "--json", "--socket", b.Node(2).StatusSocket(dir)).CombinedOutput()
	if err != nil {
		t.Fatalf("vipd status --json: %v\n%s", err, js)
	}
	var parsed struct {
		Instances []struct{ Name, State string } `json:"instances"`
	}
	if err := json.Unmarshal(js, &parsed); err != nil || len(parsed.Instances) != 1 || parsed.Instances[0].State != "BACKUP" {
		t.Fatalf("n2 status --json: %v\n%s", err, js)
	}
}

func TestKill9MasterBackupTakesOver(t *testing.T) {
	b := harness.New(t, 2)
	dir := t.TempDir()
	for _, n := range b.Nodes {
		n.StartUDPEcho(t, echoPort)
	}
	p1, p2 := startPair(t, b, dir, 100*time.Millisecond, nil)
	p1.Kill9()
	// kill -9 leaves the VIP on n1 (nothing can remove it); n2 must take it
	// and the client must reach n2 through it once n2 has announced.
	deadline := time.Now().Add(5 * time.Second)
	for !b.Node(2).HasAddr(vip4.Addr()) {
		if time.Now().After(deadline) {
			t.Fatalf("n2 did not take the VIP after kill -9 of n1\n%s", p2.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got, err := b.Client.AskUDP(vip4.Addr(), echoPort, time.Second); err != nil || got != "n2" {
		t.Fatalf("after failover UDP via VIP: got %q, %v; want n2", got, err)
	}
	// n1 restarts: the stale VIP is removed at start, then n1 preempts back.
	p1b := b.Node(1).StartVipd(t, vipd(t), dir, pairInstance(b, b.Node(1), 150, 3, 100*time.Millisecond, false))
	if h, err := b.WaitHolder(vip4.Addr(), "n1", 5*time.Second); err != nil {
		t.Fatalf("after restart of n1: %v (holders %v)\n%s", err, h, p1b.Output())
	}
}

func TestSIGTERMHandsOverWithoutGap(t *testing.T) {
	b := harness.New(t, 2)
	dir := t.TempDir()
	for _, n := range b.Nodes {
		n.StartUDPEcho(t, echoPort)
	}
	p1, p2 := startPair(t, b, dir, time.Second, nil)
	pr, err := b.Client.StartProbe(vip4.Addr(), echoPort, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Stop()
	watch := b.WatchHolders(vip4.Addr(), 5*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	t0 := time.Now()
	p1.Signal(syscall.SIGTERM)
	if err := p1.Wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if h, err := b.WaitHolder(vip4.Addr(), "n2", 3*time.Second); err != nil {
		t.Fatalf("after SIGTERM: %v (holders %v)\n%s", err, h, p2.Output())
	}
	time.Sleep(200 * time.Millisecond)
	pr.Stop()
	dual, err := watch.Stop(handoverOverlap(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(dual) > 0 {
		t.Errorf("VIP on two nodes for longer than a handover: %v", dual)
	}
	g := pr.LongestGap(t0, time.Now())
	t.Logf("SIGTERM handover gap %v (advert 1s)", g.Length)
	if pr.LastFrom() != "n2" {
		t.Fatalf("client last answered by %q, want n2", pr.LastFrom())
	}
	// With advert 1s, skew is 609 ms: a plain release would leave a gap that
	// long; make-before-break keeps it far below.
	if g.Length > 300*time.Millisecond {
		t.Errorf("SIGTERM handover gap %v, want < 300ms", g.Length)
	}
	if !strings.Contains(p1.Output(), "stop") {
		t.Errorf("n1 log has no stop line:\n%s", p1.Output())
	}
}
