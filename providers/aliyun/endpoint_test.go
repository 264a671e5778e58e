package aliyun

import (
	"context"
	"testing"

	"github.com/vipd/vipd/providers/cloudtest"
)

// The VPC API (havip, route-entry) and the ECS API (secondary-ip) each go
// to their own endpoint.
func TestSeparateECSAndVPCEndpoints(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", testAK)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret")
	f := newFakeCloud()
	f.havip.id, f.havip.associated = havipID, []string{ourInst}
	f.enis[peerENI] = []string{"192.0.2.100"}
	vpcSrv := cloudtest.New(cloudtest.ActionParam, f.handle)
	defer vpcSrv.Close()
	ecsSrv := cloudtest.New(cloudtest.ActionParam, f.handle)
	defer ecsSrv.Close()
	for _, mode := range []string{ModeHaVip, ModeSecondaryIP} {
		t.Run(mode, func(t *testing.T) {
			vpcSrv.Reset()
			ecsSrv.Reset()
			p, err := New(context.Background(), Options{Mode: mode, HaVipID: havipID, Region: "cn-hangzhou", InstanceID: ourInst, ENIID: ourENI,
				Endpoint: vpcSrv.URL, ECSEndpoint: ecsSrv.URL}, quiet())
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Acquire(context.Background(), testVIP); err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			want, other := vpcSrv, ecsSrv
			if mode == ModeSecondaryIP {
				want, other = ecsSrv, vpcSrv
			}
			if len(want.Requests()) == 0 || len(other.Requests()) != 0 {
				t.Errorf("%s: %v to the right endpoint, %v to the other, want all to the %s API", mode, want.Actions(), other.Actions(), map[bool]string{true: "ECS", false: "VPC"}[mode == ModeSecondaryIP])
			}
		})
	}
}
