package directors

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKernelDirectorReload: a live reload (SIGHUP) that adds a real server
// programs exactly that destination on the real kernel, without a VRRP
// transition, and a live connection to an unchanged real server survives;
// a second reload removes it again.
func TestKernelDirectorReload(t *testing.T) {
	requireVM(t)
	if _, err := os.Stat(vipdBin()); err != nil {
		t.Fatalf("no vipd binary (run.sh -f, or VIPD_BIN): %v", err)
	}
	l := newLab(t)
	all := l.reals
	l.reals = all[:2]
	l.startVipd(l.d1)
	two := []string{"192.0.2.11:80", "192.0.2.12:80"}
	waitProgrammed(t, "start", l.d1, two, 20*time.Second)
	lc, name, err := l.dialLong()
	if err != nil {
		t.Fatalf("long connection: %v", err)
	}
	transitions := strings.Count(l.d1.proc.out.String(), "msg=transition")

	reload := func(step string, n int) {
		t.Helper()
		if err := os.WriteFile(l.d1.cfg, []byte(l.config(l.d1)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := l.d1.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		if _, ok := waitFor(10*time.Second, func() bool {
			return strings.Count(l.d1.proc.out.String(), "configuration reloaded") >= n
		}); !ok {
			t.Fatalf("%s: reload not logged", step)
		}
	}
	l.reals = all
	reload("add a real server", 1)
	waitProgrammed(t, "after adding 192.0.2.13", l.d1, []string{"192.0.2.11:80", "192.0.2.12:80", "192.0.2.13:80"}, 10*time.Second)
	if got, err := lc.Ping(2 * time.Second); err != nil || got != name {
		t.Fatalf("the live connection to %s did not survive the reload: %q, %v", name, got, err)
	}
	l.reals = all[:2]
	reload("remove it", 2)
	waitProgrammed(t, "after removing 192.0.2.13", l.d1, two, 10*time.Second)
	if got, err := lc.Ping(2 * time.Second); err != nil || got != name {
		t.Fatalf("the live connection to %s did not survive the second reload: %q, %v", name, got, err)
	}
	if n := strings.Count(l.d1.proc.out.String(), "msg=transition"); n != transitions {
		t.Fatalf("reloads caused %d VRRP transitions:\n%s", n-transitions, grepLines(l.d1.proc.out.String(), "msg=transition"))
	}
}
