package aliyun

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/providers"
)

func TestPreflight(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		prep func(*fakeCloud)
		want map[string]providers.CheckResult
	}{
		{"secondary-ip", Options{Mode: ModeSecondaryIP}, nil, map[string]providers.CheckResult{
			"credentials": "ok", "identity": "ok", "read 192.0.2.100/24": "ok", "write UnassignPrivateIpAddresses, AssignPrivateIpAddresses": "skipped"}},
		{"havip not associated", Options{Mode: ModeHaVip, HaVipID: havipID}, func(f *fakeCloud) { f.havip.associated = []string{peerInst} }, map[string]providers.CheckResult{
			"credentials": "ok", "identity": "failed", "read 192.0.2.100/24": "ok"}},
		{"route-entry", Options{Mode: ModeRouteEntry, RouteTableIDs: []string{table}}, nil, map[string]providers.CheckResult{
			"credentials": "ok", "identity": "ok", "read 192.0.2.100/24": "ok", "write ModifyRouteEntry, CreateRouteEntry, DeleteRouteEntry": "skipped"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, srv, _ := setup(t, tt.opts, tt.prep)
			v, err := p.Preflight(context.Background(), testVIP)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]providers.CheckResult{}
			for _, c := range v.Checks {
				got[c.Name] = c.Result
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("checks (-want +got):\n%s\n%s", diff, v)
			}
			if w := writes(srv); len(w) != 0 {
				t.Errorf("Preflight wrote %v", w)
			}
		})
	}
}
