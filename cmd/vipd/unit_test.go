package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const unitPath = "../../deploy/systemd/vipd.service"

// TestSystemdUnitVerifies runs `systemd-analyze verify` on the shipped
// unit (skipped where systemd-analyze is not installed). The binary path
// is pointed at this test's executable, since verify also checks that
// ExecStart= and friends exist; a unit with an unknown directive must
// fail, so the check is real.
func TestSystemdUnitVerifies(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (apt-get install systemd): unit not verified")
	}
	body, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	verify := func(unit string) (string, error) {
		dir := t.TempDir()
		p := filepath.Join(dir, "vipd.service")
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(unit, "/usr/local/sbin/vipd", self)), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, sa, "verify", "--man=no", p).CombinedOutput()
		return string(out), err
	}
	if out, err := verify(string(body)); err != nil || strings.Contains(out, "vipd.service:") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	bad := strings.Replace(string(body), "[Service]\n", "[Service]\nNoSuchDirective=1\nType=bogus\n", 1)
	if out, err := verify(bad); err == nil && !strings.Contains(out, "vipd.service:") {
		t.Errorf("systemd-analyze verify accepted a broken unit:\n%s", out)
	}
}

// TestSystemdUnitLifecycle checks the lifecycle settings issue 11 asks
// for, so an edit cannot drop one silently.
func TestSystemdUnitLifecycle(t *testing.T) {
	body, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, l := range strings.Split(string(body), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			set[l] = true
		}
	}
	for _, want := range []string{
		"Type=notify",
		"NotifyAccess=main",
		"ExecReload=/bin/kill -HUP $MAINPID",
		"ExecStopPost=-/usr/local/sbin/vipd cleanup -c /etc/vipd/vipd.yaml",
		"WatchdogSec=20s",
		"ExecStart=/usr/local/sbin/vipd run -c /etc/vipd/vipd.yaml",
		"NoNewPrivileges=yes",
		"ProtectSystem=strict",
		"CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_SETUID CAP_SETGID CAP_KILL",
	} {
		if !set[want] {
			t.Errorf("unit lacks %q", want)
		}
	}
}
