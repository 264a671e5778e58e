//go:build linux

package lvs

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

// requireKernel skips unless the test can program a real IPVS table: root
// and either inside the test VM (VIPD_IN_VM=1) or a kernel with IP_VS.
func requireKernel(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skip: kernel IPVS tests need root")
	}
	if os.Getenv("VIPD_IN_VM") != "1" {
		if _, err := os.Stat("/proc/net/ip_vs"); err != nil {
			t.Skip("skip: this kernel has no IP_VS; run them in the VM: test/vm/run-lvs-tests.sh")
		}
	}
}

// testNS is a fresh network namespace with an OS thread that lives in it.
// Work runs on that thread through do; the thread is never unlocked, so it
// exits with its goroutine when the test ends and the namespace goes away
// with its last socket.
type testNS struct {
	name string
	fd   netns.NsHandle
	work chan func()
	nl   *netlink.Handle
}

func newNS(t *testing.T, name string) *testNS {
	t.Helper()
	ns := &testNS{name: name, work: make(chan func())}
	ready := make(chan error, 1)
	go func() {
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
func (ns *testNS) do(f func() error) error {
	done := make(chan error, 1)
	ns.work <- func() { done <- f() }
	return <-done
}

// ipvs opens the namespace's IPVS table.
func (ns *testNS) ipvs(t *testing.T) *ipvs.Handle {
	t.Helper()
	var h *ipvs.Handle
	if err := ns.do(func() (err error) { h, err = ipvs.New(""); return err }); err != nil {
		t.Fatalf("netns %s: ipvs: %v", ns.name, err)
	}
	t.Cleanup(h.Close)
	return h
}

// sysctl writes /proc/sys/<key> (dots as slashes) inside the namespace.
func (ns *testNS) sysctl(t *testing.T, kv ...string) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		err := ns.do(func() error { return os.WriteFile("/proc/sys/"+k, []byte(v), 0o644) })
		if err != nil {
			t.Fatalf("netns %s: sysctl %s=%s: %v", ns.name, k, v, err)
		}
	}
}

// readFile reads a per-namespace file such as /proc/thread-self/net/ip_vs_conn.
func (ns *testNS) readFile(path string) (string, error) {
	var b []byte
	err := ns.do(func() (err error) { b, err = os.ReadFile(path); return err })
	return string(b), err
}
