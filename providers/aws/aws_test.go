package aws

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vipd/vipd/providers"
	"github.com/vipd/vipd/providers/aws/awstest"
	"github.com/vipd/vipd/providers/cloudtest"
)

const (
	region  = "us-test-1"
	ourMAC  = "0a:00:00:00:00:aa"
	ourENI  = "eni-aaa"
	peerENI = "eni-bbb"
)

var vip = providers.VIP{Prefix: netip.MustParsePrefix("10.0.0.100/24"), Interface: "eth0"}

// env is one fake region with two instances: ours (i-aaa, eni-aaa) and the
// peer (i-bbb, eni-bbb), two route tables and one Elastic IP.
type env struct {
	ec2 *awstest.EC2
	md  *awstest.IMDS
}

func newEnv(t testing.TB, role string) *env {
	t.Helper()
	// Keep the SDK away from the host's AWS config and real credentials.
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/vipd-test")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/vipd-test")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")
	if role == "" {
		t.Setenv("AWS_ACCESS_KEY_ID", awstest.AccessKeyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", awstest.SecretAccessKey)
	} else {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	}
	ec2, err := awstest.NewServer("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ec2.Close)
	md, err := awstest.NewIMDS("", awstest.Instance{
		InstanceID: "i-aaa", Region: region, PrivateIP: "10.0.0.10", MAC: ourMAC,
		ENIs: map[string]string{ourMAC: ourENI, "0a:00:00:00:01:aa": "eni-aaa2"},
		Role: role,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(md.Close)
	ec2.AddENI(awstest.ENI{ID: ourENI, InstanceID: "i-aaa", MAC: ourMAC, PrimaryIP: "10.0.0.10"})
	ec2.AddENI(awstest.ENI{ID: peerENI, InstanceID: "i-bbb", MAC: "0a:00:00:00:00:bb", PrimaryIP: "10.0.0.11"})
	ec2.AddRouteTable("rtb-1")
	ec2.AddRouteTable("rtb-2")
	ec2.AddAddress(awstest.Address{AllocationID: "eipalloc-1", PublicIP: "203.0.113.10"})
	return &env{ec2: ec2, md: md}
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// provider builds a Provider through New (real SDK, IMDS discovery unless
// opts says otherwise) against the env's fakes.
func (e *env) provider(t testing.TB, opts Options) *Provider {
	t.Helper()
	opts.Endpoint = e.ec2.URL()
	opts.MetadataEndpoint = e.md.URL()
	if opts.Confirm == (providers.Confirm{}) {
		opts.Confirm = fastConfirm
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var log *slog.Logger
	if _, ok := t.(*testing.B); ok {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	} else {
		log = testLogger(t)
	}
	p, err := New(ctx, opts, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.ec2.Reset()
	return p
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// params returns, for the index-th request of action, the values of keys
// ("<absent>" when not sent).
func params(t *testing.T, reqs []cloudtest.Request, action string, index int, keys ...string) map[string]string {
	t.Helper()
	n := 0
	for _, r := range reqs {
		if r.Action != action {
			continue
		}
		if n == index {
			out := map[string]string{}
			for _, k := range keys {
				v, ok := r.Params[k]
				if !ok {
					v = "<absent>"
				}
				out[k] = v
			}
			return out
		}
		n++
	}
	t.Fatalf("no request #%d of %s in %v", index, action, actionsOf(reqs))
	return nil
}

func actionsOf(reqs []cloudtest.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Action)
	}
	return out
}

func TestDiscoverIMDSv2(t *testing.T) {
	e := newEnv(t, "")
	p := e.provider(t, Options{Mode: ModeSecondaryIP})
	r, inst, eni := p.Identity()
	if diff := cmp.Diff([]string{region, "i-aaa", ourENI}, []string{r, inst, eni}); diff != "" {
		t.Errorf("identity (-want +got):\n%s", diff)
	}
	reqs := e.md.Requests()
	if len(reqs) == 0 || reqs[0].Action != "PUT /latest/api/token" {
		t.Fatalf("first IMDS request = %v, want the IMDSv2 token PUT", actionsOf(reqs))
	}
	if reqs[0].Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") == "" {
		t.Errorf("token PUT without X-aws-ec2-metadata-token-ttl-seconds")
	}
	var gets []string
	for _, r := range reqs[1:] {
		if r.Method != http.MethodGet {
			continue
		}
		gets = append(gets, r.Path)
		if tok := r.Header.Get("X-Aws-Ec2-Metadata-Token"); !strings.HasPrefix(tok, "imds-token-") {
			t.Errorf("GET %s carried token %q, want the one the PUT issued", r.Path, tok)
		}
	}
	wantGets := []string{
		"/latest/dynamic/instance-identity/document", // GetRegion
		"/latest/meta-data/instance-id",
		"/latest/meta-data/mac",
		"/latest/meta-data/network/interfaces/macs/" + ourMAC + "/interface-id",
	}
	if diff := cmp.Diff(wantGets, gets); diff != "" {
		t.Errorf("IMDS GETs (-want +got):\n%s", diff)
	}
	// The fake really is v2-only: a GET without a token is refused.
	resp, err := http.Get(e.md.URL() + "/latest/meta-data/instance-id")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("tokenless GET: status %d, want 401", resp.StatusCode)
	}
}

func TestConfiguredIdentitySkipsIMDS(t *testing.T) {
	e := newEnv(t, "")
	p := e.provider(t, Options{Mode: ModeSecondaryIP, Region: "eu-test-2", InstanceID: "i-conf", ENIID: "eni-conf"})
	r, inst, eni := p.Identity()
	if diff := cmp.Diff([]string{"eu-test-2", "i-conf", "eni-conf"}, []string{r, inst, eni}); diff != "" {
		t.Errorf("identity (-want +got):\n%s", diff)
	}
	if n := len(e.md.Requests()); n != 0 {
		t.Errorf("IMDS got %d requests, want 0 when everything is configured", n)
	}
}

func TestRegionFromEnv(t *testing.T) {
	e := newEnv(t, "")
	t.Setenv("AWS_REGION", "eu-env-3")
	p := e.provider(t, Options{Mode: ModeSecondaryIP})
	r, inst, _ := p.Identity()
	if r != "eu-env-3" || inst != "i-aaa" {
		t.Errorf("region, instance = %s, %s; want eu-env-3 from AWS_REGION, i-aaa from IMDS", r, inst)
	}
	for _, a := range e.md.Actions() {
		if strings.Contains(a, "instance-identity") {
			t.Errorf("IMDS asked for the region (%s) although AWS_REGION is set", a)
		}
	}
}

func TestInstanceRoleCredentials(t *testing.T) {
	e := newEnv(t, "vipd-role")
	p := e.provider(t, Options{Mode: ModeSecondaryIP})
	if _, err := p.Verify(ctxT(t), vip); err != nil {
		t.Fatalf("Verify with instance-role credentials: %v", err)
	}
	reqs := e.ec2.Requests()
	if len(reqs) != 2 {
		t.Fatalf("EC2 requests = %v, want two DescribeNetworkInterfaces (our ENI, the holder)", actionsOf(reqs))
	}
	if got := reqs[0].Header.Get("X-Amz-Security-Token"); got != "vipd-test-session" {
		t.Errorf("X-Amz-Security-Token = %q, want the role's session token", got)
	}
}

func TestAssumeRole(t *testing.T) {
	e := newEnv(t, "")
	p := e.provider(t, Options{Mode: ModeSecondaryIP, AssumeRoleARN: "arn:aws:iam::123456789012:role/vipd", STSEndpoint: e.ec2.URL()})
	if _, err := p.Verify(ctxT(t), vip); err != nil {
		t.Fatalf("Verify with an assumed role: %v", err)
	}
	reqs := e.ec2.Requests()
	if diff := cmp.Diff([]string{"AssumeRole", "DescribeNetworkInterfaces", "DescribeNetworkInterfaces"}, actionsOf(reqs)); diff != "" {
		t.Fatalf("actions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"RoleArn": "arn:aws:iam::123456789012:role/vipd", "RoleSessionName": "vipd-i-aaa"},
		params(t, reqs, "AssumeRole", 0, "RoleArn", "RoleSessionName")); diff != "" {
		t.Errorf("AssumeRole params (-want +got):\n%s", diff)
	}
	if auth := reqs[0].Header.Get("Authorization"); !strings.Contains(auth, "Credential="+awstest.AccessKeyID+"/") || !strings.Contains(auth, "/sts/aws4_request") {
		t.Errorf("AssumeRole Authorization = %q, want signed with the base credentials for sts", auth)
	}
	if auth := reqs[1].Header.Get("Authorization"); !strings.Contains(auth, "Credential="+awstest.AssumedAccessKeyID+"/") {
		t.Errorf("EC2 Authorization = %q, want signed with the assumed role's key", auth)
	}
	if got := reqs[1].Header.Get("X-Amz-Security-Token"); got != awstest.AssumedSessionToken {
		t.Errorf("X-Amz-Security-Token = %q, want the assumed session token", got)
	}
}

func TestENIFromInterfaceMAC(t *testing.T) {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var ifi *net.Interface
	for i := range ifs {
		if len(ifs[i].HardwareAddr) == 6 {
			ifi = &ifs[i]
			break
		}
	}
	if ifi == nil {
		t.Skip("no interface with a MAC address on this host")
	}
	e := newEnv(t, "")
	e.md.Close()
	md, err := awstest.NewIMDS("", awstest.Instance{
		InstanceID: "i-aaa", Region: region, MAC: ourMAC,
		ENIs: map[string]string{ourMAC: ourENI, ifi.HardwareAddr.String(): "eni-second"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(md.Close)
	e.md = md
	p := e.provider(t, Options{Mode: ModeSecondaryIP, Interface: ifi.Name})
	if _, _, eni := p.Identity(); eni != "eni-second" {
		t.Errorf("ENI = %q, want eni-second (the ENI of %s's MAC %s)", eni, ifi.Name, ifi.HardwareAddr)
	}
	for _, a := range md.Actions() {
		if a == "GET /latest/meta-data/mac" {
			t.Errorf("asked IMDS for the primary MAC although interface %s was given", ifi.Name)
		}
	}
}

func TestDryRunLogsTheCall(t *testing.T) {
	e := newEnv(t, "")
	var buf bytes.Buffer
	ctx := ctxT(t)
	p, err := New(ctx, Options{Mode: ModeRouteTable, RouteTableIDs: []string{"rtb-1"}, DryRun: true, Endpoint: e.ec2.URL(), MetadataEndpoint: e.md.URL()},
		slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Acquire(ctx, vip); err != nil {
		t.Fatal(err)
	}
	if n := e.ec2.TotalWrites(); n != 0 {
		t.Errorf("%d writes in dry-run, want 0", n)
	}
	want := `msg="dry-run: would call" provider=aws action=CreateRoute vip=10.0.0.100/32 route_table=rtb-1 eni=eni-aaa`
	if !strings.Contains(buf.String(), want) {
		t.Errorf("log does not contain %q:\n%s", want, buf.String())
	}
}

func TestSigV4(t *testing.T) {
	e := newEnv(t, "")
	p := e.provider(t, Options{Mode: ModeSecondaryIP})
	if err := p.Acquire(ctxT(t), vip); err != nil {
		t.Fatal(err)
	}
	reqs := e.ec2.Requests()
	if len(reqs) != 4 {
		t.Fatalf("requests = %v, want Describe (our ENI) + Describe (holder) + Assign + Describe (confirm)", actionsOf(reqs))
	}
	for _, r := range reqs {
		auth := r.Header.Get("Authorization")
		want := "AWS4-HMAC-SHA256 Credential=" + awstest.AccessKeyID + "/"
		if !strings.HasPrefix(auth, want) || !strings.Contains(auth, "/"+region+"/ec2/aws4_request") {
			t.Errorf("%s: Authorization = %q, want SigV4 prefix %q scoped to %s/ec2", r.Action, auth, want, region)
		}
		if r.Header.Get("X-Amz-Date") == "" {
			t.Errorf("%s: no X-Amz-Date", r.Action)
		}
	}
	// The fake recomputed every signature; a wrong secret must be caught.
	e.ec2.SetCredentials(awstest.AccessKeyID, "another-secret")
	_, err := p.Verify(ctxT(t), vip)
	var ce *providers.CallError
	if !errors.As(err, &ce) || ce.Code != "SignatureDoesNotMatch" || ce.Retryable {
		t.Fatalf("Verify with a bad signature: err = %v, want non-retryable SignatureDoesNotMatch", err)
	}
}

func TestSecondaryIP(t *testing.T) {
	tests := []struct {
		name        string
		holder      string // ENI holding the VIP before Acquire ("" none)
		dryRun      bool
		wantActions []string
		wantHolder  string
	}{
		{"moves from peer", peerENI, false, []string{"DescribeNetworkInterfaces", "DescribeNetworkInterfaces", "AssignPrivateIpAddresses", "DescribeNetworkInterfaces"}, ourENI},
		{"unassigned", "", false, []string{"DescribeNetworkInterfaces", "DescribeNetworkInterfaces", "AssignPrivateIpAddresses", "DescribeNetworkInterfaces"}, ourENI},
		{"already here", ourENI, false, []string{"DescribeNetworkInterfaces", "DescribeNetworkInterfaces"}, ourENI},
		{"dry-run", peerENI, true, []string{"DescribeNetworkInterfaces", "DescribeNetworkInterfaces"}, peerENI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			if tt.holder != "" {
				eni, _ := e.ec2.ENI(tt.holder)
				eni.Secondary = append(eni.Secondary, "10.0.0.100")
				e.ec2.AddENI(eni)
			}
			p := e.provider(t, Options{Mode: ModeSecondaryIP, DryRun: tt.dryRun})
			if err := p.Acquire(ctxT(t), vip); err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			reqs := e.ec2.Requests()
			if diff := cmp.Diff(tt.wantActions, actionsOf(reqs)); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]string{"NetworkInterfaceId.1": ourENI},
				params(t, reqs, "DescribeNetworkInterfaces", 0, "NetworkInterfaceId.1")); diff != "" {
				t.Errorf("DescribeNetworkInterfaces (our ENI) params (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]string{
				"Filter.1.Name": "addresses.private-ip-address", "Filter.1.Value.1": "10.0.0.100",
				"Filter.2.Name": "vpc-id", "Filter.2.Value.1": "vpc-1", "MaxResults": "100",
			}, params(t, reqs, "DescribeNetworkInterfaces", 1, "Filter.1.Name", "Filter.1.Value.1", "Filter.2.Name", "Filter.2.Value.1", "MaxResults")); diff != "" {
				t.Errorf("DescribeNetworkInterfaces params (-want +got):\n%s", diff)
			}
			if len(tt.wantActions) > 2 {
				if diff := cmp.Diff(map[string]string{
					"NetworkInterfaceId": ourENI, "PrivateIpAddress.1": "10.0.0.100", "AllowReassignment": "true", "PrivateIpAddress.2": "<absent>",
				}, params(t, reqs, "AssignPrivateIpAddresses", 0, "NetworkInterfaceId", "PrivateIpAddress.1", "AllowReassignment", "PrivateIpAddress.2")); diff != "" {
					t.Errorf("AssignPrivateIpAddresses params (-want +got):\n%s", diff)
				}
			}
			if got := e.ec2.Holder("10.0.0.100"); got != tt.wantHolder {
				t.Errorf("holder = %q, want %q", got, tt.wantHolder)
			}
			own, err := p.Verify(ctxT(t), vip)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if own.Here != (tt.wantHolder == ourENI) {
				t.Errorf("Verify = %+v, want Here=%v", own, tt.wantHolder == ourENI)
			}
			if tt.wantHolder == peerENI && own.Owner != peerENI {
				t.Errorf("Verify owner = %q, want %q", own.Owner, peerENI)
			}
		})
	}
}

func TestRouteTable(t *testing.T) {
	tests := []struct {
		name        string
		routes      map[string][]awstest.Route
		dryRun      bool
		wantActions []string
		wantParams  []map[string]string // RouteTableId, DestinationCidrBlock, NetworkInterfaceId per write
		wantHere    bool
	}{
		{
			name:        "replace one, create one",
			routes:      map[string][]awstest.Route{"rtb-1": {{Destination: "10.0.0.100/32", Target: peerENI}}, "rtb-2": nil},
			wantActions: []string{"DescribeRouteTables", "ReplaceRoute", "CreateRoute"},
			wantParams: []map[string]string{
				{"RouteTableId": "rtb-1", "DestinationCidrBlock": "10.0.0.100/32", "NetworkInterfaceId": ourENI},
				{"RouteTableId": "rtb-2", "DestinationCidrBlock": "10.0.0.100/32", "NetworkInterfaceId": ourENI},
			},
			wantHere: true,
		},
		{
			name:        "blackhole is replaced",
			routes:      map[string][]awstest.Route{"rtb-1": {{Destination: "10.0.0.100/32", Target: "eni-gone"}}, "rtb-2": {{Destination: "10.0.0.100/32", Target: ourENI}}},
			wantActions: []string{"DescribeRouteTables", "ReplaceRoute"},
			wantParams:  []map[string]string{{"RouteTableId": "rtb-1", "DestinationCidrBlock": "10.0.0.100/32", "NetworkInterfaceId": ourENI}},
			wantHere:    true,
		},
		{
			name:        "already here",
			routes:      map[string][]awstest.Route{"rtb-1": {{Destination: "10.0.0.100/32", Target: ourENI}}, "rtb-2": {{Destination: "0.0.0.0/0", Target: peerENI}, {Destination: "10.0.0.100/32", Target: ourENI}}},
			wantActions: []string{"DescribeRouteTables"},
			wantHere:    true,
		},
		{
			name:        "dry-run",
			routes:      map[string][]awstest.Route{"rtb-1": {{Destination: "10.0.0.100/32", Target: peerENI}}, "rtb-2": nil},
			dryRun:      true,
			wantActions: []string{"DescribeRouteTables"},
			wantHere:    false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			for id, r := range tt.routes {
				e.ec2.AddRouteTable(id, r...)
			}
			p := e.provider(t, Options{Mode: ModeRouteTable, RouteTableIDs: []string{"rtb-1", "rtb-2"}, DryRun: tt.dryRun, NoLocalAddress: true})
			if err := p.Acquire(ctxT(t), vip); err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			reqs := e.ec2.Requests()
			// The writes to different tables run concurrently: order-free.
			if diff := cmp.Diff(tt.wantActions, actionsOf(reqs), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			if reqs[0].Action != "DescribeRouteTables" {
				t.Errorf("first action %s, want the read DescribeRouteTables", reqs[0].Action)
			}
			if diff := cmp.Diff(map[string]string{"RouteTableId.1": "rtb-1", "RouteTableId.2": "rtb-2"},
				params(t, reqs, "DescribeRouteTables", 0, "RouteTableId.1", "RouteTableId.2")); diff != "" {
				t.Errorf("DescribeRouteTables params (-want +got):\n%s", diff)
			}
			var got []map[string]string
			for i, r := range reqs {
				if awstest.IsWrite(r.Action) {
					got = append(got, params(t, reqs[i:], r.Action, 0, "RouteTableId", "DestinationCidrBlock", "NetworkInterfaceId"))
				}
			}
			byTable := cmpopts.SortSlices(func(a, b map[string]string) bool { return a["RouteTableId"] < b["RouteTableId"] })
			if diff := cmp.Diff(tt.wantParams, got, byTable); diff != "" {
				t.Errorf("write params (-want +got):\n%s", diff)
			}
			own, err := p.Verify(ctxT(t), vip)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if own.Here != tt.wantHere {
				t.Errorf("Verify = %+v, want Here=%v", own, tt.wantHere)
			}
			// A second Acquire once here writes nothing.
			if tt.wantHere {
				e.ec2.Reset()
				if err := p.Acquire(ctxT(t), vip); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{"DescribeRouteTables"}, e.ec2.Actions()); diff != "" {
					t.Errorf("second Acquire actions (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestEIP(t *testing.T) {
	tests := []struct {
		name        string
		assoc       string // ENI the EIP is associated with ("" none)
		privateIP   string // Options.PrivateIP
		wantActions []string
		wantParams  map[string]string
	}{
		{
			name: "moves from peer", assoc: peerENI,
			wantActions: []string{"DescribeNetworkInterfaces", "DescribeAddresses", "AssociateAddress"},
			wantParams:  map[string]string{"AllocationId": "eipalloc-1", "NetworkInterfaceId": ourENI, "AllowReassociation": "true", "PrivateIpAddress": "<absent>"},
		},
		{
			name: "to a given private ip", privateIP: "10.0.0.10",
			wantActions: []string{"DescribeAddresses", "AssociateAddress"},
			wantParams:  map[string]string{"AllocationId": "eipalloc-1", "NetworkInterfaceId": ourENI, "AllowReassociation": "true", "PrivateIpAddress": "10.0.0.10"},
		},
		{name: "already here", assoc: ourENI, wantActions: []string{"DescribeNetworkInterfaces", "DescribeAddresses"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			if tt.assoc != "" {
				eni, _ := e.ec2.ENI(tt.assoc)
				e.ec2.AddAddress(awstest.Address{AllocationID: "eipalloc-1", PublicIP: "203.0.113.10", AssociationID: "eipassoc-old", ENI: tt.assoc, PrivateIP: eni.PrimaryIP})
			}
			opts := Options{Mode: ModeEIP, AllocationID: "eipalloc-1", NoLocalAddress: true}
			if tt.privateIP != "" {
				opts.PrivateIP = netip.MustParseAddr(tt.privateIP)
			}
			p := e.provider(t, opts)
			eipVIP := providers.VIP{Prefix: netip.MustParsePrefix("203.0.113.10/32")}
			if err := p.Acquire(ctxT(t), eipVIP); err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			reqs := e.ec2.Requests()
			if diff := cmp.Diff(tt.wantActions, actionsOf(reqs)); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]string{"AllocationId.1": "eipalloc-1"}, params(t, reqs, "DescribeAddresses", 0, "AllocationId.1")); diff != "" {
				t.Errorf("DescribeAddresses params (-want +got):\n%s", diff)
			}
			if tt.wantParams != nil {
				if diff := cmp.Diff(tt.wantParams, params(t, reqs, "AssociateAddress", 0, "AllocationId", "NetworkInterfaceId", "AllowReassociation", "PrivateIpAddress")); diff != "" {
					t.Errorf("AssociateAddress params (-want +got):\n%s", diff)
				}
			}
			if a, _ := e.ec2.Address("eipalloc-1"); a.ENI != ourENI {
				t.Errorf("EIP associated with %q, want %q", a.ENI, ourENI)
			}
			own, err := p.Verify(ctxT(t), eipVIP)
			if err != nil || !own.Here {
				t.Errorf("Verify = %+v, %v; want Here", own, err)
			}
		})
	}
}

func TestVerifyElsewhere(t *testing.T) {
	e := newEnv(t, "")
	e.ec2.AddAddress(awstest.Address{AllocationID: "eipalloc-1", PublicIP: "203.0.113.10", AssociationID: "eipassoc-1", ENI: peerENI, PrivateIP: "10.0.0.11"})
	e.ec2.AddRouteTable("rtb-1", awstest.Route{Destination: "10.0.0.100/32", Target: ourENI})
	e.ec2.AddRouteTable("rtb-2", awstest.Route{Destination: "10.0.0.100/32", Target: peerENI})
	tests := []struct {
		name      string
		opts      Options
		wantOwner string
	}{
		{"eip", Options{Mode: ModeEIP, AllocationID: "eipalloc-1"}, peerENI},
		{"eip other private ip", Options{Mode: ModeEIP, AllocationID: "eipalloc-1", PrivateIP: netip.MustParseAddr("10.0.0.12")}, peerENI},
		{"route-table partly", Options{Mode: ModeRouteTable, RouteTableIDs: []string{"rtb-1", "rtb-2"}}, peerENI},
		{"secondary-ip nowhere", Options{Mode: ModeSecondaryIP}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.provider(t, tt.opts)
			own, err := p.Verify(ctxT(t), vip)
			if err != nil {
				t.Fatal(err)
			}
			if own.Here || own.Owner != tt.wantOwner || own.Detail == "" {
				t.Errorf("Verify = %+v, want not here, owner %q, a detail", own, tt.wantOwner)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		fail      cloudtest.Response
		want      providers.CallError // Err ignored
		wantInMsg string
	}{
		{
			name: "throttled",
			fail: awstest.ErrorResponse(503, "RequestLimitExceeded", "Request limit exceeded.", "r-throttle"),
			want: providers.CallError{Provider: "aws", Action: "AssignPrivateIpAddresses", RequestID: "r-throttle", Code: "RequestLimitExceeded", HTTPCode: 503, Retryable: true},
		},
		{
			name: "internal error",
			fail: awstest.ErrorResponse(500, "InternalError", "An internal error has occurred", "r-500"),
			want: providers.CallError{Provider: "aws", Action: "AssignPrivateIpAddresses", RequestID: "r-500", Code: "InternalError", HTTPCode: 500, Retryable: true},
		},
		{
			name:      "auth failure",
			fail:      awstest.ErrorResponse(401, "AuthFailure", "AWS was not able to validate the provided access credentials", "r-auth"),
			want:      providers.CallError{Provider: "aws", Action: "AssignPrivateIpAddresses", RequestID: "r-auth", Code: "AuthFailure", HTTPCode: 401},
			wantInMsg: "IAM policy allows ec2:AssignPrivateIpAddresses",
		},
		{
			name:      "unauthorized operation",
			fail:      awstest.ErrorResponse(403, "UnauthorizedOperation", "You are not authorized to perform this operation.", "r-403"),
			want:      providers.CallError{Provider: "aws", Action: "AssignPrivateIpAddresses", RequestID: "r-403", Code: "UnauthorizedOperation", HTTPCode: 403},
			wantInMsg: "request_id=r-403",
		},
		{
			name: "invalid parameter",
			fail: awstest.ErrorResponse(400, "InvalidParameterValue", "bad address", "r-400"),
			want: providers.CallError{Provider: "aws", Action: "AssignPrivateIpAddresses", RequestID: "r-400", Code: "InvalidParameterValue", HTTPCode: 400},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			p := e.provider(t, Options{Mode: ModeSecondaryIP})
			e.ec2.FailNext("AssignPrivateIpAddresses", 1, tt.fail)
			err := p.Acquire(ctxT(t), vip)
			var ce *providers.CallError
			if !errors.As(err, &ce) {
				t.Fatalf("Acquire err = %v, want a *providers.CallError", err)
			}
			got := *ce
			got.Err = nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CallError (-want +got):\n%s", diff)
			}
			if providers.IsRetryable(err) != tt.want.Retryable {
				t.Errorf("IsRetryable = %v", !tt.want.Retryable)
			}
			if tt.wantInMsg != "" && !strings.Contains(err.Error(), tt.wantInMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantInMsg)
			}
			// The SDK retryer is off: exactly one attempt per Acquire.
			if n := e.ec2.Count("AssignPrivateIpAddresses"); n != 1 {
				t.Errorf("AssignPrivateIpAddresses sent %d times, want 1 (SDK retries must be off)", n)
			}
		})
	}
}

func TestNetworkErrorRetryable(t *testing.T) {
	e := newEnv(t, "")
	p := e.provider(t, Options{Mode: ModeSecondaryIP})
	e.ec2.Close()
	_, err := p.Verify(ctxT(t), vip)
	var ce *providers.CallError
	if !errors.As(err, &ce) || !ce.Retryable || ce.HTTPCode != 0 || ce.Action != "DescribeNetworkInterfaces" {
		t.Fatalf("Verify against a closed endpoint: %#v, want retryable CallError without HTTP code", err)
	}
}

func TestRetryThroughThrottling(t *testing.T) {
	e := newEnv(t, "")
	e.ec2.AddENI(awstest.ENI{ID: peerENI, InstanceID: "i-bbb", PrimaryIP: "10.0.0.11", Secondary: []string{"10.0.0.100"}})
	p := e.provider(t, Options{Mode: ModeSecondaryIP})
	e.ec2.Throttle("AssignPrivateIpAddresses", 2)
	e.ec2.Throttle("DescribeNetworkInterfaces", 1)
	b := providers.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond, Multiplier: 2}
	err := providers.Retry(ctxT(t), testLogger(t), b, 2*time.Second, "acquire", func(ctx context.Context) error {
		return p.Acquire(ctx, vip)
	})
	if err != nil {
		t.Fatalf("Retry: %v", err)
	}
	want := []string{
		"DescribeNetworkInterfaces",                             // our ENI: throttled
		"DescribeNetworkInterfaces",                             // our ENI, kept from now on
		"DescribeNetworkInterfaces", "AssignPrivateIpAddresses", // throttled
		"DescribeNetworkInterfaces", "AssignPrivateIpAddresses", // throttled
		"DescribeNetworkInterfaces", "AssignPrivateIpAddresses",
		"DescribeNetworkInterfaces", // confirmed
	}
	if diff := cmp.Diff(want, e.ec2.Actions()); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if n := e.ec2.Writes("AssignPrivateIpAddresses"); n != 1 {
		t.Errorf("applied writes = %d, want 1", n)
	}
	var got []awstest.Write
	for _, w := range e.ec2.WriteLog() {
		got = append(got, awstest.Write{Action: w.Action, ENI: w.ENI, Target: w.Target})
	}
	if diff := cmp.Diff([]awstest.Write{{Action: "AssignPrivateIpAddresses", ENI: ourENI, Target: "10.0.0.100"}}, got); diff != "" {
		t.Errorf("write log (-want +got):\n%s", diff)
	}
	if got := e.ec2.Holder("10.0.0.100"); got != ourENI {
		t.Errorf("holder = %q, want %q", got, ourENI)
	}
}

func TestRetryStopsOnAuthFailure(t *testing.T) {
	e := newEnv(t, "")
	e.ec2.SetCredentials("AKIDOTHER", awstest.SecretAccessKey)
	p := e.provider(t, Options{Mode: ModeRouteTable, RouteTableIDs: []string{"rtb-1"}})
	b := providers.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}
	err := providers.Retry(ctxT(t), testLogger(t), b, time.Second, "acquire", func(ctx context.Context) error {
		return p.Acquire(ctx, vip)
	})
	var ce *providers.CallError
	if !errors.As(err, &ce) || ce.Code != "AuthFailure" || ce.Retryable {
		t.Fatalf("Retry err = %v, want non-retryable AuthFailure", err)
	}
	if n := len(e.ec2.Requests()); n != 1 {
		t.Errorf("%d requests, want 1 (no retry on auth failure)", n)
	}
}

func TestReleaseMakesNoCall(t *testing.T) {
	e := newEnv(t, "")
	for _, m := range []Options{
		{Mode: ModeSecondaryIP},
		{Mode: ModeRouteTable, RouteTableIDs: []string{"rtb-1"}},
		{Mode: ModeEIP, AllocationID: "eipalloc-1"},
	} {
		t.Run(string(m.Mode), func(t *testing.T) {
			cloudtest.CheckReleaseNoCall(t, e.provider(t, m), e.ec2.Server, vip)
		})
	}
}

func TestIPv6Refused(t *testing.T) {
	e := newEnv(t, "")
	cloudtest.CheckIPv6Rejected(t, e.provider(t, Options{Mode: ModeSecondaryIP}), e.ec2.Server)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"secondary-ip", Options{Mode: ModeSecondaryIP}, ""},
		{"route-table", Options{Mode: ModeRouteTable, RouteTableIDs: []string{"rtb-1"}}, ""},
		{"eip", Options{Mode: ModeEIP, AllocationID: "eipalloc-1"}, ""},
		{"unknown mode", Options{Mode: "havip"}, "unknown mode"},
		{"no mode", Options{}, "unknown mode"},
		{"route-table without tables", Options{Mode: ModeRouteTable}, "route_table_ids"},
		{"eip without allocation", Options{Mode: ModeEIP}, "allocation_id"},
		{"allocation outside eip", Options{Mode: ModeSecondaryIP, AllocationID: "eipalloc-1"}, "only used in eip"},
		{"ipv6 private ip", Options{Mode: ModeEIP, AllocationID: "a", PrivateIP: netip.MustParseAddr("2001:db8::1")}, "not IPv4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if (tt.wantErr == "") != (err == nil) || !strings.Contains(got, tt.wantErr) {
				t.Errorf("Validate = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestEndpointByOtherName: the fake checks the signature against the Host
// the client sent, so tests in network namespaces may reach it under any
// address.
func TestEndpointByOtherName(t *testing.T) {
	e := newEnv(t, "")
	port := e.ec2.URL()[strings.LastIndex(e.ec2.URL(), ":")+1:]
	p, err := New(ctxT(t), Options{Mode: ModeSecondaryIP, Endpoint: "http://localhost:" + port, MetadataEndpoint: e.md.URL()}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Verify(ctxT(t), vip); err != nil {
		t.Fatalf("Verify through localhost: %v", err)
	}
}
