package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The child mode of the test binary: when statusClientEnv names a socket,
// TestStatusSocketClientChild reads the status and requests a reload on it
// and prints what happened, one line each.
const statusClientEnv = "VIPD_TEST_STATUS_CLIENT"

func TestStatusSocketClientChild(t *testing.T) {
	path := os.Getenv(statusClientEnv)
	if path == "" {
		t.Skip("child mode of TestStatusSocketAccess")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := FetchStatus(ctx, path)
	fmt.Printf("STATUS %s\n", outcome(err))
	_, err = RequestReload(ctx, path)
	fmt.Printf("RELOAD %s\n", outcome(err))
}

func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, syscall.EACCES):
		return "denied"
	}
	return "error " + err.Error()
}

// TestStatusSocketAccess proves, with real users (root needed), that the
// status socket is root's only by default: nobody can read neither the
// status nor request a reload; and that with a group set, a member of the
// group can do both and a non-member still cannot.
func TestStatusSocketAccess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (runs clients as nobody)")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody:", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	// A group nobody is not in, to grant and then to join.
	grp, err := user.LookupGroup("daemon")
	if err != nil {
		t.Skip("no group daemon:", err)
	}
	daemonGID, _ := strconv.Atoi(grp.Gid)

	// The child must be able to reach the socket and run the binary: a
	// world-traversable directory with a copy of the test binary.
	dir, err := os.MkdirTemp("", "vipd-sock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "agent.test")
	copyFile(t, bin)

	var reloads atomic.Int32
	serve := func(t *testing.T, group string) string {
		path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".sock")
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan error, 1)
		done := make(chan error, 1)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		go func() {
			done <- serveStatus(ctx, log, path, group, func() Status { return Status{Node: "n"} },
				func(context.Context) (string, error) { reloads.Add(1); return "reloaded", nil }, ready)
		}()
		if err := <-ready; err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("status server: %v", err)
			}
		})
		return path
	}
	run := func(t *testing.T, path string, groups []uint32) string {
		cmd := exec.Command(bin, "-test.run=^TestStatusSocketClientChild$", "-test.v")
		cmd.Dir = dir
		cmd.Env = []string{statusClientEnv + "=" + path}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		var got []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "STATUS ") || strings.HasPrefix(l, "RELOAD ") {
				got = append(got, l)
			}
		}
		return strings.Join(got, "; ")
	}
	mode := func(t *testing.T, path string) (os.FileMode, uint32) {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Gid
	}

	const denied, allowed = "STATUS denied; RELOAD denied", "STATUS ok; RELOAD ok"
	t.Run("default root only", func(t *testing.T) {
		path := serve(t, "")
		if m, _ := mode(t, path); m != 0o600 {
			t.Errorf("socket mode %v, want 0600", m)
		}
		if got := run(t, path, nil); got != denied {
			t.Errorf("nobody: %s, want %s", got, denied)
		}
		if got := run(t, path, []uint32{uint32(daemonGID)}); got != denied {
			t.Errorf("nobody in group daemon: %s, want %s", got, denied)
		}
	})
	t.Run("group", func(t *testing.T) {
		path := serve(t, "daemon")
		if m, g := mode(t, path); m != 0o660 || int(g) != daemonGID {
			t.Errorf("socket mode %v group %d, want 0660 group %d", m, g, daemonGID)
		}
		if got := run(t, path, nil); got != denied {
			t.Errorf("nobody, not in daemon: %s, want %s", got, denied)
		}
		before := reloads.Load()
		if got := run(t, path, []uint32{uint32(daemonGID)}); got != allowed {
			t.Errorf("nobody in group daemon: %s, want %s", got, allowed)
		}
		if n := reloads.Load(); n != before+1 {
			t.Errorf("reloads %d, want %d", n, before+1)
		}
	})
	t.Run("numeric group", func(t *testing.T) {
		path := serve(t, strconv.Itoa(daemonGID))
		if m, g := mode(t, path); m != 0o660 || int(g) != daemonGID {
			t.Errorf("socket mode %v group %d, want 0660 group %d", m, g, daemonGID)
		}
	})
	t.Run("unknown group", func(t *testing.T) {
		_, err := listenStatus(filepath.Join(dir, "x.sock"), "no-such-group-vipd")
		if err == nil || !strings.Contains(err.Error(), "status socket group") {
			t.Errorf("listenStatus with an unknown group: %v", err)
		}
	})
}

func copyFile(t *testing.T, dst string) {
	t.Helper()
	src, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
