package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/cmd/vipd/internal/plan"
)

func TestRunConfig(t *testing.T) {
	tests := []struct {
		args  string
		path  string
		isRun bool
	}{
		{args: "/usr/sbin/vipd run -c /etc/vipd/a.yaml", path: "/etc/vipd/a.yaml", isRun: true},
		{args: "vipd run --config=b.yaml --log-level debug", path: "b.yaml", isRun: true},
		{args: "vipd --config c.yaml run", path: "c.yaml", isRun: true},
		{args: "vipd run", path: defaultConfigPath, isRun: true},
		{args: "vipd cleanup -c /etc/vipd/a.yaml", path: "/etc/vipd/a.yaml"},
		{args: "vipd status", path: defaultConfigPath},
		{args: "/usr/bin/keepalived run -c /etc/vipd/a.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			path, isRun := runConfig(strings.Fields(tt.args))
			if isRun != tt.isRun || (tt.isRun && path != tt.path) {
				t.Errorf("runConfig = %q, %v; want %q, %v", path, isRun, tt.path, tt.isRun)
			}
		})
	}
}

// fakeProc writes a /proc-like tree: one directory per pid with cmdline
// (NUL-separated) and a cwd symlink.
func fakeProc(t *testing.T, procs map[string]string, cwd string) string {
	t.Helper()
	root := t.TempDir()
	for pid, cmd := range procs {
		d := filepath.Join(root, pid)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "cmdline"), []byte(strings.ReplaceAll(cmd, " ", "\x00")+"\x00"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(cwd, filepath.Join(d, "cwd")); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestVipdRunning(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vipd.yaml")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A stale socket file: bound, then closed (as after kill -9).
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	live := filepath.Join(dir, "live.sock")
	ll, err := net.Listen("unix", live)
	if err != nil {
		t.Fatal(err)
	}
	defer ll.Close()

	tests := []struct {
		name   string
		socket string
		procs  map[string]string
		want   bool
		why    string
	}{
		{name: "nothing", socket: filepath.Join(dir, "missing.sock"), want: false},
		{name: "stale socket", socket: stale, want: false},
		{name: "no socket configured", want: false},
		{name: "socket answers", socket: live, want: true, why: "answers"},
		{name: "vipd run with the same file (absolute)", socket: stale, procs: map[string]string{"42": "/usr/bin/vipd run -c " + cfg}, want: true, why: "process 42"},
		{name: "vipd run with the same file (relative to its cwd)", socket: stale, procs: map[string]string{"43": "vipd run -c vipd.yaml"}, want: true, why: "process 43"},
		{name: "vipd run with another file", socket: stale, procs: map[string]string{"44": "vipd run -c /etc/vipd/other.yaml"}, want: false},
		{name: "ourselves", socket: stale, procs: map[string]string{"7": "vipd run -c " + cfg}, want: false},
		{name: "vipd cleanup is not a run", socket: stale, procs: map[string]string{"45": "vipd cleanup -c " + cfg}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proc := fakeProc(t, tt.procs, dir)
			why, got := vipdRunning(tt.socket, cfg, proc, 7)
			if got != tt.want || !strings.Contains(why, tt.why) {
				t.Errorf("vipdRunning = %q, %v; want %v (reason containing %q)", why, got, tt.want, tt.why)
			}
		})
	}
}

func TestCleanupRefusesWhileRunning(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "vipd.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg := writeConfig(t, `global:
  status_socket: `+sock+`
instances:
  - name: VI_1
    interface: lo
    vrid: 51
    unicast_src_ip: 192.0.2.1
    vips: ["192.0.2.100/24"]
`)
	code, _, stderr := vipd(t, "", nil, "cleanup", "-c", cfg)
	if code == 0 || !strings.Contains(stderr, "refusing: vipd is running") || !strings.Contains(stderr, sock) {
		t.Errorf("cleanup while running: exit %d, stderr %q; want non-zero and a refusal naming the socket", code, stderr)
	}
}

func TestLVSKeys(t *testing.T) {
	cfg := writeConfig(t, `
virtual_server_groups:
  - name: G
    members: ["192.0.2.50-52:443", "fwmark 9"]
virtual_servers:
  - address: 192.0.2.100:80
    real_servers: [{address: 192.0.2.11:80}]
  - address: "[2001:db8::100]:53"
    protocol: UDP
    real_servers: [{address: "[2001:db8::11]:53"}]
  - fwmark: 3
    real_servers: [{address: "[2001:db8::11]:0"}]
  - group: G
    real_servers: [{address: 192.0.2.11:443}]
`)
	p, _, err := plan.Load(cfg, []string{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range lvsKeys(p) {
		got = append(got, k.String())
	}
	want := []string{"TCP 192.0.2.100:80", "UDP [2001:db8::100]:53", "FWM 3 IPv6",
		"TCP 192.0.2.50:443", "TCP 192.0.2.51:443", "TCP 192.0.2.52:443", "FWM 9"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lvsKeys (-want +got):\n%s", diff)
	}
}
