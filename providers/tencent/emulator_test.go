package tencent

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vipd/vipd/providers/cloudtest"
)

// fakeCloud is a stateful emulator of the VPC 2017-03-12 actions the
// provider uses (TC3 JSON POST, X-TC-Action): Verify sees what Acquire
// wrote; a migration or assignment takes effect when its task reports
// SUCCESS.
//
// Each behaviour follows the API reference (https://www.tencentcloud.com/document/api/215/…
// pages; the per-action error codes are the "可能返回的错误码" lists of
// tencentcloud-sdk-go vpc/v20170312 client.go, v1.0.1100):
//   - DescribeNetworkInterfaces (api/215/15817): Filters vpc-id, subnet-id,
//     attachment.instance-id, is-primary, address-ip ("单IP后缀模糊匹配，
//     多IP精确匹配": one value is a suffix match, several are exact) and
//     ip-exact-match (makes one address-ip exact); Offset default 0, Limit
//     default 20, at most 100 (InvalidParameterValue.Range); Filters with
//     NetworkInterfaceIds is InvalidParameter.Coexist; an unknown filter is
//     InvalidParameter.FilterInvalidKey.
//   - AssignPrivateIpAddresses (api/215/15813) and MigratePrivateIpAddress
//     (api/215/15811) are asynchronous ("本接口为异步接口"): the RequestId is
//     the TaskId of DescribeVpcTaskResult (api/215/59037: SUCCESS, FAILED,
//     RUNNING). While a task on an ENI runs, both answer
//     UnsupportedOperation.MutexOperationTaskRunning.
//   - ReplaceRoutes (api/215/15768) of a RouteId that does not exist:
//     UnsupportedOperation.RecordNotExists; CreateRoutes (api/215/15770) of a
//     destination already routed: InvalidParameterValue.Duplicate.
//   - Routes carry Enabled (api/215/15824, Route); EnableRoutes
//     (api/215/40078) turns them on.
type fakeCloud struct {
	mu     sync.Mutex
	n      int
	havip  fakeHaVip
	enis   map[string]*fakeENI
	tables map[string][]*fakeRoute
	tasks  map[string]*fakeTask
	nextID uint64

	// taskRunning is how many polls a new task answers RUNNING;
	// taskFails makes it end FAILED instead of SUCCESS.
	taskRunning int
	taskFails   bool
}

type fakeHaVip struct {
	id, instance, eni string
	checkAssociate    bool
	assoc             []string // instance or ENI ids
}

type fakeENI struct {
	instance, subnet, primaryIP string
	vpc                         string // "" means vpc-1
	primary                     bool
	secondary                   []string
}

type fakeRoute struct {
	id                uint64
	dst, gwType, gwID string
	disabled          bool
}

type fakeTask struct {
	running int
	fail    bool
	apply   func()
	enis    []string // ENIs the task locks while it runs
}

func newFakeCloud() *fakeCloud {
	return &fakeCloud{enis: map[string]*fakeENI{}, tables: map[string][]*fakeRoute{}, tasks: map[string]*fakeTask{}, nextID: 100}
}

