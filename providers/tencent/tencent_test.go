package tencent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/cloudtest"
)

const (
	ourInst  = "ins-ours"
	peerInst = "ins-peer"
	ourENI   = "eni-ours"
	peerENI  = "eni-peer"
	havipID  = "havip-1"
	subnet   = "subnet-1"
	ourIP    = "192.0.2.11"
	peerIP   = "192.0.2.12"
	vipIP    = "192.0.2.100"
	vipDst   = "192.0.2.100/32"
	testID   = "AKIDTEST"
)

var testVIP = providers.VIP{Prefix: netip.MustParsePrefix("192.0.2.100/24"), Interface: "eth0"}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var fastPoll = TaskPoll{Initial: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 10}

// pair fills the emulator with our CVM and the peer's, the VIP on the peer.
func pair(f *fakeCloud) {
	f.enis[ourENI] = &fakeENI{instance: ourInst, subnet: subnet, primaryIP: ourIP, primary: true}
	f.enis[peerENI] = &fakeENI{instance: peerInst, subnet: subnet, primaryIP: peerIP, primary: true, secondary: []string{vipIP}}
	f.havip = fakeHaVip{id: havipID, instance: peerInst, eni: peerENI}
}

func setup(t testing.TB, opts Options, prep func(*fakeCloud)) (*Provider, *cloudtest.Server, *fakeCloud) {
	t.Helper()
	t.Setenv("TENCENTCLOUD_SECRET_ID", testID)
	t.Setenv("TENCENTCLOUD_SECRET_KEY", "secret")
	f := newFakeCloud()
	pair(f)
	if prep != nil {
		prep(f)
	}
	srv := cloudtest.New(cloudtest.ActionHeader("X-TC-Action"), f.handle)
	t.Cleanup(srv.Close)
	if opts.Region == "" {
		opts.Region = "ap-guangzhou"
	}
	if opts.InstanceID == "" {
		opts.InstanceID = ourInst
	}
	if opts.TaskPoll == (TaskPoll{}) {
		opts.TaskPoll = fastPoll
	}
	if opts.Confirm == (providers.Confirm{}) {
		opts.Confirm = providers.Confirm{Polls: 3, Interval: time.Millisecond}
	}
	opts.Endpoint = srv.URL
	p, err := New(context.Background(), opts, quiet())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p, srv, f
}

var readActions = map[string]bool{"DescribeHaVips": true, "DescribeNetworkInterfaces": true, "DescribeRouteTables": true, "DescribeVpcTaskResult": true}

type call struct {
	Action string
	Body   string // canonical JSON of the request body
}

