package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vipd/vipd/providers/aws/awstest"
)

// TestCheckCloud runs `vipd check --cloud` against the EC2 emulator: ready
// when the role may write, NOT READY naming the denied call otherwise, and
// nothing written either way.
func TestCheckCloud(t *testing.T) {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
		"AWS_DEFAULT_REGION", "AWS_EC2_METADATA_DISABLED", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/vipd-test")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/vipd-test")
	cloud, err := awstest.NewCloud("", []string{""}, []string{"192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer cloud.Close()
	cfg := writeConfig(t, fmt.Sprintf(`instances:
  - name: VI_1
    interface: eth0
    vrid: 51
    unicast_src_ip: 192.0.2.1
    unicast_peers: [192.0.2.2]
    vips: [198.51.100.10/32]
    provider: {type: aws, mode: route-table, route_table_ids: [rtb-1], eni_id: eni-0, instance_id: i-0, endpoint: %q, metadata_endpoint: %q}
`, cloud.EC2.URL(), cloud.Nodes[0].IMDS.URL()))

	code, out, stderr := vipd(t, "", nil, "check", "--offline", "--cloud", "-c", cfg)
	if code != 0 || !strings.Contains(out, "VI_1 aws/route-table: ready") || !strings.HasSuffix(out, "ok\n") {
		t.Fatalf("check --cloud = %d\n%s\n%s", code, out, stderr)
	}
	cloud.EC2.Deny("ReplaceRoute")
	code, out, _ = vipd(t, "", nil, "check", "--offline", "--cloud", "-c", cfg)
	if code != 1 || !strings.Contains(out, "NOT READY") || !strings.Contains(out, "UnauthorizedOperation") {
		t.Fatalf("check --cloud with ReplaceRoute denied = %d\n%s", code, out)
	}
	if n := cloud.EC2.TotalWrites(); n != 0 {
		t.Fatalf("check --cloud wrote %d times", n)
	}
}
