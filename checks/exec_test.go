package checks

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func intp(v int) *int { return &v }

// script writes an executable shell script into dir and returns its path.
func script(t *testing.T, dir, name, body string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExecCheckerExitCodes(t *testing.T) {
	tests := []struct {
		name    string
		command string
		argv    []string
		dynamic bool
		want    Result
	}{
		{"exit 0", "exit 0", nil, false, Result{OK: true}},
		{"exit 1", "exit 1", nil, false, Result{Reason: "exit 1"}},
		{"exit 3 static", "exit 3", nil, false, Result{Reason: "exit 3"}},
		{"argv true", "", []string{"true"}, false, Result{OK: true}},
		{"argv false", "", []string{"false"}, false, Result{Reason: "exit 1"}},
		{"dynamic exit 0 keeps weight", "exit 0", nil, true, Result{OK: true}},
		{"dynamic exit 1 fails", "exit 1", nil, true, Result{Reason: "exit 1"}},
		{"dynamic exit 2 weight 0", "exit 2", nil, true, Result{OK: true, Weight: intp(0)}},
		{"dynamic exit 12 weight 10", "exit 12", nil, true, Result{OK: true, Weight: intp(10)}},
		{"dynamic exit 255 weight 253", "exit 255", nil, true, Result{OK: true, Weight: intp(253)}},
		{"killed by signal", "kill -9 $$", nil, false, Result{Reason: "signal: killed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewExecChecker(ExecConfig{Command: tt.command, Argv: tt.argv, Dynamic: tt.dynamic, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			got := c.Check(context.Background())
			got.Duration = 0
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check() (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExecCheckerTimeoutKillsGroup runs a script that starts a background
// child; on timeout both must be killed.
func TestExecCheckerTimeoutKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	c, err := NewExecChecker(ExecConfig{
		Command: "sleep 30 & echo $! > " + pidFile + "; wait",
		Timeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got := c.Check(context.Background())
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Check took %v, want about its 300ms timeout", el)
	}
	if got.OK || got.Reason != ReasonTimeout {
		t.Errorf("Check() = {OK:%v Reason:%q}, want timeout", got.OK, got.Reason)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("script did not record its child: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !gone(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("background child %d still running after the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gone reports whether pid no longer runs (absent or a zombie waiting for
// a reaper).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}

func TestExecCheckerContextCancel(t *testing.T) {
	c, err := NewExecChecker(ExecConfig{Command: "sleep 30"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if got := c.Check(ctx); got.OK || got.Reason != ReasonTimeout {
		t.Errorf("Check() = {OK:%v Reason:%q}, want timeout", got.OK, got.Reason)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Check took %v after ctx ended", el)
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (chown, setuid to script_user)")
	}
}

func TestExecCheckerScriptUser(t *testing.T) {
	requireRoot(t)
	ok, err := NewExecChecker(ExecConfig{Command: `test "$(id -u)" = 65534`, User: "nobody", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("NewExecChecker: %v", err)
	}
	if got := ok.Check(context.Background()); !got.OK {
		t.Errorf("as nobody: Check() = %+v, want OK (uid 65534)", got)
	}
	asRoot, err := NewExecChecker(ExecConfig{Command: `test "$(id -u)" = 65534`, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := asRoot.Check(context.Background()); got.OK {
		t.Errorf("without user: Check() OK, want exit 1 (runs as root)")
	}
	if _, err := NewExecChecker(ExecConfig{Command: "true", User: "vc-no-such-user"}); err == nil {
		t.Errorf("unknown script_user: NewExecChecker succeeded, want error")
	}
}

func TestExecCheckerSecurity(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name    string
		setup   func(t *testing.T) string // returns the command
		user    string
		wantErr string // substring; "" = allowed
		wantIs  error
	}{
		{"root-owned 0755 ok", func(t *testing.T) string {
			return script(t, t.TempDir(), "ok.sh", "exit 0", 0o755)
		}, "", "", nil},
		{"world-writable script", func(t *testing.T) string {
			return script(t, t.TempDir(), "ww.sh", "exit 0", 0o757)
		}, "", "is writable by others", ErrScriptInsecure},
		{"group-writable script", func(t *testing.T) string {
			return script(t, t.TempDir(), "gw.sh", "exit 0", 0o775)
		}, "", "is writable by group", ErrScriptInsecure},
		{"owned by another user", func(t *testing.T) string {
			p := script(t, t.TempDir(), "other.sh", "exit 0", 0o755)
			if err := os.Chown(p, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return p
		}, "", "owned by uid 65534", ErrScriptInsecure},
		{"owned by the script user ok", func(t *testing.T) string {
			d := t.TempDir()
			// nobody must be able to reach the script.
			for _, dir := range []string{d, filepath.Dir(d)} {
				if err := os.Chmod(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			p := script(t, d, "mine.sh", "exit 0", 0o755)
			if err := os.Chown(p, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return p
		}, "nobody", "", nil},
		{"directory writable by others", func(t *testing.T) string {
			d := t.TempDir()
			if err := os.Chmod(d, 0o777); err != nil {
				t.Fatal(err)
			}
			return script(t, d, "indir.sh", "exit 0", 0o755)
		}, "", "writable by others", ErrScriptInsecure},
		{"sticky world-writable directory ok", func(t *testing.T) string {
			d := t.TempDir()
			if err := os.Chmod(d, 0o777|os.ModeSticky); err != nil {
				t.Fatal(err)
			}
			return script(t, d, "sticky.sh", "exit 0", 0o755)
		}, "", "", nil},
		{"missing script", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "nope.sh") + " --arg"
		}, "", "not found", ErrScriptMissing},
		{"missing command in PATH", func(t *testing.T) string {
			return "vc-no-such-command-xyz arg"
		}, "", "script vc-no-such-command-xyz not found in PATH", ErrScriptMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := tt.setup(t)
			c, err := NewExecChecker(ExecConfig{Command: cmd, User: tt.user, Security: true, Timeout: 5 * time.Second})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("NewExecChecker(%q): %v, want success", cmd, err)
				}
				if got := c.Check(context.Background()); !got.OK {
					t.Errorf("Check() = %+v, want OK", got)
				}
				return
			}
			if err == nil {
				t.Fatalf("NewExecChecker(%q) succeeded, want error containing %q", cmd, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "script ") {
				t.Errorf("error = %q, want it to contain %q and name the script", err, tt.wantErr)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
		})
	}
}

// TestExecCheckerSecurityRecheck: a script made insecure after
// construction is refused at the next run.
func TestExecCheckerSecurityRecheck(t *testing.T) {
	requireRoot(t)
	p := script(t, t.TempDir(), "later.sh", "exit 0", 0o755)
	c, err := NewExecChecker(ExecConfig{Command: p, Security: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o757); err != nil {
		t.Fatal(err)
	}
	got := c.Check(context.Background())
	if got.OK || !strings.Contains(got.Reason, "writable by others") {
		t.Errorf("Check() = %+v, want refusal naming 'writable by others'", got)
	}
}

func TestExecCheckerMissingWithoutSecurity(t *testing.T) {
	_, err := NewExecChecker(ExecConfig{Command: "/vc-nonexistent/check.sh"})
	if !errors.Is(err, ErrScriptMissing) || !strings.Contains(err.Error(), "script /vc-nonexistent/check.sh not found") {
		t.Errorf("err = %v, want 'script /vc-nonexistent/check.sh not found'", err)
	}
	if _, err := NewExecChecker(ExecConfig{Command: "  "}); err == nil {
		t.Errorf("empty command accepted")
	}
}