func canon(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("request body %q: %v", b, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func writes(t *testing.T, srv *cloudtest.Server) []call {
	var out []call
	for _, r := range srv.Requests() {
		if !readActions[r.Action] {
			out = append(out, call{Action: r.Action, Body: canon(t, r.Body)})
		}
	}
	return out
}

func TestAcquireVerify(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		prep       func(*fakeCloud)
		afterWrite func(*fakeCloud)
		wantWrites []call
		wantBefore providers.Ownership
	}{
		{
			name:       "havip, drift range unrestricted: no write, pending until GARP",
			opts:       Options{Mode: ModeHaVip, HaVipID: havipID},
			afterWrite: func(f *fakeCloud) { f.havip.instance, f.havip.eni = ourInst, ourENI },
			wantBefore: providers.Ownership{Owner: peerInst, Detail: "havip bound to ins-peer (pending GARP)"},
		},
		{
			name:       "havip, drift range excludes us, manage_association",
			opts:       Options{Mode: ModeHaVip, HaVipID: havipID, ManageAssociation: true},
			prep:       func(f *fakeCloud) { f.havip.checkAssociate, f.havip.assoc = true, []string{peerInst} },
			afterWrite: func(f *fakeCloud) { f.havip.instance = ourInst },
			wantWrites: []call{{Action: "AssociateHaVipInstance",
				Body: `{"HaVipAssociationSet":[{"HaVipId":"havip-1","InstanceId":"ins-ours","InstanceType":"CVM"}]}`}},
			wantBefore: providers.Ownership{Owner: peerInst, Detail: "havip bound to ins-peer (pending GARP)"},
		},
		{
			name: "private-ip migrate, eni discovered, task polled",
			opts: Options{Mode: ModePrivateIP, SubnetID: subnet},
			prep: func(f *fakeCloud) { f.taskRunning = 2 },
			wantWrites: []call{{Action: "MigratePrivateIpAddress",
				Body: `{"DestinationNetworkInterfaceId":"eni-ours","PrivateIpAddress":"192.0.2.100","SourceNetworkInterfaceId":"eni-peer"}`}},
			wantBefore: providers.Ownership{Owner: peerENI, Detail: "private ip on eni-peer"},
		},
		{
			name: "private-ip nobody holds it: assign",
			opts: Options{Mode: ModePrivateIP, ENIID: ourENI},
			prep: func(f *fakeCloud) { f.enis[peerENI].secondary = nil },
			wantWrites: []call{{Action: "AssignPrivateIpAddresses",
				Body: `{"NetworkInterfaceId":"eni-ours","PrivateIpAddresses":[{"PrivateIpAddress":"192.0.2.100"}]}`}},
			wantBefore: providers.Ownership{Detail: "private ip not assigned to any eni"},
		},
		{
			name: "route replace in one table, create in another",
			opts: Options{Mode: ModeRoute, ENIID: ourENI, RouteTableIDs: []string{"rtb-1", "rtb-2"}},
			prep: func(f *fakeCloud) {
				f.tables["rtb-1"] = []*fakeRoute{{id: 7, dst: vipDst, gwType: gatewayType, gwID: peerIP}}
				f.tables["rtb-2"] = nil
			},
			wantWrites: []call{
				{Action: "ReplaceRoutes", Body: `{"RouteTableId":"rtb-1","Routes":[{"DestinationCidrBlock":"192.0.2.100/32","GatewayId":"192.0.2.11","GatewayType":"NORMAL_CVM","RouteId":7}]}`},
				{Action: "CreateRoutes", Body: `{"RouteTableId":"rtb-2","Routes":[{"DestinationCidrBlock":"192.0.2.100/32","GatewayId":"192.0.2.11","GatewayType":"NORMAL_CVM"}]}`},
			},
			wantBefore: providers.Ownership{Detail: "192.0.2.100/32 elsewhere: rtb-1: NORMAL_CVM 192.0.2.12, rtb-2: no route"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, srv, f := setup(t, tt.opts, tt.prep)
			cloudtest.Takeover[call]{
				Provider: p, Server: srv, VIP: testVIP,
				Writes:     func() []call { return writes(t, srv) },
				WantBefore: tt.wantBefore, WantWrites: tt.wantWrites,
				AfterWrite: cloudtest.Locked(&f.mu, f, tt.afterWrite),
			}.Check(t)
		})
	}
}

func TestTaskPolling(t *testing.T) {
	p, srv, _ := setup(t, Options{Mode: ModePrivateIP, ENIID: ourENI}, func(f *fakeCloud) { f.taskRunning = 3 })
	if err := p.Acquire(context.Background(), testVIP); err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	var migrateID string
	var polled []string
	for _, r := range srv.Requests() {
		switch r.Action {
		case "MigratePrivateIpAddress":
			migrateID = fmt.Sprintf("req-%04d", indexOf(srv, r)+1)
		case "DescribeVpcTaskResult":
			polled = append(polled, r.Params["TaskId"])
		}
	}
	want := []string{migrateID, migrateID, migrateID, migrateID} // 3 RUNNING + SUCCESS
	if diff := cmp.Diff(want, polled); diff != "" {
		t.Errorf("DescribeVpcTaskResult TaskIds (-want +got):\n%s", diff)
	}
}

func indexOf(srv *cloudtest.Server, r cloudtest.Request) int {
	for i, x := range srv.Requests() {
		if string(x.Body) == string(r.Body) && x.Action == r.Action {
			return i
		}
	}
	return -1
}

func TestTaskFailedAndTimeout(t *testing.T) {
	tests := []struct {
		name     string
		prep     func(*fakeCloud)
		wantCode string
	}{
		{"failed", func(f *fakeCloud) { f.taskFails = true }, "TaskFailed"},
		{"still running after the poll budget", func(f *fakeCloud) { f.taskRunning = 1000 }, "TaskTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, srv, _ := setup(t, Options{Mode: ModePrivateIP, ENIID: ourENI}, tt.prep)
			err := p.Acquire(context.Background(), testVIP)
			var ce *providers.CallError
			if !errors.As(err, &ce) || ce.Code != tt.wantCode || ce.RequestID == "" || ce.Action != "MigratePrivateIpAddress" {
				t.Fatalf("Acquire = %v, want CallError %s with the task id", err, tt.wantCode)
			}
			if n := srv.Count("DescribeVpcTaskResult"); n < 1 || n > fastPoll.Attempts {
				t.Errorf("polled %d times, want 1..%d", n, fastPoll.Attempts)
			}
			o, err := p.Verify(context.Background(), testVIP)
			if err != nil || o.Here {
				t.Errorf("Verify after a failed task = %+v, %v; want not here", o, err)
			}
		})
	}
}

