//go:build linux

package vmnet

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/moby/ipvs"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// NS is a fresh network namespace with an OS thread that lives in it.
// Work runs on that thread through Do; the thread is never unlocked, so it
// exits with its goroutine when the test ends and the namespace goes away
// with its last socket. A process started by Do (exec.Cmd.Start) inherits
// the thread's namespace.
type NS struct {
	Name string          // for messages only
	FD   netns.NsHandle  // the namespace, open until cleanup
	NL   *netlink.Handle // rtnetlink in the namespace (NETLINK_ROUTE only: the VM has no XFRM)
	work chan func()
}

// New unshares a fresh network namespace on a new locked thread, sets its
// lo up and closes it all at t's cleanup.
func New(t testing.TB, name string) *NS {
	t.Helper()
	ns := &NS{Name: name, work: make(chan func())}
	ready := make(chan error, 1)
	go func() { // owned by ns: ends when work is closed at cleanup
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ready <- fmt.Errorf("unshare: %w", err)
			return
		}
		fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ready <- fmt.Errorf("open netns: %w", err)
			return
		}
		ns.FD = netns.NsHandle(fd)
		ready <- nil
		for f := range ns.work {
			f()
		}
	}()
	if err := <-ready; err != nil {
		t.Fatalf("netns %s: %v", name, err)
	}
	nl, err := netlink.NewHandleAt(ns.FD, unix.NETLINK_ROUTE)
	if err != nil {
		close(ns.work)
		t.Fatalf("netns %s: netlink handle: %v", name, err)
	}
	ns.NL = nl
	t.Cleanup(func() {
		nl.Close()
		close(ns.work)
		ns.FD.Close()
	})
	lo, err := nl.LinkByName("lo")
	if err == nil {
		err = nl.LinkSetUp(lo)
	}
	if err != nil {
		t.Fatalf("netns %s: lo up: %v", name, err)
	}
	return ns
}

// Do runs f on the namespace's thread.
func (ns *NS) Do(f func() error) error {
	done := make(chan error, 1)
	ns.work <- func() { done <- f() }
	return <-done
}

// IPVS opens the namespace's IPVS table, closed at t's cleanup.
func (ns *NS) IPVS(t testing.TB) *ipvs.Handle {
	t.Helper()
	var h *ipvs.Handle
	if err := ns.Do(func() (err error) { h, err = ipvs.New(""); return err }); err != nil {
		t.Fatalf("netns %s: ipvs: %v", ns.Name, err)
	}
	t.Cleanup(h.Close)
	return h
}

// Sysctl writes /proc/sys/<key> (slashes, not dots) inside the namespace,
// for each key, value pair of kv.
func (ns *NS) Sysctl(t testing.TB, kv ...string) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		err := ns.Do(func() error { return os.WriteFile("/proc/sys/"+k, []byte(v), 0o644) })
		if err != nil {
			t.Fatalf("netns %s: sysctl %s=%s: %v", ns.Name, k, v, err)
		}
	}
}

// ReadFile reads a per-namespace file such as
// /proc/thread-self/net/ip_vs_conn from the namespace's thread.
func (ns *NS) ReadFile(path string) (string, error) {
	var b []byte
	err := ns.Do(func() (err error) { b, err = os.ReadFile(path); return err })
	return string(b), err
}
