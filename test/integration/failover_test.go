package integration

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vipd/vipd/test/harness"
)

const fast = 100 * time.Millisecond // v3 advert interval where 1 s is not needed

// TestLinkDownMasterGoesFault: with track_interface the master whose eth0
// goes down enters FAULT and releases the VIP; the backup takes it and the
// client reaches it; when the link comes back the master preempts back.
func TestLinkDownMasterGoesFault(t *testing.T) {
	b := harness.New(t, 2)
	dir := t.TempDir()
	startEcho(t, b)
	p1, p2 := startPair(t, b, dir, fast, func(_ *harness.NS, in *harness.Instance) { in.TrackInterface = true })
	n1, n2 := b.Node(1), b.Node(2)
	mustReach(t, b, vip4.Addr(), "n1")

	if err := n1.LinkDown(); err != nil {
		t.Fatal(err)
	}
	st := mustState(t, n1, dir, "VI_1", "FAULT", 3*time.Second, p1)
	if !strings.Contains(st.Reason, "eth0") {
		t.Errorf("n1 FAULT reason %q does not name eth0", st.Reason)
	}
	// Released by n1 (its address would otherwise linger on the down link)
	// and taken by n2.
	mustHolder(t, b, vip4.Addr(), "n2", 3*time.Second, p1, p2)
	mustState(t, n2, dir, "VI_1", "MASTER", time.Second, p2)
	mustReach(t, b, vip4.Addr(), "n2")

	if err := n1.LinkUp(); err != nil {
		t.Fatal(err)
	}
	mustHolder(t, b, vip4.Addr(), "n1", 5*time.Second, p1, p2)
	mustState(t, n1, dir, "VI_1", "MASTER", time.Second, p1)
	mustState(t, n2, dir, "VI_1", "BACKUP", time.Second, p2)
	mustReach(t, b, vip4.Addr(), "n1")
}

// TestRecoveryPreemptModes: a higher-priority node that returns (restart
// after kill -9) takes the VIP back with preempt, stays backup with
// preempt: false (nopreempt), and waits ≈ preempt_delay with a delay.
func TestRecoveryPreemptModes(t *testing.T) {
	const delay = 2 * time.Second
	tests := []struct {
		name      string
		noPreempt bool
		delay     time.Duration
		takesBack bool
	}{
		{name: "preempt", takesBack: true},
		{name: "nopreempt", noPreempt: true},
		{name: "preempt_delay", delay: delay, takesBack: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := harness.New(t, 2)
			dir := t.TempDir()
			startEcho(t, b)
			mod := func(_ *harness.NS, in *harness.Instance) {
				in.NoPreempt, in.PreemptDelay = tt.noPreempt, tt.delay
			}
			p1, p2 := startPair(t, b, dir, fast, mod)
			n1, n2 := b.Node(1), b.Node(2)
			// n1 resigns cleanly so no stale VIP is involved.
			p1.Signal(syscall.SIGTERM)
			if err := p1.Wait(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			mustHolder(t, b, vip4.Addr(), "n2", 3*time.Second, p1, p2)

			in := pairInstance(b, n1, 150, 3, fast, false)
			mod(n1, &in)
			t0 := time.Now()
			p1b := n1.StartVipd(t, vipd(t), dir, in)
			if !tt.takesBack {
				mustState(t, n1, dir, "VI_1", "BACKUP", 3*time.Second, p1b)
				// Several Master_Down_Intervals: n1 must stay backup.
				time.Sleep(1500 * time.Millisecond)
				mustState(t, n1, dir, "VI_1", "BACKUP", 0, p1b)
				mustState(t, n2, dir, "VI_1", "MASTER", 0, p2)
				mustHolder(t, b, vip4.Addr(), "n2", 0, p1b, p2)
				mustReach(t, b, vip4.Addr(), "n2")
				return
			}
			if tt.delay > 0 {
				// Still n2's well inside the delay.
				time.Sleep(tt.delay / 2)
				mustState(t, n1, dir, "VI_1", "BACKUP", 0, p1b)
				mustHolder(t, b, vip4.Addr(), "n2", 0, p1b, p2)
			}
			mustHolder(t, b, vip4.Addr(), "n1", tt.delay+3*time.Second, p1b, p2)
			took := time.Since(t0)
			t.Logf("n1 took the VIP back %v after its restart (preempt_delay %v)", took, tt.delay)
			// Start-up, the delay, then one Master_Down_Interval (≈0.35 s).
			if took < tt.delay || took > tt.delay+1500*time.Millisecond {
				t.Errorf("n1 took the VIP back after %v, want ≈ %v (+ < 1.5 s)", took, tt.delay)
			}
			mustState(t, n2, dir, "VI_1", "BACKUP", 2*time.Second, p2)
			mustReach(t, b, vip4.Addr(), "n1")
		})
	}
}

