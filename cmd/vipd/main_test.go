package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/cmd/vipd/internal/agent"
	"github.com/vipd/vipd/configs"
)

// vipd runs the command line and returns exit code, stdout, stderr.
func vipd(t *testing.T, stdin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb strings.Builder
	if env == nil {
		env = []string{}
	}
	code := execute(args, strings.NewReader(stdin), &out, &errb, env)
	return code, out.String(), errb.String()
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "vipd.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	good := writeConfig(t, "instances: [{name: VI_1, interface: eth0, vrid: 5, vips: [192.0.2.100/24]}]\n")
	bad := writeConfig(t, "instances: [{name: VI_1, interface: eth0, vrid: 0, priority: 300, vips: [192.0.2.100/24]}]\n")
	tests := []struct {
		name     string
		args     []string
		env      []string
		wantCode int
		wantOut  string
	}{
		{"ok offline", []string{"check", "--offline", "-c", good}, nil, 0, "ok\n"},
		{"every error", []string{"check", "--offline", "-c", bad}, nil, 1,
			"instances[0].vrid: 0 is out of range 1..255\ninstances[0].priority: 300 is out of range 1..255\n"},
		{"env fixes it", []string{"check", "--offline", "-c", bad}, []string{"VIPD_INSTANCES_0_VRID=9", "VIPD_INSTANCES_0_PRIORITY=200"}, 0, "ok\n"},
		{"load error", []string{"check", "--offline", "-c", good}, []string{"VIPD_INSTANCES_0_VIPS=10.1.1"}, 1,
			"instances[0].vips[0]: \"10.1.1\" is not an IP address\n"},
		{"nothing configured", []string{"check", "--offline", "-c", ""}, nil, 1,
			"instances: none configured (and no virtual_servers): nothing to do\n"},
		{"host interfaces", []string{"check", "-c", good}, []string{"VIPD_INSTANCES_0_INTERFACE=vipd-nope0"}, 1,
			"instances[0].interface: interface vipd-nope0 does not exist\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := vipd(t, "", tt.env, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d", code, tt.wantCode)
			}
			if diff := cmp.Diff(tt.wantOut, out); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunRefusesInvalidConfig(t *testing.T) {
	// A missing interface is a host problem: run logs it and waits for the
	// interface (test/integration covers that); a bad value is fatal.
	bad := writeConfig(t, "instances: [{name: VI_1, interface: lo, vrid: 0, vips: [192.0.2.100/32]}]\n")
	code, _, stderr := vipd(t, "", nil, "run", "-c", bad)
	if code != 1 || !strings.Contains(stderr, "instances[0].vrid") {
		t.Errorf("run = %d, stderr %q", code, stderr)
	}
	code, _, stderr = vipd(t, "", nil, "run", "-c", bad, "--log-format", "xml")
	if code != 1 || !strings.Contains(stderr, `global.log_format: "xml" is not one of text, json`) {
		t.Errorf("run --log-format xml = %d, stderr %q", code, stderr)
	}
}

func TestMigrate(t *testing.T) {
	code, out, stderr := vipd(t, "", nil, "migrate", "../../configs/testdata/keepalived/vipd-pair.conf")
	if code != 0 {
		t.Fatalf("migrate = %d: %s", code, stderr)
	}
	cfg, err := configs.LoadBytes([]byte(out), nil)
	if err != nil {
		t.Fatalf("migrated YAML does not load: %v\n%s", err, out)
	}
	if len(cfg.Instances) != 2 || cfg.Instances[0].Name != "VI_1" || cfg.Global.Node != "lb1" {
		t.Errorf("migrated config = %+v", cfg)
	}
	if !strings.Contains(stderr, "warning: line 51: 192.0.2.100/24: label eth0:vip not converted") {
		t.Errorf("stderr lacks the label warning:\n%s", stderr)
	}
	if strings.Contains(out, "warning") {
		t.Errorf("warnings on stdout:\n%s", out)
	}

	// stdin, and a syntax error.
	code, out, _ = vipd(t, "vrrp_instance X {\n interface eth0\n virtual_router_id 3\n virtual_ipaddress { 192.0.2.9 }\n}\n", nil, "migrate", "-")
	if code != 0 || !strings.Contains(out, "vrid: 3") {
		t.Errorf("migrate - = %d:\n%s", code, out)
	}
	code, _, stderr = vipd(t, "vrrp_instance X {\n", nil, "migrate", "-")
	if code != 1 || !strings.Contains(stderr, "missing }") {
		t.Errorf("migrate of a broken file = %d, %q", code, stderr)
	}

	// @ID lines with --config-id; a refusal names the line and writes nothing.
	in := "vrrp_instance X {\n interface eth0\n@lb1 virtual_router_id 3\n@lb2 virtual_router_id 4\n virtual_ipaddress { 192.0.2.9 }\n}\n"
	code, out, stderr = vipd(t, in, nil, "migrate", "--config-id", "lb2", "-")
	if code != 0 || !strings.Contains(out, "vrid: 4") {
		t.Errorf("migrate --config-id lb2 = %d:\n%s%s", code, out, stderr)
	}
	code, out, stderr = vipd(t, in, nil, "migrate", "-")
	if code != 1 || out != "" || !strings.Contains(stderr, "line 3: ") || !strings.Contains(stderr, "--config-id") {
		t.Errorf("migrate without --config-id = %d, stdout %q, stderr %q", code, out, stderr)
	}
	ah := "vrrp_instance X {\n interface eth0\n virtual_router_id 3\n authentication {\n auth_type AH\n auth_pass x\n }\n virtual_ipaddress { 192.0.2.9 }\n}\n"
	code, out, stderr = vipd(t, ah, nil, "migrate", "-")
	if code != 1 || out != "" || !strings.Contains(stderr, "line 5: auth_type AH") {
		t.Errorf("migrate of auth_type AH = %d, stdout %q, stderr %q", code, out, stderr)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := vipd(t, "", nil, "version")
	if code != 0 || !strings.HasPrefix(out, "vipd ") {
		t.Errorf("version = %d %q", code, out)
	}
}

func TestStatus(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "vipd.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	st := agent.Status{Node: "n1", Version: "v1", Instances: []agent.InstanceStatus{{Name: "VI_1", Interface: "eth0", VRID: 51, State: "MASTER", Priority: 100, VIPs: []string{"192.0.2.100/24"}}}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/status" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(st)
	}), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })

	code, out, stderr := vipd(t, "", nil, "status", "--socket", sock)
	if code != 0 || !strings.Contains(out, "VI_1") || !strings.Contains(out, "192.0.2.100/24") {
		t.Errorf("status = %d %q %q", code, out, stderr)
	}
	code, out, _ = vipd(t, "", nil, "status", "--socket", sock, "--json")
	var got agent.Status
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
		t.Fatalf("status --json = %d, %v: %q", code, err, out)
	}
	if diff := cmp.Diff(st, got); diff != "" {
		t.Errorf("status --json (-want +got):\n%s", diff)
	}
	// The socket named by the configuration (here from the environment).
	code, out, _ = vipd(t, "", []string{"VIPD_GLOBAL_STATUS_SOCKET=" + sock}, "status", "-c", "")
	if code != 0 || !strings.Contains(out, "VI_1") {
		t.Errorf("status via global.status_socket = %d %q", code, out)
	}
	code, _, stderr = vipd(t, "", nil, "status", "--socket", filepath.Join(t.TempDir(), "none.sock"))
	if code != 1 || !strings.Contains(stderr, "is vipd running?") {
		t.Errorf("status without agent = %d %q", code, stderr)
	}
}

func TestGenhash(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("hello\n"))
	}))
	t.Cleanup(srv.Close)
	code, out, stderr := vipd(t, "", nil, "genhash", srv.URL+"/")
	// md5("hello\n")
	if code != 0 || out != "MD5SUM = b1946ac92492d2347c6235b4d2611184\n" {
		t.Errorf("genhash = %d %q %q", code, out, stderr)
	}
	code, _, _ = vipd(t, "", nil, "genhash")
	if code != 1 {
		t.Errorf("genhash without URL = %d, want 1", code)
	}
}
