package integration

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vipd/vipd/test/harness"
)

// TestSystemdNotify runs vipd as systemd would with Type=notify: READY=1
// once its instance has started, RELOADING=1 then READY=1 around a SIGHUP
// reload, STOPPING=1 on SIGTERM (sd_notify(3) over NOTIFY_SOCKET).
func TestSystemdNotify(t *testing.T) {
	b := harness.New(t, 1)
	dir := t.TempDir()
	sockPath := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sockPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n1 := b.Node(1)
	in := pairInstance(b, n1, 150, 3, 100*time.Millisecond, false)
	cfg := harness.WriteFile(t, dir, "n1-vipd.yaml", harness.VipdConfig(n1, n1.StatusSocket(dir), in))
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "NOTIFY_SOCKET=" + sockPath}
	p := n1.StartEnv(t, "n1-vipd", dir, env, vipd(t), "run", "-c", cfg)

	// Each notification is one datagram; wait for the next one that
	// contains want (bounded).
	next := func(want string) {
		t.Helper()
		buf := make([]byte, 4096)
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			_ = conn.SetReadDeadline(deadline)
			n, err := conn.Read(buf)
			if err != nil {
				break
			}
			if strings.Contains(string(buf[:n]), want) {
				return
			}
		}
		t.Fatalf("no %q from vipd over NOTIFY_SOCKET:\n%s", want, p.Output())
	}
	next("READY=1")
	if !strings.Contains(p.Output(), "vipd started") {
		t.Fatalf("READY=1 before the agent started:\n%s", p.Output())
	}
	p.Signal(syscall.SIGHUP)
	next("RELOADING=1")
	next("READY=1")
	p.Signal(syscall.SIGTERM)
	next("STOPPING=1")
	if err := p.Wait(10 * time.Second); err != nil {
		t.Fatalf("vipd did not stop cleanly: %v\n%s", err, p.Output())
	}
}