// TestTrackScriptMovesVIP: a failing track_script with weight -60 drops the
// master (150 → 90) below the backup (100): the VIP moves and comes back
// when the script succeeds again; with weight 0 the failure means FAULT.
func TestTrackScriptMovesVIP(t *testing.T) {
	for _, tt := range []struct {
		name   string
		weight int
		state  string // n1's state while failing
		prio   int    // n1's effective priority while failing
	}{
		{name: "weight-60", weight: -60, state: "BACKUP", prio: 90},
		{name: "weight0_fault", weight: 0, state: "FAULT", prio: 150},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := harness.New(t, 2)
			dir := t.TempDir()
			startEcho(t, b)
			flag := uniqueFile(t, b, "ok")
			if err := os.WriteFile(flag, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(flag) })
			p1, p2 := startPair(t, b, dir, fast, func(n *harness.NS, in *harness.Instance) {
				if n.Role == "n1" {
					in.TrackScript, in.TrackWeight, in.TrackInterval = "test -f "+flag, tt.weight, 200*time.Millisecond
				}
			})
			n1 := b.Node(1)
			mustReach(t, b, vip4.Addr(), "n1")
			if err := os.Remove(flag); err != nil {
				t.Fatal(err)
			}
			mustHolder(t, b, vip4.Addr(), "n2", 3*time.Second, p1, p2)
			st := mustState(t, n1, dir, "VI_1", tt.state, 2*time.Second, p1)
			if tt.state == "BACKUP" && st.EffectivePriority != tt.prio {
				t.Errorf("n1 effective priority while failing = %d, want %d", st.EffectivePriority, tt.prio)
			}
			mustReach(t, b, vip4.Addr(), "n2")

			if err := os.WriteFile(flag, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			mustHolder(t, b, vip4.Addr(), "n1", 3*time.Second, p1, p2)
			st = mustState(t, n1, dir, "VI_1", "MASTER", 2*time.Second, p1)
			if st.EffectivePriority != 150 {
				t.Errorf("n1 effective priority after recovery = %d, want 150", st.EffectivePriority)
			}
			mustReach(t, b, vip4.Addr(), "n1")
		})
	}
}

// TestThreeNodesCascade: 150/120/100; kill -9 the master → 120 takes over;
// kill -9 that one → 100.
func TestThreeNodesCascade(t *testing.T) {
	b := harness.New(t, 3)
	dir := t.TempDir()
	startEcho(t, b)
	var ps []*harness.Proc
	for i, prio := range []int{150, 120, 100} {
		n := b.Node(i + 1)
		ps = append(ps, n.StartVipd(t, vipd(t), dir, pairInstance(b, n, prio, 3, fast, false)))
	}
	mustHolder(t, b, vip4.Addr(), "n1", 10*time.Second, ps...)
	mustState(t, b.Node(2), dir, "VI_1", "BACKUP", 2*time.Second, ps[1])
	mustState(t, b.Node(3), dir, "VI_1", "BACKUP", 2*time.Second, ps[2])
	mustReach(t, b, vip4.Addr(), "n1")

	for _, step := range []struct {
		kill int
		want string
	}{{1, "n2"}, {2, "n3"}} {
		ps[step.kill-1].Kill9()
		// kill -9 leaves the VIP on the dead node; the next one must take it.
		if !waitFor(3*time.Second, func() bool { return b.Node(step.kill + 1).HasAddr(vip4.Addr()) }) {
			t.Fatalf("%s did not take the VIP after kill -9 of n%d (holders %v)\n%s", step.want, step.kill, b.Holders(vip4.Addr()), tail(ps[step.kill].Output(), 40))
		}
		mustState(t, b.Node(step.kill+1), dir, "VI_1", "MASTER", time.Second, ps[step.kill])
		if step.kill == 1 {
			// The third node must stay backup behind the 120.
			mustState(t, b.Node(3), dir, "VI_1", "BACKUP", 0, ps[2])
			if b.Node(3).HasAddr(vip4.Addr()) {
				t.Fatalf("n3 holds the VIP while n2 is master")
			}
		}
		mustReach(t, b, vip4.Addr(), step.want)
	}
}

// TestNotifyScript: notify gets "INSTANCE VI_1 <STATE> <priority>" for every
// transition, in order: BACKUP, MASTER, then STOP on SIGTERM.
func TestNotifyScript(t *testing.T) {
	b := harness.New(t, 2)
	dir := t.TempDir()
	out := uniqueFile(t, b, "notify")
	t.Cleanup(func() { os.Remove(out) })
	script := harness.WriteFile(t, dir, "notify.sh", "#!/bin/sh\necho \"$@\" >> "+out+"\n")
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	p1, _ := startPair(t, b, dir, fast, func(n *harness.NS, in *harness.Instance) {
		if n.Role == "n1" {
			in.Extra = "notify: " + script
		}
	})
	p1.Signal(syscall.SIGTERM)
	if err := p1.Wait(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	var got []string
	ok := waitFor(3*time.Second, func() bool {
		data, _ := os.ReadFile(out)
		got = strings.Split(strings.TrimSpace(string(data)), "\n")
		return len(got) >= 3
	})
	want := []string{"INSTANCE VI_1 BACKUP 150", "INSTANCE VI_1 MASTER 150", "INSTANCE VI_1 STOP 150"}
	if !ok || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("notify lines:\n%s\nwant:\n%s\nlog:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), tail(p1.Output(), 30))
	}
}