func tcResp(v map[string]any) cloudtest.Response {
	b, _ := json.Marshal(map[string]any{"Response": v})
	return cloudtest.Response{Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
}

// tcErr is a Tencent API error: HTTP 200 with Response.Error.
func tcErr(code, reqID string) cloudtest.Response {
	return tcResp(map[string]any{"Error": map[string]any{"Code": code, "Message": code + " (emulated)"}, "RequestId": reqID})
}

type tcFilter struct {
	Name   string
	Values []string
}

// body is the union of the request fields the emulator reads.
type body struct {
	HaVipIds                      []string
	Filters                       []tcFilter
	NetworkInterfaceIds           []string
	NetworkInterfaceId            string
	PrivateIpAddresses            []struct{ PrivateIpAddress string }
	SourceNetworkInterfaceId      string
	DestinationNetworkInterfaceId string
	PrivateIpAddress              string
	TaskId                        string
	RouteTableIds                 []string
	RouteTableId                  string
	Routes                        []struct {
		RouteId                                      uint64
		DestinationCidrBlock, GatewayType, GatewayId string
	}
	HaVipAssociationSet []struct{ HaVipId, InstanceId, InstanceType string }
	RouteIds            []uint64
	Offset              *int
	Limit               *int
}

func (b body) filter(name string) (string, bool) {
	v, ok := b.filterValues(name)
	if !ok {
		return "", false
	}
	return v[0], true
}

func (b body) filterValues(name string) ([]string, bool) {
	for _, f := range b.Filters {
		if f.Name == name && len(f.Values) > 0 {
			return f.Values, true
		}
	}
	return nil, false
}

func (e *fakeENI) vpcID() string {
	if e.vpc == "" {
		return "vpc-1"
	}
	return e.vpc
}

// addressMatch is the address-ip filter: one value without ip-exact-match
// is a suffix match, several values (or ip-exact-match) are exact.
func addressMatch(e *fakeENI, vals []string, exact bool) bool {
	ips := append([]string{e.primaryIP}, e.secondary...)
	for _, ip := range ips {
		for _, v := range vals {
			if ip == v || (!exact && len(vals) == 1 && strings.HasSuffix(ip, v)) {
				return true
			}
		}
	}
	return false
}

// busy reports whether a running task locks one of enis.
func (f *fakeCloud) busy(enis ...string) bool {
	for _, t := range f.tasks {
		if t.running <= 0 {
			continue
		}
		for _, e := range t.enis {
			if slices.Contains(enis, e) {
				return true
			}
		}
	}
	return false
}

func (f *fakeCloud) handle(r cloudtest.Request) cloudtest.Response {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	id := fmt.Sprintf("req-%04d", f.n)
	var b body
	if err := json.Unmarshal(r.Body, &b); err != nil {
		return tcErr("InvalidParameter.Json", id)
	}
	ok := func(extra map[string]any) cloudtest.Response {
		m := map[string]any{"RequestId": id}
		for k, v := range extra {
			m[k] = v
		}
		return tcResp(m)
	}
	switch r.Action {
	case "DescribeHaVips":
		var set []any
		if slices.Contains(b.HaVipIds, f.havip.id) {
			var assoc []any
			for _, a := range f.havip.assoc {
				assoc = append(assoc, map[string]any{"HaVipId": f.havip.id, "InstanceId": a, "InstanceType": "CVM"})
			}
			set = append(set, map[string]any{"HaVipId": f.havip.id, "InstanceId": f.havip.instance, "NetworkInterfaceId": f.havip.eni,
				"State": "AVAILABLE", "CheckAssociate": f.havip.checkAssociate, "HaVipAssociationSet": assoc})
		}
		return ok(map[string]any{"HaVipSet": set, "TotalCount": len(set)})
	case "AssociateHaVipInstance":
		for _, a := range b.HaVipAssociationSet {
			if a.HaVipId != f.havip.id {
				return tcErr("ResourceNotFound", id)
			}
			f.havip.assoc = append(f.havip.assoc, a.InstanceId)
		}
		return ok(nil)
	case "DescribeNetworkInterfaces":
		if len(b.NetworkInterfaceIds) > 0 && len(b.Filters) > 0 {
			return tcErr("InvalidParameter.Coexist", id)
		}
		for _, fl := range b.Filters {
			switch fl.Name {
			case "vpc-id", "subnet-id", "attachment.instance-id", "is-primary", "address-ip", "ip-exact-match", "network-interface-id":
			default:
				return tcErr("InvalidParameter.FilterInvalidKey", id)
			}
		}
		offset, limit := 0, 20
		if b.Offset != nil {
			offset = *b.Offset
		}
		if b.Limit != nil {
			limit = *b.Limit
		}
		if limit < 0 || limit > 100 || offset < 0 {
			return tcErr("InvalidParameterValue.Range", id)
		}
		exact := false
		if v, has := b.filter("ip-exact-match"); has && v == "true" {
			exact = true
		}
		var set []any
		keys := make([]string, 0, len(f.enis))
		for k := range f.enis {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, eid := range keys {
			e := f.enis[eid]
			match := len(b.NetworkInterfaceIds) == 0 || slices.Contains(b.NetworkInterfaceIds, eid)
			if v, has := b.filter("attachment.instance-id"); has && v != e.instance {
				match = false
			}
			if v, has := b.filter("is-primary"); has && (v == "true") != e.primary {
				match = false
			}
			if v, has := b.filter("vpc-id"); has && v != e.vpcID() {
				match = false
			}
			if v, has := b.filter("subnet-id"); has && v != e.subnet {
				match = false
			}
			if v, has := b.filterValues("address-ip"); has && !addressMatch(e, v, exact) {
				match = false
			}
			if !match {
				continue
			}
			ips := []any{map[string]any{"PrivateIpAddress": e.primaryIP, "Primary": true}}
			for _, s := range e.secondary {
				ips = append(ips, map[string]any{"PrivateIpAddress": s, "Primary": false})
			}
			set = append(set, map[string]any{"NetworkInterfaceId": eid, "VpcId": e.vpcID(), "SubnetId": e.subnet, "Primary": e.primary, "PrivateIpAddressSet": ips,
				"Attachment": map[string]any{"InstanceId": e.instance}})
		}
		total := len(set)
		page := []any{}
		if offset < len(set) {
			page = set[offset:min(len(set), offset+limit)]
		}
		return ok(map[string]any{"NetworkInterfaceSet": page, "TotalCount": total})
	case "AssignPrivateIpAddresses":
		e := f.enis[b.NetworkInterfaceId]
		if e == nil {
			return tcErr("ResourceNotFound", id)
		}
		if f.busy(b.NetworkInterfaceId) {
			return tcErr("UnsupportedOperation.MutexOperationTaskRunning", id)
		}
		for _, a := range b.PrivateIpAddresses {
			for _, o := range f.enis {
				if o.vpcID() == e.vpcID() && (o.primaryIP == a.PrivateIpAddress || slices.Contains(o.secondary, a.PrivateIpAddress)) {
					return tcErr("ResourceInUse", id)
				}
			}
		}
		var ips []string
		for _, a := range b.PrivateIpAddresses {
			ips = append(ips, a.PrivateIpAddress)
		}
		f.tasks[id] = &fakeTask{running: f.taskRunning, fail: f.taskFails, enis: []string{b.NetworkInterfaceId}, apply: func() {
			e.secondary = append(e.secondary, ips...)
		}}
		var set []any
		for _, ip := range ips {
			set = append(set, map[string]any{"PrivateIpAddress": ip})
		}
		return ok(map[string]any{"PrivateIpAddressSet": set})
	case "MigratePrivateIpAddress":
		src, dst := f.enis[b.SourceNetworkInterfaceId], f.enis[b.DestinationNetworkInterfaceId]
		if src == nil || dst == nil || !slices.Contains(src.secondary, b.PrivateIpAddress) {
			return tcErr("ResourceNotFound", id)
		}
		if f.busy(b.SourceNetworkInterfaceId, b.DestinationNetworkInterfaceId) {
			return tcErr("UnsupportedOperation.MutexOperationTaskRunning", id)
		}
		ip := b.PrivateIpAddress
		f.tasks[id] = &fakeTask{running: f.taskRunning, fail: f.taskFails, enis: []string{b.SourceNetworkInterfaceId, b.DestinationNetworkInterfaceId}, apply: func() {
			src.secondary = slices.DeleteFunc(src.secondary, func(a string) bool { return a == ip })
			dst.secondary = append(dst.secondary, ip)
		}}
		return ok(nil)
	case "DescribeVpcTaskResult":
		t := f.tasks[b.TaskId]
		if t == nil {
			return tcErr("ResourceNotFound", id)
		}
		switch {
		case t.running > 0:
			t.running--
			return ok(map[string]any{"Status": "RUNNING", "Output": ""})
		case t.fail:
			return ok(map[string]any{"Status": "FAILED", "Output": "ip in use (emulated)"})
		}
		if t.apply != nil {
			t.apply()
			t.apply = nil
		}
		return ok(map[string]any{"Status": "SUCCESS", "Output": "SUCCESS"})
	case "DescribeRouteTables":
		var set []any
		for _, tid := range b.RouteTableIds {
			routes, exists := f.tables[tid]
			if !exists {
				continue
			}
			var rs []any
			for _, rt := range routes {
				rs = append(rs, map[string]any{"RouteId": rt.id, "DestinationCidrBlock": rt.dst, "GatewayType": rt.gwType, "GatewayId": rt.gwID, "RouteTableId": tid,
					"Enabled": !rt.disabled, "RouteType": "USER"})
			}
			set = append(set, map[string]any{"RouteTableId": tid, "RouteSet": rs})
		}
		return ok(map[string]any{"RouteTableSet": set, "TotalCount": len(set)})
	case "ReplaceRoutes":
		for _, nr := range b.Routes {
			found := false
			for _, rt := range f.tables[b.RouteTableId] {
				if rt.id == nr.RouteId {
					rt.dst, rt.gwType, rt.gwID, found = nr.DestinationCidrBlock, nr.GatewayType, nr.GatewayId, true
				}
			}
			if !found {
				return tcErr("UnsupportedOperation.RecordNotExists", id)
			}
		}
		return ok(nil)
	case "CreateRoutes":
		if _, exists := f.tables[b.RouteTableId]; !exists {
			return tcErr("ResourceNotFound", id)
		}
		for _, nr := range b.Routes {
			for _, rt := range f.tables[b.RouteTableId] {
				if rt.dst == nr.DestinationCidrBlock && rt.gwType == nr.GatewayType && rt.gwID == nr.GatewayId {
					return tcErr("InvalidParameterValue.Duplicate", id)
				}
			}
		}
		for _, nr := range b.Routes {
			f.nextID++
			f.tables[b.RouteTableId] = append(f.tables[b.RouteTableId], &fakeRoute{id: f.nextID, dst: nr.DestinationCidrBlock, gwType: nr.GatewayType, gwID: nr.GatewayId})
		}
		return ok(nil)
	case "EnableRoutes":
		for _, rid := range b.RouteIds {
			found := false
			for _, rt := range f.tables[b.RouteTableId] {
				if rt.id == rid {
					rt.disabled, found = false, true
				}
			}
			if !found {
				return tcErr("ResourceNotFound", id)
			}
		}
		return ok(nil)
	}
	return tcErr("InvalidAction", id)
}

// newMetadata serves CVM metadata paths; hits counts requests per path.
func newMetadata(t *testing.T, values map[string]string) (*httptest.Server, func(string) int) {
	t.Helper()
	var mu sync.Mutex
	hits := map[string]int{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/latest/meta-data/")
		mu.Lock()
		hits[p]++
		mu.Unlock()
		v, ok := values[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(v))
	}))
	t.Cleanup(s.Close)
	return s, func(p string) int { mu.Lock(); defer mu.Unlock(); return hits[p] }
}
