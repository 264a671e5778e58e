package tencent

import (
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
		{"private-ip", Options{Mode: ModePrivateIP, ENIID: ourENI}, nil, map[string]providers.CheckResult{
			"credentials": "ok", "identity": "ok", "read 192.0.2.100/24": "ok", "write MigratePrivateIpAddress, AssignPrivateIpAddresses": "skipped"}},
		{"havip outside the drift range", Options{Mode: ModeHaVip, HaVipID: havipID}, func(f *fakeCloud) { f.havip.checkAssociate = true }, map[string]providers.CheckResult{
			"credentials": "ok", "identity": "failed", "read 192.0.2.100/24": "ok"}},
		{"route, table missing", Options{Mode: ModeRoute, RouteTableIDs: []string{"rtb-none"}, ENIID: ourENI}, nil, map[string]providers.CheckResult{
			"credentials": "ok", "identity": "ok", "read 192.0.2.100/24": "failed", "write ReplaceRoutes, CreateRoutes, EnableRoutes": "skipped"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, srv, _ := setup(t, tt.opts, tt.prep)
			v, err := p.Preflight(ctxT(t), testVIP)
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
			if w := writes(t, srv); len(w) != 0 {
				t.Errorf("Preflight wrote %v", w)
			}
		})
	}
}
