//go:build linux

package lvs

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vipd/vipd/test/vm/vmnet"
)

type daemonID struct {
	State     SyncState
	Interface string
	SyncID    uint8
}

func daemonIDs(t *testing.T, s *SyncConn) []daemonID {
	t.Helper()
	ds, err := s.SyncDaemons(t.Context())
	if err != nil {
		t.Fatalf("SyncDaemons: %v", err)
	}
	out := []daemonID{}
	for _, d := range ds {
		out = append(out, daemonID{d.State, d.Interface, d.SyncID})
	}
	return out
}

// TestKernelSyncDaemon runs a master sync daemon on one director and a
// backup on another and checks that a connection made through the master
// shows up in the backup's connection table.
func TestKernelSyncDaemon(t *testing.T) {
	requireKernel(t)
	l := newLab(t)
	dir2 := vmnet.New(t, "vlvs-dir2")
	vmnet.Veth(t, l.dir, "sync0", dir2, "sync0")
	l.dir.Up(t, "sync0", "203.0.113.1/24")
	dir2.Up(t, "sync0", "203.0.113.2/24")
	l.dir.WaitOperUp(t, "sync0")
	dir2.WaitOperUp(t, "sync0")

	master, err := OpenSync(int(l.dir.FD))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close() })
	backup, err := OpenSync(int(dir2.FD))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { backup.Close() })
	ctx := t.Context()

	if diff := cmp.Diff([]daemonID{}, daemonIDs(t, master)); diff != "" {
		t.Fatalf("daemons before start (-want +got):\n%s", diff)
	}
	if err := master.StartSyncDaemon(ctx, SyncMaster, "sync0", 7); err != nil {
		t.Fatal(err)
	}
	if err := master.StartSyncDaemon(ctx, SyncMaster, "sync0", 7); err != nil {
		t.Errorf("starting the same daemon again: %v, want nil", err)
	}
	if err := master.StartSyncDaemon(ctx, SyncMaster, "lo", 8); err == nil {
		t.Error("starting a second master daemon with other parameters succeeded, want an error")
	}
	if err := master.StopSyncDaemon(ctx, SyncBackup); err != nil {
		t.Errorf("stopping a daemon that does not run: %v, want nil", err)
	}
	if err := backup.SwitchSyncDaemon(ctx, SyncBackup, "sync0", 7); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]daemonID{{SyncMaster, "sync0", 7}}, daemonIDs(t, master)); diff != "" {
		t.Errorf("master's daemons (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]daemonID{{SyncBackup, "sync0", 7}}, daemonIDs(t, backup)); diff != "" {
		t.Errorf("backup's daemons (-want +got):\n%s", diff)
	}

	// Both directors program the same service; traffic goes through the master.
	st := []ServiceState{{
		Service: Service{Address: labVIPPort, Scheduler: "rr", Forwarding: NAT},
		Reals:   l.health([]int{1, 1, 1}, ForwardDefault, -1),
	}}
	for _, ns := range []*vmnet.NS{l.dir, dir2} {
		if err := NewReconciler(ns.IPVS(t), Config{}).Reconcile(ctx, st); err != nil {
			t.Fatalf("%s: reconcile: %v", ns.Name, err)
		}
	}
	client := netip.MustParseAddr("198.51.100.2")
	if got := l.connect(l.client, 3); got["error"] != 0 {
		t.Fatalf("connections through the master: %v", got)
	}
	if conns, err := connsTo(l.dir, client); err != nil || len(conns) == 0 {
		t.Fatalf("master's ip_vs_conn has no connection from %v (%v)", client, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	start := time.Now()
	for {
		conns, err := connsTo(dir2, client)
		if err != nil {
			t.Fatal(err)
		}
		if len(conns) > 0 {
			t.Logf("backup has %d synced connection(s) after %v, e.g. %s", len(conns), time.Since(start).Round(10*time.Millisecond), conns[0])
			break
		}
		if time.Now().After(deadline) {
			s, _ := dir2.ReadFile("/proc/thread-self/net/ip_vs_conn")
			t.Fatalf("no connection from %v reached the backup in 20s; its table:\n%s", client, s)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Failover: the backup becomes master.
	if err := backup.SwitchSyncDaemon(ctx, SyncMaster, "sync0", 7); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]daemonID{{SyncMaster, "sync0", 7}}, daemonIDs(t, backup)); diff != "" {
		t.Errorf("after the switch, backup's daemons (-want +got):\n%s", diff)
	}
	// A VRRP flap: a master daemon stopped right after it started. When
	// its thread has not run yet the kernel stops it without answering
	// (-EINTR, no netlink ack); StopSyncDaemon must still succeed, quickly.
	for i := 0; i < 5; i++ {
		start := time.Now()
		if err := backup.SwitchSyncDaemon(ctx, SyncBackup, "sync0", 7); err != nil {
			t.Fatalf("flap %d: %v", i, err)
		}
		if err := backup.SwitchSyncDaemon(ctx, SyncMaster, "sync0", 7); err != nil {
			t.Fatalf("flap %d: %v", i, err)
		}
		if d := time.Since(start); d > 2*stopAckWait+time.Second {
			t.Errorf("flap %d took %v", i, d)
		}
	}
	if diff := cmp.Diff([]daemonID{{SyncMaster, "sync0", 7}}, daemonIDs(t, backup)); diff != "" {
		t.Errorf("after flapping, backup's daemons (-want +got):\n%s", diff)
	}
	for i, s := range []*SyncConn{master, backup} {
		start := time.Now()
		if err := s.StopSyncDaemon(ctx, SyncMaster); err != nil {
			t.Errorf("stop %d: %v", i, err)
		}
		t.Logf("stop %d took %v", i, time.Since(start))
	}
	if diff := cmp.Diff([]daemonID{}, daemonIDs(t, master)); diff != "" {
		t.Errorf("daemons after stop (-want +got):\n%s", diff)
	}
}
