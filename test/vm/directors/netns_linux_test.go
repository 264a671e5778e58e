//go:build linux

package directors

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// requireVM skips unless the test runs as root inside the kernel VM: it
// starts vipd processes that program IPVS and move addresses, which only
// the VM's kernel (IP_VS) and throw-away network stack allow.
func requireVM(t *testing.T) {
	t.Helper()
	if os.Getenv("VIPD_IN_VM") != "1" {
		t.Skip("skip: director-pair tests run only in the kernel VM: test/vm/run-director-tests.sh")
	}
	if os.Geteuid() != 0 {
		t.Skip("skip: director-pair tests need root")
	}
}

// netNS is a fresh network namespace with an OS thread that lives in it.
// Work runs on that thread through do; the thread is never unlocked, so it
// exits with its goroutine when the test ends. A process started by do
// (exec.Cmd.Start) inherits the thread's namespace.
type netNS struct {
	name string
	fd   netns.NsHandle
	work chan func()
	nl   *netlink.Handle
}

func newNS(t *testing.T, name string) *netNS {
	t.Helper()
	ns := &netNS{name: name, work: make(chan func())}
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
		ns.fd = netns.NsHandle(fd)
		ready <- nil
		for f := range ns.work {
			f()
		}
	}()
	if err := <-ready; err != nil {
		t.Fatalf("netns %s: %v", name, err)
	}
	nl, err := netlink.NewHandleAt(ns.fd, unix.NETLINK_ROUTE)
	if err != nil {
		close(ns.work)
		t.Fatalf("netns %s: netlink handle: %v", name, err)
	}
	ns.nl = nl
	t.Cleanup(func() {
		nl.Close()
		close(ns.work)
		ns.fd.Close()
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

// do runs f on the namespace's thread.
func (ns *netNS) do(f func() error) error {
	done := make(chan error, 1)
	ns.work <- func() { done <- f() }
	return <-done
}

// sysctl writes /proc/sys/<key> (slashes) inside the namespace.
func (ns *netNS) sysctl(t *testing.T, kv ...string) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		err := ns.do(func() error { return os.WriteFile("/proc/sys/"+k, []byte(v), 0o644) })
		if err != nil {
			t.Fatalf("netns %s: sysctl %s=%s: %v", ns.name, k, v, err)
		}
	}
}

// readFile reads a per-namespace file such as /proc/thread-self/net/ip_vs.
func (ns *netNS) readFile(path string) (string, error) {
	var b []byte
	err := ns.do(func() (err error) { b, err = os.ReadFile(path); return err })
	return string(b), err
}