func TestRequestsAreSignedTC3(t *testing.T) {
	p, srv, _ := setup(t, Options{Mode: ModePrivateIP, ENIID: ourENI}, nil)
	if err := p.Acquire(context.Background(), testVIP); err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	reqs := srv.Requests()
	if len(reqs) < 3 {
		t.Fatalf("got %v, want describe + migrate + poll", srv.Actions())
	}
	for _, r := range reqs {
		if r.Method != http.MethodPost {
			t.Errorf("%s: method %s, want POST", r.Action, r.Method)
		}
		got := map[string]string{
			"X-TC-Version": r.Header.Get("X-TC-Version"),
			"X-TC-Region":  r.Header.Get("X-TC-Region"),
			"Content-Type": r.Header.Get("Content-Type"),
		}
		want := map[string]string{"X-TC-Version": "2017-03-12", "X-TC-Region": "ap-guangzhou", "Content-Type": "application/json"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: headers (-want +got):\n%s", r.Action, diff)
		}
		if a := r.Header.Get("Authorization"); !strings.HasPrefix(a, "TC3-HMAC-SHA256 Credential="+testID+"/") || !strings.Contains(a, "/vpc/tc3_request") || !strings.Contains(a, "Signature=") {
			t.Errorf("%s: Authorization %q", r.Action, a)
		}
		if r.Header.Get("X-TC-Timestamp") == "" || r.Action == "" {
			t.Errorf("%s: X-TC-Timestamp or X-TC-Action missing", r.Action)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		resp      cloudtest.Response
		wantCode  string
		wantReq   string
		wantHTTP  int
		retryable bool
	}{
		{"throttling", tcErr("RequestLimitExceeded", "req-T"), "RequestLimitExceeded", "req-T", 200, true},
		{"internal", tcErr("InternalError", "req-I"), "InternalError", "req-I", 200, true},
		{"http 503", cloudtest.Response{Status: 503, Body: []byte("busy")}, "ClientError.HttpStatusCodeError", "", 503, true},
		{"auth", tcErr("AuthFailure.SignatureFailure", "req-A"), "AuthFailure.SignatureFailure", "req-A", 200, false},
		{"unauthorized", tcErr("UnauthorizedOperation", "req-U"), "UnauthorizedOperation", "req-U", 200, false},
		{"bad parameter", tcErr("InvalidParameterValue", "req-P"), "InvalidParameterValue", "req-P", 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, srv, _ := setup(t, Options{Mode: ModePrivateIP, ENIID: ourENI}, nil)
			srv.FailNext("MigratePrivateIpAddress", 1, tt.resp)
			err := p.Acquire(context.Background(), testVIP)
			var ce *providers.CallError
			if !errors.As(err, &ce) {
				t.Fatalf("Acquire = %v, want *providers.CallError", err)
			}
			got := [5]any{ce.Action, ce.Code, ce.RequestID, ce.HTTPCode, ce.Retryable}
			want := [5]any{"MigratePrivateIpAddress", tt.wantCode, tt.wantReq, tt.wantHTTP, tt.retryable}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("CallError [action code request_id http retryable] (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetryRecovers(t *testing.T) {
	for _, tt := range []cloudtest.RetryCase{
		{Name: "throttled twice then ok", Resp: tcErr("RequestLimitExceeded", "req-T"), Fails: 2, WantAttempts: 3},
		{Name: "5xx twice then ok", Resp: cloudtest.Response{Status: 502}, Fails: 2, WantAttempts: 3},
		{Name: "auth: no retry", Resp: tcErr("AuthFailure.SecretIdNotFound", "req-A"), Fails: 5, WantErr: true, WantAttempts: 1},
	} {
		t.Run(tt.Name, func(t *testing.T) {
			p, srv, _ := setup(t, Options{Mode: ModeRoute, ENIID: ourENI, RouteTableIDs: []string{"rtb-1"}}, func(f *fakeCloud) {
				f.tables["rtb-1"] = []*fakeRoute{{id: 7, dst: vipDst, gwType: gatewayType, gwID: peerIP}}
			})
			tt.Check(t, p, srv, testVIP, "ReplaceRoutes")
		})
	}
}

func TestDeadlineBoundsSDKCall(t *testing.T) {
	p, srv, _ := setup(t, Options{Mode: ModePrivateIP, ENIID: ourENI}, nil)
	cloudtest.CheckDeadlineBoundsCall(t, p, srv, testVIP)
}

func TestDryRunMakesNoWrite(t *testing.T) {
	for _, opts := range []Options{
		{Mode: ModeHaVip, HaVipID: havipID, ManageAssociation: true},
		{Mode: ModePrivateIP, ENIID: ourENI},
		{Mode: ModeRoute, ENIID: ourENI, RouteTableIDs: []string{"rtb-1"}},
	} {
		t.Run(opts.Mode, func(t *testing.T) {
			opts.DryRun = true
			p, srv, _ := setup(t, opts, func(f *fakeCloud) {
				f.havip.checkAssociate = true
				f.tables["rtb-1"] = []*fakeRoute{{id: 7, dst: vipDst, gwType: gatewayType, gwID: peerIP}}
			})
			if err := p.Acquire(context.Background(), testVIP); err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			if w := writes(t, srv); len(w) != 0 {
				t.Errorf("dry-run wrote %v", w)
			}
			if srv.Count("DescribeVpcTaskResult") != 0 {
				t.Errorf("dry-run polled a task it never started")
			}
		})
	}
}

func TestHaVipNotInDriftRange(t *testing.T) {
	p, srv, _ := setup(t, Options{Mode: ModeHaVip, HaVipID: havipID}, func(f *fakeCloud) { f.havip.checkAssociate, f.havip.assoc = true, []string{peerInst} })
	err := p.Acquire(context.Background(), testVIP)
	if err == nil || !strings.Contains(err.Error(), "manage_association") {
		t.Fatalf("Acquire = %v, want a clear drift-range error", err)
	}
	if w := writes(t, srv); len(w) != 0 {
		t.Errorf("wrote %v", w)
	}
}

func TestSubnetCheck(t *testing.T) {
	p, srv, _ := setup(t, Options{Mode: ModePrivateIP, ENIID: ourENI, SubnetID: "subnet-other"}, nil)
	err := p.Acquire(context.Background(), testVIP)
	if err == nil || !strings.Contains(err.Error(), "subnet") || providers.IsRetryable(err) {
		t.Fatalf("Acquire = %v, want a non-retryable subnet error", err)
	}
	if w := writes(t, srv); len(w) != 0 {
		t.Errorf("wrote %v", w)
	}
}

func TestMetadataDiscoveryAndCAMRole(t *testing.T) {
	t.Setenv("TENCENTCLOUD_SECRET_ID", "")
	t.Setenv("TENCENTCLOUD_SECRET_KEY", "")
	exp := time.Now().Add(time.Hour).Unix()
	md, hits := newMetadata(t, map[string]string{
		"instance-id": ourInst, "placement/region": "ap-shanghai", "local-ipv4": ourIP,
		"cam/security-credentials/":          "vipd-role",
		"cam/security-credentials/vipd-role": fmt.Sprintf(`{"TmpSecretId":"AKIDTMP","TmpSecretKey":"k","Token":"tok","ExpiredTime":%d,"Code":"Success"}`, exp),
	})
	f := newFakeCloud()
	pair(f)
	f.tables["rtb-1"] = []*fakeRoute{{id: 7, dst: vipDst, gwType: gatewayType, gwID: peerIP}}
	srv := cloudtest.New(cloudtest.ActionHeader("X-TC-Action"), f.handle)
	defer srv.Close()
	p, err := New(context.Background(), Options{Mode: ModeRoute, RouteTableIDs: []string{"rtb-1"}, Endpoint: srv.URL, MetadataEndpoint: md.URL + "/latest/meta-data/"}, quiet())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx := context.Background()
	if err := p.Acquire(ctx, testVIP); err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	if o, err := p.Verify(ctx, testVIP); err != nil || !o.Here {
		t.Fatalf("Verify = %+v, %v", o, err)
	}
	for _, r := range srv.Requests() {
		if a := r.Header.Get("Authorization"); !strings.Contains(a, "Credential=AKIDTMP/") || r.Header.Get("X-TC-Token") != "tok" || r.Header.Get("X-TC-Region") != "ap-shanghai" {
			t.Errorf("%s: not signed with the CAM role's temporary key: %q token %q region %q", r.Action, a, r.Header.Get("X-TC-Token"), r.Header.Get("X-TC-Region"))
		}
	}
	if n := hits("cam/security-credentials/vipd-role"); n != 1 {
		t.Errorf("role credentials fetched %d times for %d calls, want 1 (cached until near expiry)", n, len(srv.Requests()))
	}
	if w := writes(t, srv); len(w) != 1 || !strings.Contains(w[0].Body, `"GatewayId":"`+ourIP+`"`) {
		t.Errorf("writes %v, want one ReplaceRoutes to local-ipv4 %s", w, ourIP)
	}

	// Near expiry the role credential is fetched again.
	p.creds.now = func() time.Time { return time.Unix(exp, 0).Add(-time.Minute) }
	if _, err := p.Verify(ctx, testVIP); err != nil {
		t.Fatal(err)
	}
	if n := hits("cam/security-credentials/vipd-role"); n != 2 {
		t.Errorf("role credentials fetched %d times, want a refresh near expiry", n)
	}
}

func TestNoCredentials(t *testing.T) {
	t.Setenv("TENCENTCLOUD_SECRET_ID", "")
	t.Setenv("TENCENTCLOUD_SECRET_KEY", "")
	md, _ := newMetadata(t, map[string]string{})
	srv := cloudtest.New(cloudtest.ActionHeader("X-TC-Action"), newFakeCloud().handle)
	defer srv.Close()
	p, err := New(context.Background(), Options{Mode: ModePrivateIP, Region: "ap-guangzhou", InstanceID: ourInst, ENIID: ourENI, Endpoint: srv.URL, MetadataEndpoint: md.URL + "/latest/meta-data/"}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	err = p.Acquire(context.Background(), testVIP)
	if err == nil || providers.IsRetryable(err) || !strings.Contains(err.Error(), "TENCENTCLOUD_SECRET_ID") {
		t.Fatalf("Acquire = %v, want a clear non-retryable credentials error", err)
	}
	if len(srv.Requests()) != 0 {
		t.Errorf("sent %v unsigned", srv.Actions())
	}
}

func TestIPv6Rejected(t *testing.T) {
	p, srv, _ := setup(t, Options{Mode: ModeRoute, RouteTableIDs: []string{"rtb-1"}, ENIID: ourENI}, nil)
	cloudtest.CheckIPv6Rejected(t, p, srv)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		opts Options
		ok   bool
	}{
		{Options{Mode: ModeHaVip, HaVipID: "h"}, true},
		{Options{Mode: ModeHaVip}, false},
		{Options{Mode: ModeHaVip, HaVipID: "h", NoLocalAddress: true}, false},
		{Options{Mode: ModeRoute}, false},
		{Options{Mode: ModeRoute, RouteTableIDs: []string{"t"}}, true},
		{Options{Mode: ModePrivateIP}, true},
		{Options{Mode: "eip"}, false},
	}
	for _, tt := range tests {
		if err := tt.opts.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tt.opts, err, tt.ok)
		}
	}
}

// TestTwoNodesTakeover: the pair on one emulated cloud. The backup's Acquire
// migrates the VIP with one task; the old master's Verify names the new
// owner.
func TestTwoNodesTakeover(t *testing.T) {
	// The VIP starts on our ENI; node b is the peer.
	a, srv, _ := setup(t, Options{Mode: ModePrivateIP, ENIID: ourENI}, func(f *fakeCloud) {
		f.enis[peerENI].secondary, f.enis[ourENI].secondary = nil, []string{vipIP}
	})
	b, err := New(context.Background(), Options{Mode: ModePrivateIP, Region: "ap-guangzhou", InstanceID: peerInst, ENIID: peerENI, Endpoint: srv.URL, TaskPoll: fastPoll}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	cloudtest.Handover[call]{
		From: a, To: b, Server: srv, VIP: testVIP,
		Writes: func() []call { return writes(t, srv) },
		WantWrites: []call{{Action: "MigratePrivateIpAddress",
			Body: `{"DestinationNetworkInterfaceId":"eni-peer","PrivateIpAddress":"192.0.2.100","SourceNetworkInterfaceId":"eni-ours"}`}},
		WantFrom: providers.Ownership{Owner: peerENI, Detail: "private ip on eni-peer"},
	}.Check(t)
}

// TestRetryableCode checks every code of the tables, plus the families.
func TestRetryableCode(t *testing.T) {
	for code := range transientCodes {
		if !retryableCode(code) {
			t.Errorf("retryableCode(%q) = false, want true", code)
		}
		if _, dup := finalCodes[code]; dup {
			t.Errorf("%s is in both tables", code)
		}
	}
	for code := range finalCodes {
		if retryableCode(code) {
			t.Errorf("retryableCode(%q) = true, want false", code)
		}
	}
	for code, want := range map[string]bool{
		"RequestLimitExceeded.UinLimitExceeded": true, "InternalError.Other": true,
		"UnsupportedOperation.SomethingNew": false, "": false,
	} {
		if got := retryableCode(code); got != want {
			t.Errorf("retryableCode(%q) = %v, want %v", code, got, want)
		}
	}
}
