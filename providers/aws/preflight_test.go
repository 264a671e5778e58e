package aws

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/providers"
)

func results(v providers.Verdict) map[string]providers.CheckResult {
	out := map[string]providers.CheckResult{}
	for _, c := range v.Checks {
		out[c.Name] = c.Result
	}
	return out
}

func TestPreflight(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		deny string
		want map[string]providers.CheckResult
	}{
		{
			name: "route-table allowed",
			opts: Options{Mode: ModeRouteTable, RouteTableIDs: []string{"rtb-1"}},
			want: map[string]providers.CheckResult{
				"credentials": "ok", "identity": "ok", "read 10.0.0.100/24": "ok",
				"write CreateRoute rtb-1 10.0.0.100/32": "ok", "write ReplaceRoute rtb-1 10.0.0.100/32": "ok",
			},
		},
		{
			name: "route-table ReplaceRoute denied",
			opts: Options{Mode: ModeRouteTable, RouteTableIDs: []string{"rtb-1"}},
			deny: "ReplaceRoute",
			want: map[string]providers.CheckResult{
				"credentials": "ok", "identity": "ok", "read 10.0.0.100/24": "ok",
				"write CreateRoute rtb-1 10.0.0.100/32": "ok", "write ReplaceRoute rtb-1 10.0.0.100/32": "failed",
			},
		},
		{
			name: "eip denied",
			opts: Options{Mode: ModeEIP, AllocationID: "eipalloc-1"},
			deny: "AssociateAddress",
			want: map[string]providers.CheckResult{
				"credentials": "ok", "identity": "ok", "read 10.0.0.100/24": "ok", "write AssociateAddress eipalloc-1": "failed",
			},
		},
		{
			name: "secondary-ip: no dry run for the write",
			opts: Options{Mode: ModeSecondaryIP},
			want: map[string]providers.CheckResult{
				"credentials": "ok", "identity": "ok", "read 10.0.0.100/24": "ok", "write AssignPrivateIpAddresses": "skipped",
			},
		},
		{
			name: "read denied",
			opts: Options{Mode: ModeSecondaryIP},
			deny: "DescribeNetworkInterfaces",
			want: map[string]providers.CheckResult{
				"credentials": "ok", "identity": "failed", "read 10.0.0.100/24": "failed", "write AssignPrivateIpAddresses": "skipped",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			p := e.provider(t, tt.opts)
			if tt.deny != "" {
				e.ec2.Deny(tt.deny)
			}
			v, err := p.Preflight(ctxT(t), vip)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, results(v)); diff != "" {
				t.Errorf("checks (-want +got):\n%s\n%s", diff, v)
			}
			if n := e.ec2.TotalWrites(); n != 0 {
				t.Errorf("%d writes applied by Preflight, want 0", n)
			}
			if tt.deny != "" && !strings.Contains(v.String(), "UnauthorizedOperation") {
				t.Errorf("verdict does not name UnauthorizedOperation:\n%s", v)
			}
			if v.OK() != (tt.deny == "") {
				t.Errorf("OK = %v", v.OK())
			}
		})
	}
}
