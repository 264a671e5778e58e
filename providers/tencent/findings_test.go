package tencent

import (
	"context"
	"fmt"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/providers"
)

// The holder lookup is scoped to our VPC, exact, and paged: twenty ENIs of
// other VPCs reusing the address (a whole default page) are neither taken
// for the holder nor touched; the peer in our VPC is migrated from.
func TestPrivateIPLookupScopedExactPaged(t *testing.T) {
	p, srv, f := setup(t, Options{Mode: ModePrivateIP, ENIID: ourENI}, func(f *fakeCloud) {
		for i := 0; i < 20; i++ {
			f.enis[fmt.Sprintf("eni-a%02d", i)] = &fakeENI{instance: "ins-x", vpc: fmt.Sprintf("vpc-%d", i+2), subnet: "subnet-x", primaryIP: "192.0.2.5", secondary: []string{vipIP}}
		}
	})
	if err := p.Acquire(ctxT(t), testVIP); err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	var migrate []call
	for _, w := range writes(t, srv) {
		if w.Action == "MigratePrivateIpAddress" {
			migrate = append(migrate, w)
		}
	}
	want := []call{{Action: "MigratePrivateIpAddress", Body: `{"DestinationNetworkInterfaceId":"eni-ours","PrivateIpAddress":"192.0.2.100","SourceNetworkInterfaceId":"eni-peer"}`}}
	if diff := cmp.Diff(want, migrate); diff != "" {
		t.Errorf("migrations (-want +got):\n%s", diff)
	}
	for i := 0; i < 20; i++ {
		if e := f.enis[fmt.Sprintf("eni-a%02d", i)]; len(e.secondary) != 1 {
			t.Errorf("eni-a%02d (another VPC) lost its address", i)
		}
	}
	for _, r := range srv.Requests() {
		if r.Action != "DescribeNetworkInterfaces" || !strings.Contains(string(r.Body), "address-ip") {
			continue
		}
		for _, need := range []string{`"vpc-id"`, `"ip-exact-match"`, `"Limit":100`} {
			if !strings.Contains(string(r.Body), need) {
				t.Errorf("holder lookup %s lacks %s", r.Body, need)
			}
		}
	}
}

// AssignPrivateIpAddresses is asynchronous: Acquire follows its task.
func TestAssignIsAsync(t *testing.T) {
	p, srv, f := setup(t, Options{Mode: ModePrivateIP, ENIID: ourENI}, func(f *fakeCloud) {
		f.enis[peerENI].secondary = nil
		f.taskRunning = 2
	})
	if err := p.Acquire(ctxT(t), testVIP); err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	if got := f.enis[ourENI].secondary; len(got) != 1 || got[0] != vipIP {
		t.Errorf("our secondary addresses after Acquire = %v, want [%s]", got, vipIP)
	}
	if n := srv.Count("DescribeVpcTaskResult"); n < 3 {
		t.Errorf("%d task polls, want >= 3 (2 RUNNING, then SUCCESS)", n)
	}
}

// A disabled route is not a route: Verify reports it, Acquire enables or
// replaces, and of duplicate routes the enabled one elsewhere counts.
func TestRouteEnabledAndDuplicates(t *testing.T) {
	tests := []struct {
		name       string
		routes     []*fakeRoute
		wantWrites []string
	}{
		{"ours disabled", []*fakeRoute{{id: 1, dst: vipDst, gwType: gatewayType, gwID: ourIP, disabled: true}}, []string{"EnableRoutes"}},
		{"peer enabled after ours disabled", []*fakeRoute{
			{id: 1, dst: vipDst, gwType: gatewayType, gwID: peerIP},
			{id: 2, dst: vipDst, gwType: gatewayType, gwID: ourIP, disabled: true},
		}, []string{"ReplaceRoutes"}},
		{"peer disabled only", []*fakeRoute{{id: 1, dst: vipDst, gwType: gatewayType, gwID: peerIP, disabled: true}}, []string{"ReplaceRoutes", "EnableRoutes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, srv, _ := setup(t, Options{Mode: ModeRoute, RouteTableIDs: []string{"rtb-1"}, ENIID: ourENI}, func(f *fakeCloud) {
				f.tables["rtb-1"] = tt.routes
			})
			own, err := p.Verify(ctxT(t), testVIP)
			if err != nil {
				t.Fatal(err)
			}
			if own.Here {
				t.Fatalf("Verify before = %+v, want not here", own)
			}
			if err := p.Acquire(ctxT(t), testVIP); err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			var got []string
			for _, w := range writes(t, srv) {
				got = append(got, w.Action)
			}
			if diff := cmp.Diff(tt.wantWrites, got); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
			if own, err := p.Verify(ctxT(t), testVIP); err != nil || !own.Here {
				t.Errorf("Verify after = %+v, %v; want here", own, err)
			}
		})
	}
}

var _ = providers.VIP{}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A failing call is logged with its code and request id, never with the
// credential, even when the server's message echoes it.
func TestFailedCallLogsNoCredential(t *testing.T) {
	const token = "tok-SESSION-123456"
	t.Setenv("TENCENTCLOUD_SESSION_TOKEN", token)
	p, srv, _ := setup(t, Options{Mode: ModeRoute, RouteTableIDs: []string{"rtb-1"}, ENIID: ourENI}, nil)
	msg := "The provided credentials could not be validated. SecretId " + testID + " token " + token + " key secret"
	srv.FailNext("DescribeRouteTables", 1, tcResp(map[string]any{"Error": map[string]any{"Code": "AuthFailure.SignatureFailure", "Message": msg}, "RequestId": "req-auth"}))
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, nil))
	b := providers.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}
	err := providers.Retry(ctxT(t), log, b, time.Second, "acquire", func(ctx context.Context) error { return p.Acquire(ctx, testVIP) })
	if err == nil {
		t.Fatal("Acquire succeeded, want AuthFailure")
	}
	out := buf.String() + err.Error()
	for _, secret := range []string{testID, token} {
		if strings.Contains(out, secret) {
			t.Errorf("log or error contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"code=AuthFailure.SignatureFailure", "request_id=req-auth"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}

// describeENIPages follows Offset/Limit until TotalCount.
func TestDescribeENIPages(t *testing.T) {
	p, srv, _ := setup(t, Options{Mode: ModePrivateIP, ENIID: ourENI}, func(f *fakeCloud) {
		for i := 0; i < 150; i++ {
			f.enis[fmt.Sprintf("eni-p%03d", i)] = &fakeENI{instance: "ins-x", subnet: subnet, primaryIP: fmt.Sprintf("192.0.2.%d", i)}
		}
	})
	enis, err := p.describeENIPages(ctxT(t), []*vpc.Filter{filter("vpc-id", "vpc-1")})
	if err != nil {
		t.Fatal(err)
	}
	if len(enis) != 152 {
		t.Errorf("%d ENIs, want 152 (150 + ours + the peer's)", len(enis))
	}
	if n := srv.Count("DescribeNetworkInterfaces"); n != 2 {
		t.Errorf("%d pages, want 2 (Limit 100)", n)
	}
}
